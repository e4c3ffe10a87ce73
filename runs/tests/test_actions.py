"""Run actions and their durable side effects, against a fake Gerrit over real HTTP."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.codes import Code
from cvproto.migration import migration_pb2 as migration_pb
from runs import actions
from runs.errors import ActionError
from runs.ids import RunID
from runs.models import (
    FinishedCQDRun,
    GerritPost,
    NetrcToken,
    Run,
    RunCL,
    RunEvent,
    RunEventKind,
    RunStatus,
    VerifiedCQDRun,
)
from runs.posts import VERIFIED_OK_MESSAGE
from runs.submission import submission_order
from runs.tasks import backoff, finish_verified_run
from runs.tests.factories import BASE_TIME, make_run, make_run_of_changes

pytestmark = pytest.mark.django_db
Action = migration_pb.ReportVerifiedRunRequest.Action


def verified(run: Run, action, final_message: str = "") -> migration_pb.ReportVerifiedRunRequest:
    return migration_pb.ReportVerifiedRunRequest(
        run=migration_pb.ReportedRun(
            id=run.id, attempt=bq_pb.Attempt(key=run.cqd_attempt_key, status=bq_pb.SUCCESS)
        ),
        action=action,
        final_message=final_message,
    )


def report_verified(run: Run, request: migration_pb.ReportVerifiedRunRequest) -> None:
    """As the Migration API does: the run locked, in one transaction."""
    with transaction.atomic():
        found = actions.find_run_to_verify(run.id, run.cqd_attempt_key)
        actions.report_verified_run(found, request, actor="cqd")


def statuses(run: Run) -> list[tuple[int | None, int | None]]:
    return list(
        RunEvent.objects.filter(run=run, kind=RunEventKind.STATUS_CHANGED).values_list(
            "from_status", "to_status"
        )
    )


def test_submit_submits_every_cl_in_dependency_order_then_succeeds(gerrit, run_tasks):
    gerrit.add_change(1, project="chromium/src", depends_on=[2])
    gerrit.add_change(2, project="chromium/src")
    run = make_run_of_changes(gerrit, [1, 2])

    report_verified(run, verified(run, Action.ACTION_SUBMIT))
    run.refresh_from_db()
    assert run.status == RunStatus.WAITING_FOR_SUBMISSION
    assert gerrit.requests_to("POST", "/submit") == []

    run_tasks()
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.end_reason == "all CLs submitted"
    submitted = [r.path for r in gerrit.requests_to("POST", "/submit")]
    assert ["~2/" in p for p in submitted] == [True, False]
    assert gerrit.change(1)["status"] == gerrit.change(2)["status"] == "MERGED"
    assert RunCL.objects.filter(run=run, submit_time__isnull=True).count() == 0
    assert statuses(run) == [
        (RunStatus.RUNNING, RunStatus.WAITING_FOR_SUBMISSION),
        (RunStatus.WAITING_FOR_SUBMISSION, RunStatus.SUBMITTING),
        (RunStatus.SUBMITTING, RunStatus.SUCCEEDED),
    ]
    assert RunEvent.objects.filter(run=run, kind=RunEventKind.CL_SUBMITTED).count() == 2


def test_a_gerrit_outage_delays_submission_and_loses_nothing(gerrit, run_tasks):
    gerrit.add_change(1)
    run = make_run_of_changes(gerrit, [1])
    report_verified(run, verified(run, Action.ACTION_SUBMIT))
    gerrit.fail_next(503, count=3, path_contains="/submit")

    for _ in range(3):
        run_tasks(including_delayed=True)
        run.refresh_from_db()
        assert run.status == RunStatus.SUBMITTING
        retry = DBTaskResult.objects.get(status="READY")
        assert retry.args_kwargs["args"][0] == run.id
    run_tasks(including_delayed=True)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert RunEvent.objects.filter(run=run, kind=RunEventKind.SIDE_EFFECT_FAILED).count() == 3
    assert len(gerrit.requests_to("POST", "/submit")) == 4


def test_a_timeout_is_retried_like_an_outage(gerrit, run_tasks, settings):
    settings.GERRIT_TIMEOUT_SECONDS = 0.5
    gerrit.add_change(1)
    run = make_run_of_changes(gerrit, [1])
    report_verified(run, verified(run, Action.ACTION_SUBMIT))
    gerrit.hang_next(2, path_contains="/submit", then_answer=False)
    run_tasks()
    assert Run.objects.get(id=run.id).status == RunStatus.SUBMITTING
    run_tasks(including_delayed=True)
    assert Run.objects.get(id=run.id).status == RunStatus.SUCCEEDED


def test_a_cl_merged_by_an_earlier_attempt_counts_as_submitted(gerrit, run_tasks):
    gerrit.add_change(1)
    run = make_run_of_changes(gerrit, [1])
    report_verified(run, verified(run, Action.ACTION_SUBMIT))
    gerrit.change(1)["status"] = "MERGED"  # submitted, but the worker died before recording it
    run_tasks()
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED


def test_gerrit_refusing_a_submission_fails_the_run_with_the_reason(gerrit, run_tasks):
    gerrit.add_change(1)
    gerrit.submit_conflicts[1] = "merge conflict in a.txt"
    run = make_run_of_changes(gerrit, [1])
    report_verified(run, verified(run, Action.ACTION_SUBMIT))
    run_tasks()
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "Gerrit refused to submit" in run.end_reason
    assert "merge conflict in a.txt" in run.end_reason
    assert DBTaskResult.objects.filter(status="READY").count() == 0


@pytest.mark.parametrize(
    "action, final_message, end_status, posted",
    [
        (Action.ACTION_DRY_RUN_OK, "", RunStatus.SUCCEEDED, VERIFIED_OK_MESSAGE),
        (Action.ACTION_FAIL, "Tryjob linux-rel failed.", RunStatus.FAILED, "Tryjob linux-rel"),
    ],
)
def test_verdicts_post_their_message_on_every_cl_then_end_the_run(
    gerrit, run_tasks, action, final_message, end_status, posted
):
    gerrit.add_change(1)
    gerrit.add_change(2)
    run = make_run_of_changes(gerrit, [1, 2], mode="DRY_RUN")
    report_verified(run, verified(run, action, final_message))
    assert Run.objects.get(id=run.id).status == RunStatus.RUNNING
    run_tasks()
    run.refresh_from_db()
    assert run.status == end_status
    reviews = gerrit.requests_to("POST", "/review")
    assert len(reviews) == 2
    for review in reviews:
        assert posted in review.body["message"]
        assert review.body["tag"] == "autogenerated:cq"
        assert review.body["notify"] == "OWNER"
    assert GerritPost.objects.filter(run=run, posted_at__isnull=True).count() == 0


def test_a_verdict_message_is_posted_once_even_if_its_task_runs_again(gerrit, run_tasks):
    gerrit.add_change(1)
    run = make_run_of_changes(gerrit, [1], mode="DRY_RUN")
    report_verified(run, verified(run, Action.ACTION_FAIL, "bad"))
    gerrit.fail_next(500, path_contains="/review")
    run_tasks()
    run_tasks(including_delayed=True)
    finish_verified_run.enqueue(run.id)  # a duplicate delivery
    run_tasks()
    assert len([r for r in gerrit.requests_to("POST", "/review") if r.fault is None]) == 1
    assert Run.objects.get(id=run.id).status == RunStatus.FAILED


@pytest.mark.parametrize(
    "mode, action, code",
    [
        ("DRY_RUN", Action.ACTION_SUBMIT, Code.FAILED_PRECONDITION),
        ("FULL_RUN", Action.ACTION_DRY_RUN_OK, Code.FAILED_PRECONDITION),
        ("FULL_RUN", Action.ACTION_FAIL, Code.INVALID_ARGUMENT),
        ("DRY_RUN", Action.ACTION_UNSPECIFIED, Code.INVALID_ARGUMENT),
    ],
)
def test_a_verdict_that_does_not_fit_stores_nothing(mode, action, code):
    run = make_run(mode=mode)
    with pytest.raises(ActionError) as err:
        report_verified(run, verified(run, action))
    assert err.value.code == code
    assert not VerifiedCQDRun.objects.exists()
    assert not RunEvent.objects.filter(run=run).exists()
    assert Run.objects.get(id=run.id).status == RunStatus.RUNNING


def test_the_first_verdict_wins(gerrit, run_tasks):
    gerrit.add_change(1)
    run = make_run_of_changes(gerrit, [1], mode="DRY_RUN")
    report_verified(run, verified(run, Action.ACTION_DRY_RUN_OK))
    report_verified(run, verified(run, Action.ACTION_FAIL, "late"))
    assert VerifiedCQDRun.objects.get().action == Action.ACTION_DRY_RUN_OK
    assert DBTaskResult.objects.count() == 1


@pytest.mark.parametrize("by", ["run-id", "attempt-key"])
def test_a_run_to_verify_comes_locked_in_one_query(by):
    run = make_run()
    names = (run.id, "") if by == "run-id" else ("", run.cqd_attempt_key)
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        assert actions.find_run_to_verify(*names) == run
    assert len(captured) == 1
    if connection.vendor == "postgresql":
        assert "FOR NO KEY UPDATE" in captured[0]["sql"]


def test_a_verdict_is_looked_for_after_the_run_is_locked():
    run = make_run()
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        found = actions.find_run_to_verify(run.id, "")
        actions.report_verified_run(found, verified(run, Action.ACTION_DRY_RUN_OK), actor="cqd")
    verdict_table = VerifiedCQDRun._meta.db_table
    first_read = next(i for i, q in enumerate(captured) if verdict_table in q["sql"])
    assert first_read == 1 and captured[first_read]["sql"].startswith("SELECT")


def test_runs_sharing_an_attempt_key_each_get_their_own_verdict():
    key = "a1b2c3d4e5f60718"
    runs = [
        make_run(
            id=str(RunID.new("chromium", BASE_TIME + timedelta(hours=hours), key)),
            cqd_attempt_key=key,
            create_time=BASE_TIME + timedelta(hours=hours),
        )
        for hours in (1, 2)
    ]
    newest = min(runs, key=lambda run: run.id)  # IDs sort newest first
    older = max(runs, key=lambda run: run.id)
    report_verified(older, verified(older, Action.ACTION_DRY_RUN_OK))

    with transaction.atomic():
        found = actions.find_run_to_verify("", key)
        assert found == newest
        actions.report_verified_run(found, verified(newest, Action.ACTION_FAIL, "own"), "cqd")

    assert VerifiedCQDRun.objects.get(run=older).action == Action.ACTION_DRY_RUN_OK
    assert VerifiedCQDRun.objects.get(run=newest).action == Action.ACTION_FAIL


@pytest.mark.parametrize("names", [("chromium/0-1-unknown", ""), ("", "unknown"), ("a\x00b", "")])
def test_no_run_to_verify_is_found_for_unknown_or_impossible_names(names):
    make_run()
    with transaction.atomic():
        assert actions.find_run_to_verify(*names) is None


def test_a_verdict_on_an_ended_run_is_acknowledged_and_noted():
    run = make_run(status=RunStatus.CANCELLED)
    report_verified(run, verified(run, Action.ACTION_UNSPECIFIED))
    assert not VerifiedCQDRun.objects.exists()
    assert RunEvent.objects.get(run=run).detail == "ignored ACTION_UNSPECIFIED"


def finished(run_id: str, key: str, status, changes=()) -> migration_pb.ReportedRun:
    attempt = bq_pb.Attempt(key=key, status=status, luci_project="chromium")
    attempt.end_time.FromSeconds(1_800_000_000)
    attempt.gerrit_changes.extend(changes)
    return migration_pb.ReportedRun(id=run_id, attempt=attempt)


@pytest.mark.parametrize(
    "attempt_status, mode, end_status",
    [
        (bq_pb.ABORTED, "DRY_RUN", RunStatus.CANCELLED),
        (bq_pb.FAILURE, "DRY_RUN", RunStatus.FAILED),
        (bq_pb.INFRA_FAILURE, "FULL_RUN", RunStatus.FAILED),
        (bq_pb.SUCCESS, "DRY_RUN", RunStatus.SUCCEEDED),
    ],
)
def test_a_finished_report_ends_the_run(attempt_status, mode, end_status):
    run = make_run(mode=mode)
    actions.report_finished_run(run, finished("", run.cqd_attempt_key, attempt_status), "cqd")
    run.refresh_from_db()
    assert (run.status, run.finalized_by_cqd) == (end_status, True)
    assert run.end_time.timestamp() == 1_800_000_000
    record = FinishedCQDRun.objects.get()
    assert (record.run_id, record.reported_id) == (run.id, run.id)


def test_a_full_run_reported_successful_needs_every_cl_submitted(gerrit):
    gerrit.add_change(1)
    gerrit.add_change(2)
    run = make_run_of_changes(gerrit, [1, 2])
    submitted = bq_pb.GerritChange(
        host=gerrit.host, change=1, submit_status=bq_pb.GerritChange.SUCCESS
    )
    actions.report_finished_run(
        run, finished("", run.cqd_attempt_key, bq_pb.SUCCESS, [submitted]), "cqd"
    )
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.end_reason == f"CQDaemon reported SUCCESS but did not submit {gerrit.host}/2"


def test_finished_reports_upsert_by_attempt_key_and_end_the_run_once():
    run = make_run()
    report = finished("", run.cqd_attempt_key, bq_pb.FAILURE)
    for _ in range(3):
        actions.report_finished_run(run, report, "cqd")
    assert FinishedCQDRun.objects.count() == 1
    assert len(statuses(run)) == 1


def test_an_unclaimed_finished_report_is_kept():
    actions.report_finished_run(None, finished("", "00000000000000aa", bq_pb.SUCCESS), "cqd")
    record = FinishedCQDRun.objects.get()
    assert (record.run, record.reported_id, record.attempt_key) == (None, "", "00000000000000aa")


def test_a_finished_report_must_be_final():
    run = make_run()
    with pytest.raises(ActionError, match="STARTED is not final"):
        actions.report_finished_run(run, finished("", run.cqd_attempt_key, bq_pb.STARTED), "cqd")
    assert not FinishedCQDRun.objects.exists()


@pytest.mark.parametrize(
    "status, mode, expected",
    [
        (RunStatus.SUCCEEDED, "FULL_RUN", ("patch_committed", "")),
        (RunStatus.SUCCEEDED, "DRY_RUN", ("patch_ready_to_commit", "")),
        (RunStatus.SUCCEEDED, "QUICK_DRY_RUN", ("patch_ready_to_commit", "")),
        (RunStatus.FAILED, "FULL_RUN", ("patch_failed", "")),
        (RunStatus.CANCELLED, "DRY_RUN", ("patch_failed", "CQ bit was unchecked.")),
    ],
)
def test_run_status_events(status, mode, expected):
    assert actions.run_status_event(make_run(status=status, mode=mode)) == expected


def test_run_status_of_an_active_run_is_not_final_yet():
    run = make_run(status=RunStatus.SUBMITTING)
    with pytest.raises(ActionError, match=r"is not final yet \(SUBMITTING\)") as err:
        actions.run_status_event(run)
    assert err.value.code == Code.FAILED_PRECONDITION


def test_netrc_tokens_are_stored_encrypted_and_replaced():
    actions.report_used_netrc(["chromium"], "h.example.com", "login:one")
    actions.report_used_netrc(["chromium"], "h.example.com", "login:two")
    token = NetrcToken.objects.get()
    assert token.access_token() == "login:two"
    assert b"login:two" not in bytes(token.encrypted_access_token)


@pytest.mark.parametrize("host, token", [("", "x"), ("h", ""), ("h" * 300, "x")])
def test_netrc_reports_need_a_host_and_a_token(host, token):
    with pytest.raises(ActionError) as err:
        actions.report_used_netrc(["chromium"], host, token)
    assert err.value.code == Code.INVALID_ARGUMENT
    assert not NetrcToken.objects.exists()


def test_backoff_grows_and_is_capped():
    delays = [backoff(n).total_seconds() for n in range(12)]
    assert 5 <= delays[0] <= 6
    assert 10 <= delays[1] <= 12
    assert all(600 <= d <= 720 for d in delays[8:])


def test_submission_order_puts_dependencies_first_and_breaks_cycles_by_position(gerrit):
    gerrit.add_change(1, depends_on=[3])
    gerrit.add_change(2)
    gerrit.add_change(3, depends_on=[2])
    run = make_run_of_changes(gerrit, [1, 2, 3])
    run_cls = list(run.run_cls.select_related("cl").prefetch_related("deps"))
    assert [rc.cl.change for rc in submission_order(run_cls)] == [2, 3, 1]
