"""The demo dataset: coverage of every state an operator can meet, consistency, idempotency."""

import io
from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import Client, override_settings

from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from importers import demo
from runs.ids import RunID
from runs.models import (
    CL,
    DepKind,
    FinishedCQDRun,
    NetrcToken,
    ReportedRunsSnapshot,
    Run,
    RunMode,
    RunStatus,
    VerifiedCQDRun,
    VerifyAction,
)
from runs.serializers import change_info_from_row, run_cl_message
from tryjobs.models import (
    ExecutionLogEntry,
    ExecutionState,
    ExecutionStatus,
    LogKind,
    ResultStatus,
    Tryjob,
    TryjobStatus,
)
from tryjobs.serializers import load_execution_state, log_entry_from_row, result_from_row

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 15, 30, 45, 123456, tzinfo=UTC)


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The demo, seeded once for the module and rolled back after it (tests get savepoints)."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed()
        transaction.set_rollback(True)


# Coverage -------------------------------------------------------------------------------------


def test_runs_in_every_status_and_mode_across_projects(seeded):
    assert set(Run.objects.values_list("status", flat=True)) == set(RunStatus.values)
    assert set(Run.objects.values_list("mode", flat=True)) == set(RunMode.values)
    assert {"chromium", "angle", "webrtc", "pdfium"} <= set(
        Run.objects.values_list("project", flat=True)
    )
    assert 25 <= Run.objects.count() <= 60
    assert "chromium-review.googlesource.com" in set(CL.objects.values_list("host", flat=True))


def test_run_ids_and_attempt_keys_are_real(seeded):
    for run in Run.objects.all():
        run.clean()
        parsed = RunID.parse(run.id)
        assert parsed.project == run.project
        assert parsed.attempt_key == run.cqd_attempt_key
        assert run.create_time <= (run.start_time or run.create_time)
        assert (run.end_time is not None) == run.is_ended


def test_every_tryjob_status_and_result(seeded):
    assert set(Tryjob.objects.values_list("status", flat=True)) == set(TryjobStatus.values)
    ended = Tryjob.objects.filter(status=TryjobStatus.ENDED)
    assert {
        ResultStatus.SUCCEEDED,
        ResultStatus.FAILED_PERMANENTLY,
        ResultStatus.FAILED_TRANSIENTLY,
        ResultStatus.TIMEOUT,
    } <= set(ended.values_list("result_status", flat=True))
    triggered = Tryjob.objects.filter(status=TryjobStatus.TRIGGERED)
    assert set(triggered.values_list("result_status", flat=True)) == {ResultStatus.UNKNOWN}
    for tj in Tryjob.objects.exclude(status__in=[TryjobStatus.PENDING, TryjobStatus.UNTRIGGERED]):
        assert tj.external_id == f"buildbucket/cr-buildbucket.appspot.com/{tj.build_id}" or (
            tj.status == TryjobStatus.CANCELLED and tj.external_id.startswith("buildbucket/")
        )
        assert tj.cl_patchsets.exists()
        assert tj.reuse_key
    assert Tryjob.objects.get(status=TryjobStatus.UNTRIGGERED).untriggered_reason
    outputs = [r.output for r in map(result_from_row, ended) if r.HasField("output")]
    assert any(o.retry == o.OUTPUT_RETRY_DENIED for o in outputs)
    assert any(o.reusability.mode_allowlist for o in outputs)
    assert all(result_from_row(tj).buildbucket.infra.resultdb.invocation for tj in ended)


def test_reuse_by_another_run_and_builds_cv_did_not_launch(seeded):
    reused = Tryjob.objects.filter(reused_by__isnull=False).distinct()
    launched_elsewhere = reused.filter(launched_by__isnull=False)
    assert launched_elsewhere.exists()
    for tj in launched_elsewhere:
        assert tj.launched_by not in tj.reused_by.all()
    external = Tryjob.objects.filter(launched_by__isnull=True, status__gt=TryjobStatus.PENDING)
    on_equivalent = [tj for tj in external if tj.equivalent_name == tj.build_builder_name]
    assert on_equivalent, "a reused build that ran on the equivalent builder"


def test_multi_cl_runs_with_hard_and_soft_deps(seeded):
    multi = [run for run in Run.objects.all() if run.run_cls.count() > 1]
    assert multi
    kinds = {dep.kind for run in multi for rc in run.run_cls.all() for dep in rc.deps.all()}
    assert kinds == {DepKind.HARD, DepKind.SOFT}
    for run in multi:
        for rc in run.run_cls.select_related("cl"):
            msg = run_cl_message(rc)
            assert msg.info.current_revision in msg.info.revisions
            assert msg.info.owner.email
            assert msg.info.messages
            assert msg.files
    trigger_votes = {
        vote.value
        for run in Run.objects.exclude(mode=RunMode.NEW_PATCHSET_RUN)
        for rc in run.run_cls.select_related("cl")
        for vote in run_cl_message(rc).info.labels["Commit-Queue"].all
    }
    assert {1, 2} <= trigger_votes
    latest_votes = {
        vote.value
        for cl in CL.objects.all()
        for vote in change_info_from_row(cl).labels["Commit-Queue"].all
    }
    assert min(latest_votes) < 0, "a negative Commit-Queue vote"


# Execution states and logs --------------------------------------------------------------------


def test_execution_states_load_and_agree_with_tryjobs_and_runs(seeded):
    states = ExecutionState.objects.select_related("run")
    assert {s.status for s in states} == set(ExecutionStatus.values)
    for row in states:
        state, eversion = load_execution_state(row.run_id)
        assert state is not None and eversion == row.eversion
        run = row.run
        for execution in state.executions:
            for attempt in execution.attempts:
                assert Tryjob.objects.filter(pk=attempt.tryjob_id).exists()
            latest = execution.attempts[-1]
            tryjob = Tryjob.objects.get(pk=latest.tryjob_id)
            assert latest.status == tryjob.status, run.id
            assert latest.external_id == (tryjob.external_id or ""), run.id
        if state.status == ExecutionStatus.FAILED:
            assert run.status == RunStatus.FAILED
            assert state.failures.unsuccessful_results or state.failures.launch_failures
            assert state.HasField("end_time")
        elif state.status == ExecutionStatus.SUCCEEDED:
            assert state.HasField("end_time")
            if run.mode == RunMode.FULL_RUN:
                assert run.status in (
                    RunStatus.WAITING_FOR_SUBMISSION,
                    RunStatus.SUBMITTING,
                    RunStatus.SUCCEEDED,
                )
            else:
                assert run.status == RunStatus.SUCCEEDED
        else:
            assert run.status in (RunStatus.RUNNING, RunStatus.CANCELLED)
        if run.is_ended and state.HasField("end_time"):
            assert state.end_time.ToDatetime(UTC) <= run.end_time


def test_retries_quota_reuse_equivalents_and_launch_failures(seeded):
    states = [
        load_execution_state(r)[0] for r in ExecutionState.objects.values_list("run", flat=True)
    ]
    executions = [e for s in states for e in s.executions]
    retried = [e for e in executions if len(e.attempts) > 1]
    assert any(e.used_quota > 0 for e in retried), "a retry charged quota"
    assert any(e.attempts[0].reused and e.used_quota == 0 for e in retried), "free reused retry"
    assert any(a.reused for e in executions for a in e.attempts)
    assert any(d.HasField("equivalent_to") for s in states for d in s.requirement.definitions)
    failed = [s for s in states if s.status == ExecutionStatus.FAILED]
    assert any(s.failures.launch_failures for s in failed)
    assert any(s.failures.unsuccessful_results for s in failed)
    for s in failed:
        for launch_failure in s.failures.launch_failures:
            assert launch_failure.reason
        for unsuccessful in s.failures.unsuccessful_results:
            result = result_from_row(Tryjob.objects.get(pk=unsuccessful.tryjob_id))
            assert result.status != tryjob_pb.Result.SUCCEEDED
    for s in states:  # quota: the weight of every non-reused critical failure (§4.2)
        rc = s.requirement.retry_config
        weights = {
            tryjob_pb.Result.FAILED_PERMANENTLY: rc.failure_weight,
            tryjob_pb.Result.FAILED_TRANSIENTLY: rc.transient_failure_weight,
            tryjob_pb.Result.TIMEOUT: rc.timeout_weight,
        }
        for definition, e in zip(s.requirement.definitions, s.executions, strict=True):
            charged = sum(
                weights.get(a.result.status, 0)
                for a in e.attempts
                if definition.critical
                and not a.reused
                and a.status == TryjobStatus.ENDED
                and a.result.output.retry != a.result.output.OUTPUT_RETRY_DENIED
            )
            assert e.used_quota == charged


def test_log_tells_every_kind_in_order(seeded):
    assert set(ExecutionLogEntry.objects.values_list("kind", flat=True)) == set(LogKind.values)
    reasons = set()
    for state in ExecutionState.objects.all():
        rows = list(ExecutionLogEntry.objects.filter(run_id=state.run_id).order_by("id"))
        assert rows, state.run_id
        assert [r.time for r in rows] == sorted(r.time for r in rows)
        assert [r.state_version for r in rows] == sorted(r.state_version for r in rows)
        assert rows[-1].state_version <= state.eversion
        assert rows[0].kind in (LogKind.TRYJOBS_LAUNCHED, LogKind.TRYJOBS_REUSED)
        for row in rows:
            entry = log_entry_from_row(row)
            detail = getattr(entry, row.kind)
            reasons.add(getattr(detail, "reason", ""))
    assert {
        "insufficient quota",
        "insufficient global quota",
        "tryjob explicitly denies retry in its output",
    } <= reasons


# CQDaemon reports and netrc tokens ------------------------------------------------------------


def test_cqdaemon_reports(seeded):
    projects = set(Run.objects.values_list("project", flat=True))
    assert set(ReportedRunsSnapshot.objects.values_list("project", flat=True)) == projects
    for snapshot in ReportedRunsSnapshot.objects.all():
        for reported in snapshot.runs.select_related("run"):
            assert reported.run.status == RunStatus.RUNNING
            assert reported.attempt_key == reported.run.cqd_attempt_key
    assert FinishedCQDRun.objects.filter(run__isnull=False, run__finalized_by_cqd=True).exists()
    assert FinishedCQDRun.objects.filter(run__isnull=True, reported_id="").exists()
    assert set(VerifiedCQDRun.objects.values_list("action", flat=True)) == set(VerifyAction.values)
    for verified in VerifiedCQDRun.objects.select_related("run"):
        if verified.action == VerifyAction.FAIL:
            assert verified.final_message and verified.run.status == RunStatus.FAILED
        elif verified.action == VerifyAction.SUBMIT:
            assert verified.run.mode == RunMode.FULL_RUN
        else:
            assert verified.run.status == RunStatus.SUCCEEDED
    tokens = NetrcToken.objects.all()
    assert tokens.count() >= 2
    assert all(t.access_token().startswith(demo.DEMO_TOKEN_PREFIX) for t in tokens)


def test_command_prints_a_summary(seeded):
    assert "runs.Run" in seeded and "tryjobs.ExecutionLogEntry" in seeded
    assert "Runs by status:" in seeded and "Demo created." in seeded


# Idempotency, reset, determinism --------------------------------------------------------------


def test_second_run_adds_nothing(seeded):
    before = row_counts()
    output = seed()
    assert row_counts() == before
    assert "already present" in output


def test_reset_recreates_the_same_counts(seeded):
    before = row_counts()
    output = seed("--reset")
    assert row_counts() == before
    assert "Deleted" in output and "Demo created." in output


def test_reset_leaves_other_rows_alone(seeded):
    other = CL.objects.create(
        host="chromium-review.googlesource.com",
        change=1234,
        patchset=1,
        min_equivalent_patchset=1,
        info=b"",
    )
    token = NetrcToken(gerrit_host="chromium-review.googlesource.com")
    NetrcToken.objects.filter(gerrit_host=token.gerrit_host).delete()
    token.set_access_token("a-real-token")
    token.save()
    seed("--reset")
    assert CL.objects.filter(pk=other.pk).exists()
    assert NetrcToken.objects.get(gerrit_host=token.gerrit_host).access_token() == "a-real-token"


def test_same_time_same_demo():
    first = demo.seed_demo(NOW, reset=True)
    ids = sorted(Run.objects.values_list("id", flat=True))
    externals = sorted(
        Tryjob.objects.exclude(external_id=None).values_list("external_id", flat=True)
    )
    again = demo.seed_demo(NOW, reset=True)
    assert again.created == first.created
    assert sorted(Run.objects.values_list("id", flat=True)) == ids
    assert (
        sorted(Tryjob.objects.exclude(external_id=None).values_list("external_id", flat=True))
        == externals
    )
    assert all(t.microsecond == 0 for t in Run.objects.values_list("create_time", flat=True))


def test_naive_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        demo.seed_demo(datetime(2026, 1, 1))


# ensure_demo_admin ----------------------------------------------------------------------------


@override_settings(DEBUG=True)
def test_ensure_demo_admin_creates_a_superuser_who_can_log_in():
    out = io.StringIO()
    call_command("ensure_demo_admin", stdout=out)
    assert "Admin login: admin / cvsite-demo" in out.getvalue().splitlines()
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser and user.is_staff and user.is_active
    assert Client().login(username="admin", password="cvsite-demo")


@override_settings(DEBUG=True)
def test_ensure_demo_admin_resets_an_existing_user():
    User = get_user_model()
    User.objects.create_user("ops", password="old", is_active=False)
    out = io.StringIO()
    call_command("ensure_demo_admin", "--username", "ops", "--password", "new-pass", stdout=out)
    assert "Admin login: ops / new-pass" in out.getvalue().splitlines()
    assert User.objects.filter(username="ops").count() == 1
    assert Client().login(username="ops", password="new-pass")
    assert not Client().login(username="ops", password="old")


@override_settings(DEBUG=False)
def test_ensure_demo_admin_refuses_without_debug():
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("ensure_demo_admin", stdout=io.StringIO())
    assert not get_user_model().objects.filter(username="admin").exists()
