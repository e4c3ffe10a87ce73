"""The demo, seeded once for the module: what it covers, and that its rows are the service's.

The second half checks invariants only the real code establishes (status changes with their
events, state versions with their log entries, delivered posts on the fake Gerrit), and
replays the executor over every demo run: it finds nothing to change.
"""

from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from cvproto.codes import Code
from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from importers.demo import DEMO_HOSTS, seed_demo
from migration_api.models import ApiCall
from migration_api.service import MIGRATION
from projectconfig.models import ConfigVersion
from runs.errors import ActionError
from runs.models import (
    CL,
    DepKind,
    FinishedCQDRun,
    GerritPost,
    GerritPostPurpose,
    NetrcToken,
    ProjectVerifierChange,
    ReportedRunsSnapshot,
    Run,
    RunCL,
    RunCLDep,
    RunEvent,
    RunEventKind,
    RunMode,
    RunStatus,
    VerifiedCQDRun,
    VerifyAction,
)
from tryjobs import serializers as tryjob_serializers
from tryjobs.models import ExecutionLogEntry, ExecutionState, LogKind, Tryjob, TryjobStatus
from tryjobs.operations import run_executor
from tryjobs.verdict import failure_message

pytestmark = pytest.mark.django_db

# The real time, not a fixed one: tryjobs/ still judges reuse freshness by the real clock, so
# builds of a demo far in the past would never be reused.
NOW = timezone.now().replace(microsecond=0)
State = tryjob_pb.ExecutionState


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo's summary, seeded once and rolled back after the module (tests get savepoints)."""
    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as patch:
        # The worker drops connections that are inside a transaction: this module's, here.
        patch.setattr(db_worker, "close_old_connections", lambda: None)
        with transaction.atomic():
            yield seed_demo(NOW)
            transaction.set_rollback(True)


def states() -> dict[str, State]:
    return {
        run_id: tryjob_serializers.load_execution_state(run_id)[0]
        for run_id in ExecutionState.objects.values_list("run_id", flat=True)
    }


# Coverage ----------------------------------------------------------------------------------------


def test_several_days_of_runs_in_every_status_and_mode_over_four_projects(demo):
    runs = Run.objects.all()
    assert runs.count() >= 300
    assert set(runs.values_list("status", flat=True)) == set(RunStatus.values)
    assert set(runs.values_list("mode", flat=True)) == set(RunMode.values)
    by_project = Counter(runs.values_list("project", flat=True))
    assert set(by_project) == {"chromium", "angle", "webrtc", "pdfium"}
    assert min(by_project.values()) >= 30
    oldest = runs.order_by("create_time").first().create_time
    assert NOW - timedelta(days=4) <= oldest <= NOW - timedelta(days=3)
    assert demo.status == "created" and demo.anchor == NOW
    assert set(CL.objects.values_list("host", flat=True)) == set(DEMO_HOSTS)


def test_multi_cl_runs_depend_on_their_stacks(demo):
    stacked = RunCLDep.objects.filter(kind=DepKind.HARD)
    assert stacked.count() >= 30
    for dep in stacked.select_related("run_cl"):
        assert RunCL.objects.filter(run=dep.run_cl.run_id, cl=dep.depends_on_id).exists()


def test_retries_reuse_launch_failures_and_cancellations(demo):
    retried = [s for s in states().values() if any(len(e.attempts) > 1 for e in s.executions)]
    assert len(retried) >= 10
    # Launched, reused, ended, retried or not, discarded when the config dropped a builder.
    assert set(ExecutionLogEntry.objects.values_list("kind", flat=True)) == set(LogKind)
    # A build one run launched and another reused.
    reused = Tryjob.reused_by.through.objects.select_related("tryjob")
    assert any(r.tryjob.launched_by_id not in (None, r.run_id) for r in reused)
    assert ExecutionLogEntry.objects.filter(kind=LogKind.TRYJOBS_REUSED).exists()
    failed_launches = Tryjob.objects.filter(status=TryjobStatus.UNTRIGGERED)
    assert failed_launches.exists()
    assert all("PermissionDenied" in t.untriggered_reason for t in failed_launches)
    assert Run.objects.filter(end_reason__startswith="Failed to launch").exists()
    cancelled = Run.objects.filter(status=RunStatus.CANCELLED)
    assert cancelled.count() >= 10
    assert cancelled.filter(end_reason="replaced by a full run on the same CLs").exists()


def test_cqdaemon_and_cvsite_verified_runs(demo):
    verified_by_cvsite = Run.objects.filter(execution_state__isnull=False)
    assert set(verified_by_cvsite.values_list("project", flat=True)) == {"chromium", "angle"}
    assert set(VerifiedCQDRun.objects.values_list("action", flat=True)) == set(VerifyAction)
    assert {"webrtc", "angle"} <= set(VerifiedCQDRun.objects.values_list("run__project", flat=True))
    # angle was CQDaemon's until an operator switched it two days ago.
    [switch] = ProjectVerifierChange.objects.filter(project="angle")
    assert switch.time == NOW - timedelta(days=2)
    angle = Run.objects.filter(project="angle")
    assert not angle.filter(create_time__lt=switch.time, execution_state__isnull=False).exists()
    assert not angle.filter(create_time__gt=switch.time, cqd_verified__isnull=False).exists()
    finished = Run.objects.filter(finalized_by_cqd=True)
    assert set(finished.values_list("project", flat=True)) == {"pdfium"}
    assert finished.count() == FinishedCQDRun.objects.filter(run__isnull=False).count()
    assert FinishedCQDRun.objects.filter(run__isnull=True).count() == 1
    assert NetrcToken.objects.filter(gerrit_host__in=DEMO_HOSTS).count() == len(DEMO_HOSTS)


def test_cvsite_verified_runs_started_from_their_projects_config(demo):
    versions = ConfigVersion.objects.filter(source__startswith="demo:")
    assert {(v.project, v.version, v.imported_at < NOW - timedelta(days=4)) for v in versions} == {
        ("chromium", 1, True),
        ("angle", 1, True),
    }
    verified_by_cvsite = Run.objects.filter(execution_state__isnull=False)
    assert verified_by_cvsite.exists()
    assert not verified_by_cvsite.filter(config_version__isnull=True).exists()
    assert set(verified_by_cvsite.values_list("config_group", flat=True)) == {"cq"}
    for run in verified_by_cvsite.select_related("config_version"):
        assert run.config_version.project == run.project


def test_cqdaemons_called_the_api_successfully_and_reported_last_at_now(demo):
    calls = Counter(ApiCall.objects.values_list("method", "code"))
    assert {code for _, code in calls} == {"OK"}
    assert {method for method, _ in calls} == set(MIGRATION.methods)  # every RPC
    snapshots = ReportedRunsSnapshot.objects.all()
    assert {s.project for s in snapshots} == {"chromium", "angle", "webrtc", "pdfium"}
    assert {s.reported_at for s in snapshots} == {NOW}


# Every row is one the service wrote ------------------------------------------------------------


def test_every_ended_run_has_its_reason_and_the_status_change_that_gave_it(demo):
    for run in Run.objects.filter(status__in=RunStatus.ended()):
        assert run.end_reason, run.id
        last = run.events.filter(kind=RunEventKind.STATUS_CHANGED).order_by("id").last()
        assert (last.to_status, last.detail, last.time) == (
            run.status,
            run.end_reason,
            run.end_time,
        ), run.id


def test_every_run_has_its_history_in_order(demo):
    events = defaultdict(list)
    for run_id, kind, time in RunEvent.objects.order_by("id").values_list("run_id", "kind", "time"):
        events[run_id].append((kind, time))
    for run in Run.objects.all():
        run.clean()  # the ID names the project and ends with the attempt key
        kinds = [kind for kind, _ in events[run.id]]
        assert kinds[0] == RunEventKind.CREATED, run.id
        times = [time for _, time in events[run.id]]
        assert times == sorted(times) and times[0] == run.create_time, run.id
        if run.status != RunStatus.PENDING:
            assert kinds[1] == RunEventKind.STATUS_CHANGED and times[1] == run.start_time
        assert run.update_time >= run.create_time
        assert run.create_time <= NOW


def test_ended_runs_have_their_posts_and_submissions(demo):
    posted = set(
        GerritPost.objects.filter(purpose=GerritPostPurpose.VERIFICATION_RESULT).values_list(
            "run_id", "cl_id"
        )
    )
    for run in Run.objects.filter(status__in=RunStatus.ended()).prefetch_related("run_cls"):
        cls = [rc.cl_id for rc in run.run_cls.all()]
        if run.status == RunStatus.CANCELLED or run.finalized_by_cqd:
            continue  # nothing to say to Gerrit / CQDaemon said it itself
        if run.mode == RunMode.FULL_RUN and run.status == RunStatus.SUCCEEDED:
            assert all(rc.submit_time for rc in run.run_cls.all()), run.id
            assert run.events.filter(kind=RunEventKind.CL_SUBMITTED).count() == len(cls)
        elif run.mode != RunMode.FULL_RUN or run.status == RunStatus.FAILED:
            assert all((run.id, cl) in posted for cl in cls), run.id


def test_every_post_was_delivered_to_the_fake_gerrit(demo):
    posts = GerritPost.objects.select_related("cl")
    assert posts.filter(purpose=GerritPostPurpose.CQD_MESSAGE).exists()
    assert posts.count() >= 300
    for post in posts:
        assert post.posted_at is not None and post.attempts == 1, post.pk
        change = demo.gerrits[post.cl.host].change(post.cl.change)
        # Gerrit heads a review message with its patchset.
        assert any(m["message"].endswith(post.message) for m in change["messages"]), post.pk
    for run_cl in RunCL.objects.filter(submit_time__isnull=False).select_related("cl"):
        assert demo.gerrits[run_cl.cl.host].change(run_cl.cl.change)["status"] == "MERGED"


def test_every_state_version_has_its_log_entries(demo):
    versions = defaultdict(set)
    for run_id, version in ExecutionLogEntry.objects.values_list("run_id", "state_version"):
        versions[run_id].add(version)
    for state in ExecutionState.objects.all():
        assert versions[state.run_id] == set(range(1, state.eversion + 1)), state.run_id


def test_run_statuses_follow_their_execution_states(demo):
    for run_id, state in states().items():
        run = Run.objects.get(id=run_id)
        if state.status == State.SUCCEEDED:
            assert run.status in (
                RunStatus.WAITING_FOR_SUBMISSION,
                RunStatus.SUBMITTING,
                RunStatus.SUCCEEDED,
            ), run_id
        elif state.status == State.FAILED:
            denials = [
                tryjob_serializers.log_entry_from_row(row).retry_denied
                for row in ExecutionLogEntry.objects.filter(
                    run_id=run_id, kind=LogKind.RETRY_DENIED
                )
            ]
            assert run.status == RunStatus.FAILED, run_id
            assert run.end_reason == failure_message(state, denials), run_id
        elif run.status == RunStatus.RUNNING:
            for execution in state.executions:
                attempt = execution.attempts[-1]
                tryjob = Tryjob.objects.get(id=attempt.tryjob_id)
                assert (attempt.status, attempt.external_id or None) == (
                    tryjob.status,
                    tryjob.external_id,
                ), run_id
        else:
            assert run.status == RunStatus.CANCELLED, run_id


def test_the_executor_replayed_over_every_run_changes_nothing(demo):
    def rows():
        return (
            list(Run.objects.order_by("id").values_list("id", "status", "eversion", "end_reason")),
            list(ExecutionState.objects.order_by("run").values_list("run", "eversion", "status")),
            list(Tryjob.objects.order_by("id").values_list("id", "status", "eversion")),
            ExecutionLogEntry.objects.count(),
            RunEvent.objects.count(),
            GerritPost.objects.count(),
        )

    before = rows()
    with_state = set(ExecutionState.objects.values_list("run_id", flat=True))
    for run_id in Run.objects.values_list("id", flat=True):
        if run_id not in with_state:
            # CQDaemon's runs: the executor refuses them, or finds nothing to execute.
            with pytest.raises(ActionError) as refused:
                run_executor(run_id, "test:replay")
            assert refused.value.code == Code.FAILED_PRECONDITION
            continue
        result = run_executor(run_id, "test:replay")
        assert not result.saved and not result.log_entries, result.summary()
    assert rows() == before


def test_what_is_left_for_the_task_worker_is_the_two_submissions(demo):
    assert not DBTaskResult.objects.filter(status="FAILED").exists()
    ready = DBTaskResult.objects.filter(status="READY")
    assert sorted(ready.values_list("task_path", flat=True)) == ["runs.tasks.submit_run"] * 2
    submitting = Run.objects.get(status=RunStatus.SUBMITTING)
    assert submitting.run_cls.filter(submit_time__isnull=False).count() == 1
    assert submitting.events.filter(kind=RunEventKind.SIDE_EFFECT_FAILED).count() == 1
