"""ReportFinishedRun: CQDaemon reports an attempt it finalized, and cvsite mirrors the result.

Behaviour of upstream's 2021-06-22 "F" server (shared/reference/migration_behaviour.md §2.2):
validation in order, NOT_FOUND for an unknown run ID, the FinishedCQDRun upsert (last write
wins; stored unclaimed when no run has the attempt), and the run ended once from the attempt's
status (a FULL_RUN succeeds only if every CL was submitted). Through a live cvsite, with binary
and JSON bodies.
"""

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from google.protobuf import empty_pb2

from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.migration import migration_pb2 as migration_pb
from cvproto.times import to_timestamp
from migration_api.tests.rpc_support import (
    ACTOR,
    ATTEMPT_END,
    HOST,
    UNKNOWN_KEY,
    UNKNOWN_RUN_ID,
    assert_calls,
    events,
    finished_request,
    live,
    make_run_with_cls,
    no_side_effects,
    rpc_error,
    status_changes,
)
from prpc.codes import Code
from runs import serializers
from runs.models import FinishedCQDRun, GerritPost, RunEvent, RunEventKind, RunStatus


@live
@pytest.mark.parametrize(
    "request_",
    [
        migration_pb.ReportFinishedRunRequest(),
        migration_pb.ReportFinishedRunRequest(run=migration_pb.ReportedRun(id=UNKNOWN_RUN_ID)),
        # Checked before the gerrit changes.
        migration_pb.ReportFinishedRunRequest(
            run=migration_pb.ReportedRun(attempt=bq_pb.Attempt(luci_project="chromium"))
        ),
    ],
    ids=["empty", "no-attempt", "no-key"],
)
def test_report_finished_run_requires_the_attempt_key(api, request_):
    error = rpc_error(Code.INVALID_ARGUMENT, api.ReportFinishedRun, request_)
    assert error.message == "attempt key is required"
    no_side_effects()
    assert_calls(("ReportFinishedRun", "INVALID_ARGUMENT"))


@live
def test_report_finished_run_requires_gerrit_changes(api):
    run, _ = make_run_with_cls()
    request = finished_request(run)
    del request.run.attempt.gerrit_changes[:]
    error = rpc_error(Code.INVALID_ARGUMENT, api.ReportFinishedRun, request)
    assert error.message == "at least 1 gerrit change is required"
    no_side_effects(run)
    assert_calls(("ReportFinishedRun", "INVALID_ARGUMENT"))


@live
def test_report_finished_run_for_an_unknown_run_id_is_not_found(api):
    run, _ = make_run_with_cls()
    request = finished_request(run)
    request.run.id = UNKNOWN_RUN_ID  # the attempt key of an existing run does not matter
    error = rpc_error(Code.NOT_FOUND, api.ReportFinishedRun, request)
    assert error.message == f"Run {UNKNOWN_RUN_ID!r} does not exist"
    no_side_effects(run)
    assert_calls(("ReportFinishedRun", "NOT_FOUND"))


@live
def test_report_finished_run_without_a_run_is_stored_unclaimed(api):
    attempt = bq_pb.Attempt(
        key=UNKNOWN_KEY,
        luci_project="chromium",
        status=bq_pb.FAILURE,
        substatus=bq_pb.FAILED_TRYJOBS,
        end_time=to_timestamp(ATTEMPT_END),
        gerrit_changes=[bq_pb.GerritChange(host=HOST, change=77, patchset=3)],
    )
    request = migration_pb.ReportFinishedRunRequest(run=migration_pb.ReportedRun(attempt=attempt))
    before = timezone.now()

    assert api.ReportFinishedRun(request) == empty_pb2.Empty()

    row = FinishedCQDRun.objects.get()
    assert (row.attempt_key, row.reported_id, row.run_id) == (UNKNOWN_KEY, "", None)
    assert (row.attempt_project, row.attempt_status, row.attempt_substatus) == (
        "chromium",
        bq_pb.FAILURE,
        bq_pb.FAILED_TRYJOBS,
    )
    assert row.attempt_end_time == ATTEMPT_END
    assert before <= row.update_time <= timezone.now()
    assert serializers.reported_run_from_row(row) == request.run
    assert RunEvent.objects.count() == 0
    assert_calls(("ReportFinishedRun", "OK"))


@live
def test_an_unclaimed_report_needs_the_attempts_project(api):
    request = migration_pb.ReportFinishedRunRequest(
        run=migration_pb.ReportedRun(
            attempt=bq_pb.Attempt(
                key=UNKNOWN_KEY,
                status=bq_pb.SUCCESS,
                gerrit_changes=[bq_pb.GerritChange(host=HOST, change=77)],
            )
        )
    )
    rpc_error(Code.INVALID_ARGUMENT, api.ReportFinishedRun, request)
    no_side_effects()
    assert_calls(("ReportFinishedRun", "INVALID_ARGUMENT"))


@live
@pytest.mark.parametrize("with_id", [True, False], ids=["by-id", "by-attempt-key"])
@pytest.mark.parametrize(
    "attempt_status, run_status",
    [
        (bq_pb.SUCCESS, RunStatus.SUCCEEDED),
        (bq_pb.ABORTED, RunStatus.CANCELLED),
        (bq_pb.FAILURE, RunStatus.FAILED),
        (bq_pb.INFRA_FAILURE, RunStatus.FAILED),
    ],
)
def test_report_finished_run_links_the_run_and_finalizes_it(
    api, with_id, attempt_status, run_status
):
    run, _ = make_run_with_cls(mode="DRY_RUN")
    request = finished_request(run, with_id=with_id, status=attempt_status)

    assert api.ReportFinishedRun(request) == empty_pb2.Empty()

    row = FinishedCQDRun.objects.get()
    assert (row.attempt_key, row.reported_id, row.run_id) == (run.cqd_attempt_key, run.id, run.id)
    stored = migration_pb.ReportedRun()
    stored.CopyFrom(request.run)
    stored.id = run.id  # filled in when the run was found by its attempt key
    assert serializers.reported_run_from_row(row) == stored
    run.refresh_from_db()
    assert run.status == run_status
    assert run.finalized_by_cqd is True
    assert run.end_time == ATTEMPT_END
    assert run.end_reason == (
        f"CQDaemon finished the attempt: {bq_pb.AttemptStatus.Name(attempt_status)}"
    )
    assert events(run) == [
        (RunEventKind.CQD_FINISHED, None, None, ACTOR),
        (RunEventKind.STATUS_CHANGED, RunStatus.RUNNING, run_status, ACTOR),
    ]
    assert RunEvent.objects.get(run=run, kind=RunEventKind.CQD_FINISHED).detail == (
        f"attempt {run.cqd_attempt_key}: {bq_pb.AttemptStatus.Name(attempt_status)}"
    )
    assert GerritPost.objects.count() == DBTaskResult.objects.count() == 0
    assert_calls(("ReportFinishedRun", "OK"))


@live
def test_a_full_run_reported_successful_succeeds_only_if_every_cl_was_submitted(api):
    submitted_run, _ = make_run_with_cls(mode="FULL_RUN")
    partial_run, partial_cls = make_run_with_cls(mode="FULL_RUN")

    api.ReportFinishedRun(finished_request(submitted_run))
    api.ReportFinishedRun(finished_request(partial_run, submitted={partial_cls[0].change}))

    submitted_run.refresh_from_db()
    partial_run.refresh_from_db()
    assert submitted_run.status == RunStatus.SUCCEEDED
    assert partial_run.status == RunStatus.FAILED
    assert partial_run.end_reason == (
        f"CQDaemon reported SUCCESS but did not submit {HOST}/{partial_cls[1].change}"
    )
    assert status_changes(partial_run) == [(RunStatus.RUNNING, RunStatus.FAILED)]
    assert FinishedCQDRun.objects.filter(run=partial_run).count() == 1


@live
def test_a_full_run_reported_successful_with_cls_of_another_host_fails(api):
    run, cls = make_run_with_cls(mode="FULL_RUN", count=1)
    request = finished_request(run)
    request.run.attempt.gerrit_changes[0].host = "other-review.example.com"
    api.ReportFinishedRun(request)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert f"{HOST}/{cls[0].change}" in run.end_reason


@live
def test_report_finished_run_is_an_idempotent_upsert_and_finalizes_once(api):
    run, _ = make_run_with_cls()
    api.ReportFinishedRun(finished_request(run, status=bq_pb.SUCCESS))
    second = finished_request(run, status=bq_pb.FAILURE, with_id=False)
    second.run.attempt.substatus = bq_pb.FAILED_TRYJOBS

    api.ReportFinishedRun(second)
    api.ReportFinishedRun(second)

    row = FinishedCQDRun.objects.get()  # one row per attempt key; the last write wins
    assert (row.attempt_status, row.attempt_substatus) == (bq_pb.FAILURE, bq_pb.FAILED_TRYJOBS)
    second.run.id = run.id
    assert serializers.reported_run_from_row(row) == second.run
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED  # an ended run never changes again
    assert events(run) == [
        (RunEventKind.CQD_FINISHED, None, None, ACTOR),
        (RunEventKind.STATUS_CHANGED, RunStatus.RUNNING, RunStatus.SUCCEEDED, ACTOR),
        (RunEventKind.CQD_FINISHED, None, None, ACTOR),
        (RunEventKind.CQD_FINISHED, None, None, ACTOR),
    ]
    assert_calls(*[("ReportFinishedRun", "OK")] * 3)


@live
@pytest.mark.parametrize("status", [bq_pb.ATTEMPT_STATUS_UNSPECIFIED, bq_pb.STARTED, 42])
def test_report_finished_run_with_a_non_final_status_is_invalid(api, status):
    run, _ = make_run_with_cls()
    error = rpc_error(
        Code.INVALID_ARGUMENT, api.ReportFinishedRun, finished_request(run, status=status)
    )
    assert error.message.startswith("run.attempt.status: ")
    no_side_effects(run)
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    assert_calls(("ReportFinishedRun", "INVALID_ARGUMENT"))
