"""A cvsite-verified run's requirement from its project's config: at start, and when a new
config version arrives (tryjobs.config_requirements, the follow_project_config task)."""

from __future__ import annotations

import io
import itertools

import pytest
from django.core.management import CommandError, call_command
from django_tasks_db.models import DBTaskResult

from cvproto.gerrit import gerrit_pb2
from projectconfig.actions import current_version, import_config
from projectconfig.groups import import_groups
from projectconfig.tests.support import group_config
from runs.errors import ActionError, Code
from runs.models import CL, GerritPost, Run, RunCL, RunStatus, Verifier
from runs.serializers import set_served_message
from runs.tests.factories import BASE_TIME, make_run
from tryjobs import config_requirements, operations, tasks
from tryjobs.tests import actions_support
from tryjobs.tests.actions_support import state_of

pytestmark = pytest.mark.django_db

backend = actions_support.backend

GERRIT = "chromium-review.googlesource.com"
CHANGES = itertools.count(4242)


def config(*builders: str, group: str = "cq") -> str:
    return group_config(
        "".join(f"builders {{ {b} }}" for b in builders),
        name=group,
        host=GERRIT,
        project="chromium/src",
        retry="retry_config { single_quota: 1 global_quota: 2 }",
    )


LINUX = 'name: "chromium/try/linux-rel"'
MAC = 'name: "chromium/try/mac-rel"'
DOCS_ONLY = 'name: "chromium/try/docs-rel" location_filters { path_regexp: "docs/.+" }'


def run_of(
    *,
    message: str = "Title\n\nBody\n",
    files=("base/a.cc",),
    project: str = "chromium",
    gerrit_project: str = "chromium/src",
    verifier: str = Verifier.CVSITE,
) -> Run:
    if verifier == Verifier.CVSITE:
        actions_support.run_actions.set_project_verifier(project, Verifier.CVSITE, "test")
    run = make_run(project)
    info = gerrit_pb2.ChangeInfo(project=gerrit_project, ref="refs/heads/main")
    info.owner.email = "dev@example.com"
    info.current_revision = "abc"
    revision = info.revisions["abc"]
    revision.number = 1
    revision.commit.message = message
    revision.commit.parents.add(id="p1")
    cl = CL.objects.create(
        host=GERRIT, change=next(CHANGES), patchset=1, min_equivalent_patchset=1, info=b""
    )
    run_cl = RunCL(
        run=run,
        cl=cl,
        position=0,
        trigger_time=BASE_TIME,
        trigger_mode="DRY_RUN",
        trigger_account_id=1,
        patchset=1,
        min_equivalent_patchset=1,
        gerrit_project=gerrit_project,
        gerrit_ref="refs/heads/main",
        owner_email="dev@example.com",
        current_revision="abc",
        info=info.SerializeToString(),
        files=list(files),
    )
    set_served_message(run_cl).save()
    return run


def builders_of(run: Run) -> list[str]:
    return [d.buildbucket.builder.builder for d in state_of(run).requirement.definitions]


def posted(run: Run) -> list[str]:
    return list(GerritPost.objects.filter(run=run).values_list("message", flat=True))


def test_the_run_input_comes_from_its_cl_snapshots():
    run = run_of(message="T\n\nNo-Try: true\n", files=("a.cc", "b.cc"))
    (cl,) = config_requirements.run_input(run).cls
    assert (cl.host, cl.project, cl.ref, cl.owner) == (
        GERRIT,
        "chromium/src",
        "refs/heads/main",
        "dev@example.com",
    )
    assert (cl.files, cl.parent_count, cl.trigger_time) == (("a.cc", "b.cc"), 1, BASE_TIME)
    assert cl.commit_message == "T\n\nNo-Try: true\n"


def test_a_run_starts_on_the_requirement_of_its_config(backend):
    import_config("chromium", config(LINUX, DOCS_ONLY), "v1")
    run = run_of()
    outcome = config_requirements.start_from_config(run.id, "test")
    assert outcome.kind == "started"
    assert builders_of(run) == ["linux-rel"]
    assert state_of(run).requirement.retry_config.global_quota == 2
    assert len(state_of(run).executions[0].attempts) == 1  # launched by the executor
    run.refresh_from_db()
    assert (run.config_version, run.config_group) == (current_version("chromium"), "cq")


GOOGLERS_ONLY = 'name: "chromium/try/internal-rel" owner_whitelist_group: "googlers"'


def test_owner_allowlists_use_the_imported_group_memberships(backend):
    import_config("chromium", config(LINUX, GOOGLERS_ONLY), "v1")
    outsider = run_of()
    config_requirements.start_from_config(outsider.id, "test")
    assert builders_of(outsider) == ["linux-rel"]
    import_groups({"googlers": ["dev@example.com"]}, "groups.json")
    member = run_of()
    config_requirements.start_from_config(member.id, "test")
    assert builders_of(member) == ["linux-rel", "internal-rel"]


@pytest.mark.parametrize(
    ("cl", "reason"),
    [
        (
            {"message": "T\n\nCq-Include-Trybots: chromium/try:nope\n"},
            "Failed to compute tryjob requirement. Reason:\n\n"
            'builder "chromium/try/nope" is included but not defined in the LUCI project',
        ),
        (
            {"gerrit_project": "v8/v8"},
            "CV cannot verify this run: no config group watches "
            f"{GERRIT}/v8/v8 on ref refs/heads/main.",
        ),
    ],
    ids=["computation failure", "no config group"],
)
def test_a_run_that_gets_no_requirement_ends_with_the_reason_on_its_cls(backend, cl, reason):
    import_config("chromium", config(LINUX), "v1")
    run = run_of(**cl)
    assert config_requirements.start_from_config(run.id, "test").kind == "failed"
    run.refresh_from_db()
    assert (run.status, run.end_reason) == (RunStatus.FAILED, reason)
    assert posted(run) == [reason]
    assert state_of(run) is None


def test_a_project_without_config_is_refused():
    run = run_of()
    with pytest.raises(ActionError) as refused:
        config_requirements.start_from_config(run.id, "test")
    assert refused.value.code == Code.FAILED_PRECONDITION
    assert "import_config" in refused.value.message


def test_runs_cqdaemon_verifies_are_left_alone():
    import_config("chromium", config(LINUX), "v1")
    run = run_of(project="webrtc", verifier=Verifier.CQDAEMON)
    assert config_requirements.start_from_config(run.id, "test").kind == "skipped"


def follow(project: str = "chromium") -> list[str]:
    return [o.kind for o in config_requirements.follow_project_config(project, "test")]


def test_a_new_version_is_followed_through_a_durable_task(backend):
    import_config("chromium", config(LINUX), "v1")
    run = run_of()
    config_requirements.start_from_config(run.id, "test")
    import_config("chromium", config(LINUX, MAC), "v2")
    enqueued = DBTaskResult.objects.filter(task_path__endswith="follow_project_config")
    assert [t.args_kwargs["args"] for t in enqueued] == [["chromium"], ["chromium"]]  # v1, v2
    tasks.follow_project_config.call("chromium")
    assert builders_of(run) == ["linux-rel", "mac-rel"]
    assert state_of(run).requirement_version == 2
    run.refresh_from_db()
    assert run.config_version.version == 2


def test_an_equal_requirement_only_records_the_version(backend):
    import_config("chromium", config(LINUX), "v1")
    run = run_of()
    config_requirements.start_from_config(run.id, "test")
    import_config("chromium", config(LINUX, DOCS_ONLY), "v2")  # docs-rel: not for base/a.cc
    assert follow() == ["unchanged"]
    assert state_of(run).requirement_version == 1
    run.refresh_from_db()
    assert run.config_version.version == 2
    assert follow() == ["unchanged"]


def test_a_requirement_made_invalid_by_the_new_version_fails_the_run(backend):
    import_config("chromium", config(LINUX, MAC), "v1")
    run = run_of(message="T\n\nCq-Include-Trybots: chromium/try:mac-rel\n")
    config_requirements.start_from_config(run.id, "test")
    import_config("chromium", config(LINUX), "v2")
    assert follow() == ["failed"]
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.end_reason.startswith(
        "The project config has changed (version 2) and the tryjob requirement of this run "
        'became invalid. Reason:\n\nbuilder "chromium/try/mac-rel" is included'
    )


def test_cls_that_leave_the_runs_group_cancel_it(backend):
    import_config("chromium", config(LINUX), "v1")
    run = run_of()
    config_requirements.start_from_config(run.id, "test")
    import_config("chromium", config(LINUX, group="main"), "v2")
    assert follow() == ["cancelled"]
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert 'now belong to config group "main", not "cq"' in run.end_reason


def test_a_run_without_requirement_starts_and_a_hand_set_one_is_kept(backend):
    import_config("chromium", config(LINUX), "v1")
    waiting = run_of()
    by_hand = run_of()
    operations.set_requirement(
        by_hand.id, actions_support.requirement(actions_support.defn("custom")), "op"
    )
    outcomes = {
        o.run_id: o.kind for o in config_requirements.follow_project_config("chromium", "t")
    }
    assert outcomes == {waiting.id: "started", by_hand.id: "skipped"}
    assert builders_of(by_hand) == ["custom"]


def test_the_follow_config_command(backend):
    import_config("chromium", config(LINUX), "v1")
    run = run_of()
    out = io.StringIO()
    call_command("follow_config", "--run", run.id, stdout=out)
    assert f"run {run.id}: started" in out.getvalue()
    with pytest.raises(CommandError, match="either PROJECT or"):
        call_command("follow_config")


def test_a_pending_run_starts_on_its_config(backend):
    import_config("chromium", config(LINUX), "v1")
    run = run_of()
    Run.objects.filter(id=run.id).update(status=RunStatus.PENDING, start_time=None)
    outcome = operations.start_run_from_config(run.id, "run-manager")
    assert outcome.kind == "started"
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING and run.start_time is not None
    assert builders_of(run) == ["linux-rel"]
