"""commit-queue.cfg files (protobuf text format) parse with cv.config.Config."""

from __future__ import annotations

import pytest
from google.protobuf import text_format

from cvproto import build
from cvproto.cv.config import config_pb2
from cvproto.cv.internal.tryjob import storage_pb2
from cvproto.cv.v1 import run_pb2

SAMPLE = r"""
cq_status_host: "chromium-cq-status.appspot.com"
submit_options { max_burst: 4 burst_delay { seconds: 480 } }
honor_gerrit_linked_accounts: true
gerrit_listener_type: GERRIT_LISTENER_TYPE_PUBSUB
config_groups {
  name: "cq"
  gerrit {
    url: "https://chromium-review.googlesource.com"
    projects { name: "chromium/src" ref_regexp: "refs/heads/.+" }
  }
  verifiers {
    gerrit_cq_ability {
      committer_list: "project-chromium-committers"
      dry_run_access_list: "project-chromium-tryjob-access"
      allow_owner_if_submittable: DRY_RUN
    }
    tree_status { url: "https://chromium-status.appspot.com" }
    tryjob {
      builders {
        name: "chromium/try/linux-rel"
        experiment_percentage: 5
        result_visibility: COMMENT_LEVEL_RESTRICTED
        cancel_stale: NO
        location_filters {
          gerrit_host_regexp: ".*"
          gerrit_project_regexp: "chromium/src"
          gerrit_ref_regexp: ".*"
          path_regexp: "docs/.+"
          exclude: true
        }
        disable_reuse_footers: "Include-Ci-Only-Tests"
        skip_footers { key: "Skip-It" value_regexp: "yes" }
      }
      builders {
        name: "chromium/try/mac-rel"
        equivalent_to { name: "chrome/try/mac-rel" percentage: 100 owner_whitelist_group: "g" }
      }
      retry_config {
        single_quota: 1
        global_quota: 2
        failure_weight: 1
        transient_failure_weight: 1
        timeout_weight: 2
      }
    }
  }
  additional_modes {
    name: "CQ_MODE_MEGA_DRY_RUN" cq_label_value: 1
    triggering_label: "Mega-CQ" triggering_value: 1
  }
  user_limits { name: "bots" principals: "group:bots" run { max_active { unlimited: true } } }
  user_limit_default { name: "default" run { max_active { value: 10 } } }
  post_actions {
    name: "vote"
    conditions { mode: "DRY_RUN" statuses: [SUCCEEDED, FAILED] }
    vote_gerrit_labels { votes { name: "LUCI-TryBot-Result" value: -1 } }
  }
}
"""


def test_sample_config_parses():
    cfg = text_format.Parse(SAMPLE, config_pb2.Config())
    assert cfg.gerrit_listener_type == config_pb2.Config.GERRIT_LISTENER_TYPE_PUBSUB
    assert cfg.submit_options.burst_delay.seconds == 480
    (group,) = cfg.config_groups
    tryjob = group.verifiers.tryjob
    linux, mac = tryjob.builders
    assert linux.experiment_percentage == 5.0
    assert linux.cancel_stale == config_pb2.NO
    assert linux.location_filters[0].exclude
    assert linux.location_filters[0].gerrit_ref_regexp == ".*"
    assert list(linux.disable_reuse_footers) == ["Include-Ci-Only-Tests"]
    assert mac.equivalent_to.percentage == 100.0
    assert group.verifiers.gerrit_cq_ability.allow_owner_if_submittable == (
        config_pb2.Verifiers.GerritCQAbility.DRY_RUN
    )
    assert group.user_limits[0].run.max_active.WhichOneof("limit") == "unlimited"
    assert group.user_limit_default.run.max_active.value == 10
    cond = group.post_actions[0].conditions[0]
    assert list(cond.statuses) == [run_pb2.Run.SUCCEEDED, run_pb2.Run.FAILED]
    assert group.post_actions[0].vote_gerrit_labels.votes[0].value == -1

    # The config's RetryConfig is the very message type tryjob storage uses.
    req = storage_pb2.Requirement(retry_config=tryjob.retry_config)
    assert req.retry_config.timeout_weight == 2
    again = config_pb2.Config.FromString(cfg.SerializeToString())
    assert again == cfg


REAL_CONFIGS = {
    # file name: (config groups, builder entries) as documented with the data.
    "angle-commit-queue.cfg": (1, 62),
    "chromium-commit-queue.cfg": (2, 595),
    "golang-build-commit-queue.cfg": (164, 24047),
    "pdfium-commit-queue.cfg": (1, 52),
    "webrtc-commit-queue.cfg": (3, 99),
}
DATA_DIR = build.REPO_ROOT.parent / "shared" / "data"


@pytest.mark.parametrize("name", sorted(REAL_CONFIGS))
def test_real_commit_queue_cfg_parses(name):
    path = DATA_DIR / name
    assert path.is_file(), f"{path} is missing: shared/ must sit beside the checkout"
    cfg = text_format.Parse(path.read_text(encoding="utf-8"), config_pb2.Config())
    groups, builders = REAL_CONFIGS[name]
    assert len(cfg.config_groups) == groups
    assert sum(len(g.verifiers.tryjob.builders) for g in cfg.config_groups) == builders
