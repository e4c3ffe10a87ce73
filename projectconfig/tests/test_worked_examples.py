"""Every worked example of cv_config.md §9, through `manage.py compute_requirement`.

The fixture is upstream's (requirement_test.go's makeInput): CL#1 is 65566771212885957,
triggered at 1645080386 by usera; "CL#2(x)" is the next ID, a second later, owned by x, with
no files. The Gerrit host is example-review.googlesource.com rather than example.com, because
a config must name a *.googlesource.com host to pass validation; the location filters name it
the same way, so every example keeps its meaning.
"""

from __future__ import annotations

import json

import pytest

from projectconfig.actions import parse_config
from projectconfig.requirement import CompiledGroup, compute
from projectconfig.run_json import parse_run_file
from projectconfig.tests.support import (
    HOST,
    change_list,
    compute_requirement,
    group_config,
    run_dict,
)

B1 = 'builders { name: "test-proj/test/builder1" }'
B1_NAME = "test-proj/test/builder1"
B2_INCLUDABLE = 'builders { name: "test-proj/test.bucket/builder2" includable_only: true }'
B1_DIRECTIVE = "test-proj/test:builder1"
INCLUDE_B1 = f"Cq-Include-Trybots: {B1_DIRECTIVE}"
SECRET_MAIN_OPEN_EQUIVALENT = """builders {
  name: "test-proj/test/builder1" owner_whitelist_group: "secret-group"
  equivalent_to { name: "test-proj/test/equibuilder" }
}"""
SECRET_MAIN_SECRET_EQUIVALENT = """builders {
  name: "test-proj/test/builder1" owner_whitelist_group: "secret-group"
  equivalent_to { name: "test-proj/test/equibuilder" owner_whitelist_group: "other-secret-group" }
}"""
CAN_ADD = {"can_add_builds": {"usera@example.com": ["test-proj:test"]}}


def cl2(owner: str) -> dict:
    return change_list(1, owner=owner, files=())


def location(path: str, exclude: bool = False) -> str:
    return (
        f'location_filters {{ gerrit_host_regexp: "{HOST}" gerrit_project_regexp: "repo" '
        f'path_regexp: "{path}" exclude: {str(exclude).lower()} }}'
    )


def with_filters(*filters: str) -> str:
    return f'builders {{ name: "test-proj/test/builder1" {" ".join(filters)} }}'


FILTERED = with_filters(location("some/.+"))
INCLUDE_THEN_EXCLUDE = with_filters(location("some/.+"), location("some/excluded/.*", True))

# (example, builders, run, expected definitions or the failure text on stderr)
EXAMPLES = [
    ("E01", B1, run_dict(footers=[INCLUDE_B1, f"Override-Tryjobs-For-Automation: {B1_DIRECTIVE}"]),
     "Both `Cq-Include-Trybots` and `Override-Tryjobs-For-Automation`"),
    ("E02", B1, run_dict(), [f"{B1_NAME} crit"]),
    ("E02 two CLs", B1, run_dict(change_list(), cl2("userb@example.com")), [f"{B1_NAME} crit"]),
    ("E03", B1, run_dict(footers=["Cq-Include-Trybots: test-proj/test:unlisted"]),
     'builder "test-proj/test/unlisted" is included but not defined in the LUCI project'),
    ("E04", 'builders { name: "test-proj/test/builder1" owner_whitelist_group: "group-two" }',
     run_dict(footers=[INCLUDE_B1]),
     'user usera@example.com is not allowed to trigger "test-proj/test/builder1"'),
    ("E05", 'builders { name: "test-proj/test/builder1" owner_whitelist_group: "group-one" }',
     run_dict(change_list(), cl2("userd@example.com"), footers=[INCLUDE_B1]),
     'user userd@example.com is not allowed to trigger "test-proj/test/builder1"'),
    ("E06", 'builders { name: "test-proj/test/builder1" owner_whitelist_group: "group-one" }',
     run_dict(change_list(), cl2("userd@example.com"), footers=[INCLUDE_B1], can_add_builds={
         "usera@example.com": ["test-proj:test"], "userd@example.com": ["test-proj:test"]}),
     [f"{B1_NAME} crit"]),
    ("E07", B1 + B2_INCLUDABLE, run_dict(), [f"{B1_NAME} crit"]),
    ("E08", B1 + B2_INCLUDABLE,
     run_dict(footers=["Cq-Include-Trybots: test-proj/test.bucket:builder2"]),
     [f"{B1_NAME} crit", "test-proj/test.bucket/builder2 crit"]),
    ("E09", B1 + B2_INCLUDABLE,
     run_dict(footers=["Cq-Include-Trybots: luci.test-proj.test.bucket:builder2"]),
     [f"{B1_NAME} crit", "test-proj/test.bucket/builder2 crit"]),
    ("E10", SECRET_MAIN_SECRET_EQUIVALENT,
     run_dict(footers=["Cq-Include-Trybots: test-proj/test:equibuilder"]),
     'user usera@example.com is not allowed to trigger "test-proj/test/equibuilder"'),
    ("E11", SECRET_MAIN_OPEN_EQUIVALENT,
     run_dict(footers=["Cq-Include-Trybots: test-proj/test:equibuilder"]),
     ["test-proj/test/equibuilder crit"]),
    ("E12", SECRET_MAIN_SECRET_EQUIVALENT,
     run_dict(footers=["Cq-Include-Trybots: test-proj/test:equibuilder"], **CAN_ADD),
     ["test-proj/test/equibuilder crit"]),
    ("E13", 'builders { name: "test-proj/test/builder1" owner_whitelist_group: "secret-group" }',
     run_dict(), []),
    ("E14", SECRET_MAIN_OPEN_EQUIVALENT, run_dict(), ["test-proj/test/equibuilder crit"]),
    ("E15", SECRET_MAIN_SECRET_EQUIVALENT.replace("other-secret-group", "another-secret-group"),
     run_dict(), []),
    ("E17", 'builders { name: "test-proj/test/optional-builder" experiment_percentage: 0.001 }',
     run_dict(footers=["Cq-Include-Trybots: test-proj/test:optional-builder"]),
     ["test-proj/test/optional-builder crit opt"]),
    ("E18", with_filters(location("some/.+", True)),
     run_dict(change_list(files=["some/directory/contains/some/file"])), []),
    ("E19", FILTERED, run_dict(change_list(files=["some/directory/contains/some/file"])),
     [f"{B1_NAME} crit"]),
    ("E20", FILTERED, run_dict(change_list(files=["other/directory/contains/some/file"])), []),
    ("E21", FILTERED, run_dict(change_list(files=[], parents=["p1", "p2"])), [f"{B1_NAME} crit"]),
    ("E22", FILTERED,
     run_dict(change_list(files=["other/directory/contains/some/file"]),
              change_list(1, files=[], parents=["p1", "p2"])),
     [f"{B1_NAME} crit"]),
    ("E23", INCLUDE_THEN_EXCLUDE, run_dict(change_list(files=["some/excluded/file"])), []),
    ("E24", INCLUDE_THEN_EXCLUDE,
     run_dict(change_list(files=["some/excluded/file", "unknown/path"])), []),
    ("E25", INCLUDE_THEN_EXCLUDE,
     run_dict(change_list(files=["some/excluded/file", "some/readme.md"])), [f"{B1_NAME} crit"]),
    ("E26", 'builders { name: "test-proj/test/stale-default" }'
            'builders { name: "test-proj/test/stale-no" cancel_stale: NO }'
            'builders { name: "test-proj/test/stale-yes" cancel_stale: YES }',
     run_dict(),
     ["test-proj/test/stale-default crit", "test-proj/test/stale-no crit stale-skip",
      "test-proj/test/stale-yes crit"]),
    ("E27", 'builders { name: "test-proj/test/stale-no" cancel_stale: NO }'
            'builders { name: "test-proj/test/stale-yes" cancel_stale: YES }',
     run_dict(footers=["Cq-Do-Not-Cancel-Tryjobs: true"]),
     ["test-proj/test/stale-no crit stale-skip", "test-proj/test/stale-yes crit stale-skip"]),
    ("E30", B1, run_dict(footers=["Override-Tryjobs-For-Automation: test-proj/test:unlisted"]),
     'builder "test-proj/test/unlisted" is included but not defined in the LUCI project'),
    ("E31", B1, run_dict(footers=["Override-Tryjobs-For-Automation: test-proj/test:builder1",
                                   "No-Try: true"]), []),
    ("E32", 'builders { name: "test-proj/test/builder1" owner_whitelist_group: "secret-group" }',
     run_dict(footers=["Override-Tryjobs-For-Automation: test-proj/test:builder1"], **CAN_ADD),
     'user usera@example.com is not allowed to trigger "test-proj/test/builder1"'),
    ("E33", B1 + 'builders { name: "test-proj/test/builder2" }',
     run_dict(footers=["Override-Tryjobs-For-Automation: test-proj/test:builder1"]),
     [f"{B1_NAME} crit"]),
    ("E34", 'builders { name: "test-proj/test/builder1"'
            '  equivalent_to { name: "test-proj/test/builder2" } }'
            'builders { name: "test-proj/test/builder3" }',
     run_dict(footers=["Override-Tryjobs-For-Automation: test-proj/test:builder2"]),
     ["test-proj/test/builder2 crit"]),
    ("X01", 'builders { name: "p/b/main" equivalent_to { name: "p/b/alt" } }', run_dict(),
     ["p/b/main=p/b/alt crit"]),
    ("X02", 'builders { name: "p/b/main" equivalent_to { name: "p/b/alt" percentage: 100 } }',
     run_dict(), ["p/b/alt=p/b/main crit"]),
    ("X03", 'builders { name: "p/b/main" equivalent_to { name: "p/b/alt" percentage: 100 } }',
     run_dict(footers=["No-Equivalent-Builders: true"]), ["p/b/main crit"]),
    ("X04", B1 + B2_INCLUDABLE,
     run_dict(footers=["Cq-Include-Trybots: test-proj/test.bucket:builder2", "No-Try: true"]), []),
    ("X05", B1, run_dict(mode="CQ_MODE_MEGA_DRY_RUN"), []),
    ("X06", B1, run_dict(footers=["Cq-Include-Trybots: test-proj/test builder1"]),
     'The tryjob directive "test-proj/test builder1" is invalid'),
    ("X07", 'builders { name: "a/try/x" includable_only: true }'
            'builders { name: "a/try/y" includable_only: true }'
            'builders { name: "b/ci.z/w" includable_only: true }',
     run_dict(footers=["Cq-Include-Trybots:  a/try: x , y ;luci.b.ci.z:w"]),
     ["a/try/x crit", "a/try/y crit", "b/ci.z/w crit"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("builders", "run", "expected"),
    [example[1:] for example in EXAMPLES],
    ids=[example[0] for example in EXAMPLES],
)
def test_worked_example(tmp_path, builders, run, expected):
    outcome = compute_requirement(tmp_path, group_config(builders), run)
    if isinstance(expected, str):
        assert outcome.code == 3, outcome
        assert expected in outcome.stderr
        assert outcome.stderr.startswith("Failed to compute tryjob requirement. Reason:")
    else:
        assert outcome.definitions() == expected
        assert outcome.requirement["retryConfig"] == {"singleQuota": 2, "globalQuota": 8}


def test_e16_experiment_draws_over_a_thousand_cls(tmp_path):
    """20% builder, 1,000 consecutive CL IDs: the model's 218 picks, first at offsets 0, 1, 14,
    22, 23; a picked builder is optional and not critical. The command checks the first 24
    offsets, the pure core all 1,000 (a thousand commands would only time the start-up)."""
    config = group_config(
        'builders { name: "test-proj/test/optional-builder" experiment_percentage: 20 }'
    )

    def run_at(offset: int) -> dict:
        return run_dict({**change_list(), "id": change_list()["id"] + offset})

    selected = []
    for offset in range(24):
        definitions = compute_requirement(tmp_path, config, run_at(offset)).definitions()
        if definitions:
            assert definitions == ["test-proj/test/optional-builder opt"]
            selected.append(offset)
    assert selected == [0, 1, 14, 22, 23]

    group = CompiledGroup(parse_config(config, "e16").config_groups[0])
    picked = [
        offset
        for offset in range(1000)
        if compute(group, parse_run_file(json.dumps(run_at(offset))).run).definitions
    ]
    assert len(picked) == 218
    assert picked[:5] == selected


def test_e28_new_patchset_run_ignores_the_include_footer(tmp_path):
    config = group_config(
        'builders { name: "test-proj/test/builder1" mode_allowlist: "NEW_PATCHSET_RUN" }'
        + B2_INCLUDABLE,
        ability_extra='new_patchset_run_access_list: "npr"',
    )
    run = run_dict(
        mode="NEW_PATCHSET_RUN", footers=["Cq-Include-Trybots: test-proj/test.bucket:builder2"]
    )
    assert compute_requirement(tmp_path, config, run).definitions() == [f"{B1_NAME} crit"]


def test_e29_tryjob_experiments_by_owner_groups(tmp_path):
    config = group_config(
        B1,
        group_extra="""
        tryjob_experiments { name: "experiment.a" }
        tryjob_experiments { name: "experiment.b" condition {} }
        tryjob_experiments { name: "experiment.c" condition { owner_group_allowlist: "group-one" } }
        tryjob_experiments { name: "experiment.d" condition { owner_group_allowlist: "group-two" } }
        """,
    )
    (definition,) = compute_requirement(tmp_path, config, run_dict()).requirement["definitions"]
    assert definition["experiments"] == ["experiment.a", "experiment.b", "experiment.c"]


def test_g01_a_top_level_alternation_binds_loosely(tmp_path):
    """`^docs|infra$`: starts with docs, or ends with infra (upstream adds no group)."""
    config = group_config(with_filters('location_filters { path_regexp: "docs|infra" }'))
    for path, included in [
        ("docs", True),
        ("docs/readme.md", True),
        ("third_party/infra", True),
        ("src/x", False),
    ]:
        outcome = compute_requirement(tmp_path, config, run_dict(change_list(files=[path])))
        assert outcome.definitions() == ([f"{B1_NAME} crit"] if included else []), path


def test_a_run_without_retry_config_gets_none(tmp_path):
    config = group_config(B1).replace("retry_config { single_quota: 2 global_quota: 8 }", "")
    assert "retryConfig" not in compute_requirement(tmp_path, config, run_dict()).requirement


def test_definition_maker_flags_and_post_pin_copies(tmp_path):
    """TestDefinitionMaker's flagged case (RESTRICTED, 49.9%, disable_reuse, included so
    critical), plus what §8.11 copies: the builder's host, disable_reuse_footers, reuse_window."""
    config = group_config(
        'builders { name: "a/b/c" host: "other-buildbucket.appspot.com" disable_reuse: true '
        "result_visibility: COMMENT_LEVEL_RESTRICTED experiment_percentage: 49.9 "
        'disable_reuse_footers: "Include-Ci-Only-Tests" reuse_window { max_commit_distance: 3 } }'
    )
    run = run_dict(footers=["Cq-Include-Trybots: a/b:c"])
    (definition,) = compute_requirement(tmp_path, config, run).requirement["definitions"]
    assert definition == {
        "buildbucket": {
            "host": "other-buildbucket.appspot.com",
            "builder": {"project": "a", "bucket": "b", "builder": "c"},
        },
        "disableReuse": True,
        "critical": True,
        "optional": True,
        "resultVisibility": "COMMENT_LEVEL_RESTRICTED",
        "disableReuseFooters": ["Include-Ci-Only-Tests"],
        "reuseWindow": {"maxCommitDistance": 3},
    }


@pytest.mark.parametrize("name", ["", "d/e", "f/g/h/i"])
def test_definition_maker_refuses_names_without_three_parts(tmp_path, name):
    """Upstream's Definition maker panics on these; here the config is refused first."""
    outcome = compute_requirement(
        tmp_path, group_config(f'builders {{ name: "{name}" }}'), run_dict()
    )
    assert outcome.code == 2
    assert "must be project/bucket/builder" in outcome.stderr
