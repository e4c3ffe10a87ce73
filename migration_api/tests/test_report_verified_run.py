"""ReportVerifiedRun: CQDaemon's verdict on a run cvsite handed it, and what cvsite then does.

Behaviour of upstream's 2021-06-22 "F" server (shared/reference/migration_behaviour.md §2.3):
the attempt key is required, the first verdict wins and a verdict on an ended run is only
noted. SUBMIT submits the CLs in dependency order; DRY_RUN_OK and FAIL post their message on
Gerrit (§5) before the run ends; a Gerrit outage only delays either. cvsite also refuses up
front a verdict it could not carry out, and writes the verdict, its RunEvent and the call
record in one round trip. Through a live cvsite, with binary and JSON bodies.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from google.protobuf import empty_pb2

from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.migration import migration_pb2 as migration_pb
from gerrit.fake import account
from migration_api.models import ApiCall, ApiToken
from migration_api.tests.rpc_support import (
    ACTOR,
    UNKNOWN_KEY,
    UNKNOWN_RUN_ID,
    Action,
    assert_calls,
    events,
    live,
    make_run_with_cls,
    no_side_effects,
    post_binary,
    rpc_error,
    status_changes,
    verified_request,
)
from prpc.codes import Code
from runs import serializers
from runs.models import (
    CL,
    GerritPost,
    GerritPostPurpose,
    RunCL,
    RunEvent,
    RunEventKind,
    RunStatus,
    VerifiedCQDRun,
    VerifyAction,
)
from runs.posts import VERIFIED_OK_MESSAGE
from runs.tests.factories import make_run_of_changes


@live
@pytest.mark.parametrize(
    "request_",
    [
        migration_pb.ReportVerifiedRunRequest(action=Action.ACTION_FAIL, final_message="x"),
        # F requires the key even when the run ID is given.
        migration_pb.ReportVerifiedRunRequest(
            run=migration_pb.ReportedRun(id=UNKNOWN_RUN_ID), action=Action.ACTION_SUBMIT
        ),
    ],
    ids=["empty", "id-without-key"],
)
def test_report_verified_run_requires_the_attempt_key(api, request_):
    error = rpc_error(Code.INVALID_ARGUMENT, api.ReportVerifiedRun, request_)
    assert error.message == "attempt key is required"
    no_side_effects()
    assert_calls(("ReportVerifiedRun", "INVALID_ARGUMENT"))


@live
@pytest.mark.parametrize("run_id", [UNKNOWN_RUN_ID, ""], ids=["unknown-id", "unknown-key"])
def test_report_verified_run_for_an_unknown_run_is_not_found(api, run_id):
    request = migration_pb.ReportVerifiedRunRequest(
        run=migration_pb.ReportedRun(id=run_id, attempt=bq_pb.Attempt(key=UNKNOWN_KEY)),
        action=Action.ACTION_SUBMIT,
    )
    error = rpc_error(Code.NOT_FOUND, api.ReportVerifiedRun, request)
    assert error.message == (
        f"Run {run_id!r} does not exist" if run_id else f"no run has attempt key {UNKNOWN_KEY!r}"
    )
    no_side_effects()
    assert_calls(("ReportVerifiedRun", "NOT_FOUND"))


def review_bodies(gerrit) -> list[tuple[str, dict]]:
    return [(r.path, r.body) for r in gerrit.requests_to("POST", "/review") if r.fault is None]


@live
@pytest.mark.parametrize("with_id", [True, False], ids=["by-id", "by-attempt-key"])
def test_submit_waits_for_submission_then_the_task_submits_in_dependency_order(
    api, gerrit, run_tasks, with_id
):
    gerrit.add_change(1, project="chromium/src", depends_on=[2])
    gerrit.add_change(2, project="chromium/src")
    run = make_run_of_changes(gerrit, [1, 2], mode="FULL_RUN")
    request = verified_request(run, Action.ACTION_SUBMIT, with_id=with_id)
    before = timezone.now()

    assert api.ReportVerifiedRun(request) == empty_pb2.Empty()

    row = VerifiedCQDRun.objects.get()
    assert (row.run_id, row.action, row.final_message) == (run.id, VerifyAction.SUBMIT, "")
    assert (row.attempt_key, row.attempt_project, row.attempt_status) == (
        run.cqd_attempt_key,
        "chromium",
        bq_pb.SUCCESS,
    )
    assert before <= row.update_time <= timezone.now()
    stored = migration_pb.ReportVerifiedRunRequest()
    stored.CopyFrom(request)
    stored.run.id = run.id
    assert serializers.verified_run_request_from_row(row) == stored
    run.refresh_from_db()
    assert run.status == RunStatus.WAITING_FOR_SUBMISSION
    assert events(run) == [
        (RunEventKind.CQD_VERIFIED, None, None, ACTOR),
        (
            RunEventKind.STATUS_CHANGED,
            RunStatus.RUNNING,
            RunStatus.WAITING_FOR_SUBMISSION,
            ACTOR,
        ),
    ]
    assert gerrit.requests_to("POST", "/submit") == []
    assert_calls(("ReportVerifiedRun", "OK"))

    run_tasks()

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.end_reason == "all CLs submitted"
    assert run.finalized_by_cqd is False
    submitted = [r.path for r in gerrit.requests_to("POST", "/submit")]
    assert len(submitted) == 2
    assert "chromium%2Fsrc~2/" in submitted[0] and "chromium%2Fsrc~1/" in submitted[1]
    assert gerrit.change(1)["status"] == gerrit.change(2)["status"] == "MERGED"
    assert status_changes(run) == [
        (RunStatus.RUNNING, RunStatus.WAITING_FOR_SUBMISSION),
        (RunStatus.WAITING_FOR_SUBMISSION, RunStatus.SUBMITTING),
        (RunStatus.SUBMITTING, RunStatus.SUCCEEDED),
    ]
    assert list(
        RunEvent.objects.filter(run=run, kind=RunEventKind.CL_SUBMITTED)
        .order_by("id")
        .values_list("detail", flat=True)
    ) == [f"https://{gerrit.host}/2", f"https://{gerrit.host}/1"]
    assert RunCL.objects.filter(run=run, submit_time__isnull=True).count() == 0


@live
def test_submit_fails_the_run_when_gerrit_refuses(api, gerrit, run_tasks):
    gerrit.add_change(1, project="chromium/src")
    run = make_run_of_changes(gerrit, [1], mode="FULL_RUN")
    gerrit.submit_conflicts[1] = "merge conflict in a.txt"

    api.ReportVerifiedRun(verified_request(run, Action.ACTION_SUBMIT))
    run_tasks()

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.end_reason.startswith(f"Gerrit refused to submit https://{gerrit.host}/1: ")
    assert "merge conflict in a.txt" in run.end_reason


@live
@pytest.mark.parametrize("mode, notify", [("DRY_RUN", "OWNER"), ("QUICK_DRY_RUN", "OWNER")])
def test_dry_run_ok_posts_the_success_message_then_succeeds(api, gerrit, run_tasks, mode, notify):
    for number in (1, 2):
        gerrit.add_change(number, project="chromium/src")
    gerrit.vote(1, "Commit-Queue", 1, voter=account(77))
    run = make_run_of_changes(gerrit, [1, 2], mode=mode)

    api.ReportVerifiedRun(verified_request(run, Action.ACTION_DRY_RUN_OK))

    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING  # until the messages are out
    assert VerifiedCQDRun.objects.get().action == VerifyAction.DRY_RUN_OK
    assert DBTaskResult.objects.count() == 1
    assert review_bodies(gerrit) == []

    run_tasks()

    cl1, cl2 = (CL.objects.get(change=n) for n in (1, 2))
    assert list(
        GerritPost.objects.order_by("cl__change").values_list(
            "cl", "purpose", "message", "notify", "notify_accounts", "attempts"
        )
    ) == [
        (cl1.id, GerritPostPurpose.VERIFICATION_RESULT, VERIFIED_OK_MESSAGE, notify, [77], 1),
        (cl2.id, GerritPostPurpose.VERIFICATION_RESULT, VERIFIED_OK_MESSAGE, notify, [], 1),
    ]

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.end_reason == "CQDaemon: dry run passed"
    sha1, sha2 = (gerrit.change(n)["current_revision"] for n in (1, 2))
    assert review_bodies(gerrit) == [
        (
            f"/a/changes/chromium%2Fsrc~1/revisions/{sha1}/review",
            {
                "message": VERIFIED_OK_MESSAGE,
                "tag": "autogenerated:cq",
                "notify": notify,
                "notify_details": {"TO": {"accounts": [77]}},
            },
        ),
        (
            f"/a/changes/chromium%2Fsrc~2/revisions/{sha2}/review",
            {"message": VERIFIED_OK_MESSAGE, "tag": "autogenerated:cq", "notify": notify},
        ),
    ]
    assert gerrit.requests_to("POST", "/submit") == []
    assert GerritPost.objects.filter(posted_at__isnull=True).count() == 0
    assert [e[0] for e in events(run)] == [
        RunEventKind.CQD_VERIFIED,
        RunEventKind.GERRIT_MESSAGE_POSTED,
        RunEventKind.GERRIT_MESSAGE_POSTED,
        RunEventKind.STATUS_CHANGED,
    ]
    assert status_changes(run) == [(RunStatus.RUNNING, RunStatus.SUCCEEDED)]


@live
@pytest.mark.parametrize("mode, notify", [("FULL_RUN", "OWNER_REVIEWERS"), ("DRY_RUN", "OWNER")])
def test_fail_posts_the_final_message_then_fails(api, gerrit, run_tasks, mode, notify):
    gerrit.add_change(1, project="chromium/src")
    run = make_run_of_changes(gerrit, [1], mode=mode)
    message = "  This CL has failed the run. Reason:\n\nTryjob linux-rel failed.\n"

    api.ReportVerifiedRun(verified_request(run, Action.ACTION_FAIL, message))
    row = VerifiedCQDRun.objects.get()
    assert (row.action, row.final_message) == (VerifyAction.FAIL, message)
    run_tasks()

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.end_reason == message
    sha = gerrit.change(1)["current_revision"]
    assert review_bodies(gerrit) == [
        (
            f"/a/changes/chromium%2Fsrc~1/revisions/{sha}/review",
            {
                "message": message.strip(),
                "tag": "autogenerated:cq",
                "notify": notify,
            },
        )
    ]
    assert gerrit.change(1)["messages"][-1]["message"] == f"Patch Set 1:\n\n{message.strip()}"
    assert status_changes(run) == [(RunStatus.RUNNING, RunStatus.FAILED)]


@live
@pytest.mark.parametrize(
    "mode, action",
    [
        ("DRY_RUN", Action.ACTION_SUBMIT),
        ("QUICK_DRY_RUN", Action.ACTION_SUBMIT),
        ("FULL_RUN", Action.ACTION_DRY_RUN_OK),
    ],
)
def test_an_action_that_does_not_fit_the_mode_is_refused_and_stores_nothing(
    api, gerrit, run_tasks, mode, action
):
    gerrit.add_change(1, project="chromium/src")
    run = make_run_of_changes(gerrit, [1], mode=mode)

    error = rpc_error(
        Code.FAILED_PRECONDITION, api.ReportVerifiedRun, verified_request(run, action)
    )

    assert Action.Name(action) in error.message
    no_side_effects(run)
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    assert run_tasks() == 0
    assert gerrit.requests == [r for r in gerrit.requests if r.method == "GET"]
    assert_calls(("ReportVerifiedRun", "FAILED_PRECONDITION"))


@live
def test_fail_without_a_message_is_invalid_and_stores_nothing(api):
    run, _ = make_run_with_cls()
    error = rpc_error(
        Code.INVALID_ARGUMENT, api.ReportVerifiedRun, verified_request(run, Action.ACTION_FAIL)
    )
    assert "final_message" in error.message
    no_side_effects(run)
    assert_calls(("ReportVerifiedRun", "INVALID_ARGUMENT"))


@live
def test_an_unspecified_action_on_a_running_run_is_invalid(api):
    run, _ = make_run_with_cls()
    rpc_error(
        Code.INVALID_ARGUMENT,
        api.ReportVerifiedRun,
        verified_request(run, Action.ACTION_UNSPECIFIED),
    )
    no_side_effects(run)


@live
def test_the_first_verified_report_wins(api, gerrit, run_tasks):
    gerrit.add_change(1, project="chromium/src")
    run = make_run_of_changes(gerrit, [1], mode="FULL_RUN")
    api.ReportVerifiedRun(verified_request(run, Action.ACTION_SUBMIT))

    api.ReportVerifiedRun(verified_request(run, Action.ACTION_FAIL, "changed my mind"))
    api.ReportVerifiedRun(verified_request(run, Action.ACTION_SUBMIT, with_id=False))

    row = VerifiedCQDRun.objects.get()
    assert (row.action, row.final_message) == (VerifyAction.SUBMIT, "")
    run.refresh_from_db()
    assert run.status == RunStatus.WAITING_FOR_SUBMISSION
    assert [e[0] for e in events(run)] == [RunEventKind.CQD_VERIFIED, RunEventKind.STATUS_CHANGED]
    assert GerritPost.objects.count() == 0
    assert DBTaskResult.objects.count() == 1
    assert_calls(*[("ReportVerifiedRun", "OK")] * 3)
    run_tasks()
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED


@live
def test_a_verified_report_for_an_ended_run_is_answered_ok_and_only_noted(api):
    run, _ = make_run_with_cls(status=RunStatus.CANCELLED)
    api.ReportVerifiedRun(verified_request(run, Action.ACTION_UNSPECIFIED))
    assert VerifiedCQDRun.objects.count() == DBTaskResult.objects.count() == 0
    assert events(run) == [(RunEventKind.CQD_VERIFIED, None, None, ACTOR)]
    assert RunEvent.objects.get().detail == "ignored ACTION_UNSPECIFIED"
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED


@live
def test_a_gerrit_outage_delays_submission_and_the_run_completes_after_recovery(
    api, gerrit, run_tasks
):
    gerrit.add_change(1, project="chromium/src", depends_on=[2])
    gerrit.add_change(2, project="chromium/src")
    run = make_run_of_changes(gerrit, [1, 2], mode="FULL_RUN")
    api.ReportVerifiedRun(verified_request(run, Action.ACTION_SUBMIT))
    gerrit.fail_next(503, count=4, path_contains="/submit")

    run_tasks()
    run.refresh_from_db()
    assert run.status == RunStatus.SUBMITTING
    assert run_tasks() == 0  # the retry waits out its backoff

    for _ in range(10):
        run_tasks(including_delayed=True)
        run.refresh_from_db()
        if run.is_ended:
            break
    assert run.status == RunStatus.SUCCEEDED
    assert gerrit.change(1)["status"] == gerrit.change(2)["status"] == "MERGED"
    faults = [r.fault for r in gerrit.requests_to("POST", "/submit")]
    assert faults == ["status 503"] * 4 + [None, None]
    assert RunEvent.objects.filter(run=run, kind=RunEventKind.SIDE_EFFECT_FAILED).count() == 4
    assert RunEvent.objects.filter(run=run, kind=RunEventKind.CL_SUBMITTED).count() == 2


@live
def test_a_gerrit_outage_delays_the_fail_message_and_the_run_fails_after_recovery(
    api, gerrit, run_tasks
):
    gerrit.add_change(1, project="chromium/src")
    run = make_run_of_changes(gerrit, [1], mode="DRY_RUN")
    api.ReportVerifiedRun(verified_request(run, Action.ACTION_FAIL, "Tryjobs failed."))
    gerrit.fail_next(503, count=3, path_contains="/review")

    for _ in range(10):
        run_tasks(including_delayed=True)
        run.refresh_from_db()
        if run.is_ended:
            break
    assert run.status == RunStatus.FAILED
    assert [r.fault for r in gerrit.requests_to("POST", "/review")] == ["status 503"] * 3 + [None]
    post = GerritPost.objects.get()
    assert post.posted_at is not None and post.attempts == 4
    assert gerrit.change(1)["messages"][-1]["message"].endswith("Tryjobs failed.")


@live
def test_a_verified_run_leaves_active_runs_and_its_cls_become_excluded(api, gerrit):
    gerrit.add_change(1, project="chromium/src")
    run = make_run_of_changes(gerrit, [1], mode="FULL_RUN")
    active = migration_pb.FetchActiveRunsRequest(luci_project="chromium")
    excluded = migration_pb.FetchExcludedCLsRequest(luci_project="chromium")
    assert [r.id for r in api.FetchActiveRuns(active).active_runs] == [run.id]
    assert list(api.FetchExcludedCLs(excluded).cls) == []

    api.ReportVerifiedRun(verified_request(run, Action.ACTION_SUBMIT))

    assert list(api.FetchActiveRuns(active).active_runs) == []
    assert list(api.FetchExcludedCLs(excluded).cls) == [
        bq_pb.GerritChange(host=gerrit.host, change=1)
    ]


@pytest.mark.django_db
def test_report_verified_run_writes_its_verdict_event_and_call_record_together(client):
    _, token = ApiToken.issue("cqdaemon-test", ["chromium"])
    run, _ = make_run_with_cls()
    request = verified_request(run, Action.ACTION_DRY_RUN_OK)

    with CaptureQueriesContext(connection) as captured:
        post_binary(client, token, "ReportVerifiedRun", request)

    tables = [q["sql"].split('"')[1] for q in captured if q["sql"].startswith("INSERT")]
    assert tables[0] == "runs_verifiedcqdrun" and tables[-1] == "migration_api_apicall"
    assert VerifiedCQDRun.objects.get(run=run).action == VerifyAction.DRY_RUN_OK
    assert RunEvent.objects.get(run=run).kind == RunEventKind.CQD_VERIFIED
    assert ApiCall.objects.get().method == "ReportVerifiedRun"
