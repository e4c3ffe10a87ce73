"""The eight Migration RPCs through a live cvsite, called with the project's own pRPC client.

Every test that uses the `api` fixture runs twice: with binary and with JSON bodies. Each
asserts the whole outcome: the response message field by field, the rows written (or not),
the RunEvents and the ApiCall record of the call. Behaviour is shared/reference/
migration_behaviour.md §2 (the 2021-06-22 "F" server) and §5 (Gerrit), plus cvsite's own
per-project token scopes (issue 3).

Errors answered with HTTP >= 500 carry a generic message by protocol design: only their code
is asserted.
"""

import base64
import hashlib
import itertools
import logging
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from google.protobuf import empty_pb2

from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.gerrit import gerrit_pb2
from cvproto.migration import migration_pb2 as migration_pb
from cvproto.times import to_timestamp
from gerrit.fake import account
from gerrit.messages import TRUNCATION_MARKER
from migration_api import auth
from migration_api.models import ApiCall, ApiToken
from migration_api.tests.conftest import MigrationClient, wait_for_request_threads
from prpc.client import Client, RpcError
from prpc.codes import Code, http_status
from runs import serializers
from runs.models import (
    CL,
    DepKind,
    FinishedCQDRun,
    GerritPost,
    GerritPostPurpose,
    NetrcToken,
    ReportedRun,
    ReportedRunsSnapshot,
    Run,
    RunCL,
    RunCLDep,
    RunEvent,
    RunEventKind,
    RunStatus,
    VerifiedCQDRun,
    VerifyAction,
)
from runs.posts import VERIFIED_OK_MESSAGE
from runs.tests.factories import make_run, make_run_of_changes

live = pytest.mark.django_db(transaction=True)

Action = migration_pb.ReportVerifiedRunRequest.Action
HOST = "chromium-review.googlesource.com"
ACTOR = "api:cqdaemon-test"
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
ATTEMPT_END = datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
_numbers = itertools.count(5001)


# --- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture(params=["binary", "json"])
def fmt(request) -> str:
    return request.param


@pytest.fixture
def api(make_api, fmt) -> MigrationClient:
    """A client holding a token for project chromium only."""
    return make_api(["chromium"], format=fmt)


@pytest.fixture
def both_api(make_api, fmt) -> MigrationClient:
    """A client holding a token for chromium and v8."""
    return make_api(["chromium", "v8"], format=fmt)


@pytest.fixture
def all_api(make_api, fmt) -> MigrationClient:
    """A client holding an all-projects token."""
    return make_api((), all_projects=True, format=fmt)


def rpc_error(code: Code, call, *args, **kwargs) -> RpcError:
    """Calls and expects RpcError `code` with its HTTP status; returns the error."""
    with pytest.raises(RpcError) as info:
        call(*args, **kwargs)
    error = info.value
    assert (error.code, error.http_status) == (code, http_status(code)), error
    return error


def calls() -> list[tuple[str, str, str]]:
    """(caller, method, code) of every recorded API call, oldest first."""
    return list(ApiCall.objects.order_by("id").values_list("caller", "method", "code"))


def assert_calls(*expected: tuple[str, str]) -> None:
    """Every recorded call was made with the test token: (method, code) each, in order."""
    assert calls() == [("cqdaemon-test", method, code) for method, code in expected]
    for call in ApiCall.objects.all():
        assert call.token is not None and call.token.name == "cqdaemon-test"
        assert call.duration_ms >= 0


def events(run: Run) -> list[tuple]:
    return [
        (e.kind, e.from_status, e.to_status, e.actor)
        for e in RunEvent.objects.filter(run_id=run.id).order_by("id")
    ]


def status_changes(run: Run) -> list[tuple[int, int]]:
    return list(
        RunEvent.objects.filter(run_id=run.id, kind=RunEventKind.STATUS_CHANGED)
        .order_by("id")
        .values_list("from_status", "to_status")
    )


def change_info(
    number: int,
    *,
    patchset: int = 1,
    project: str = "chromium/src",
    messages=(),
    cq_votes=(),
) -> gerrit_pb2.ChangeInfo:
    """A trimmed ChangeInfo as cvsite snapshots it (§3.5)."""
    sha = hashlib.sha1(f"{project}/{number}/{patchset}".encode()).hexdigest()
    info = gerrit_pb2.ChangeInfo(
        number=number,
        owner=gerrit_pb2.AccountInfo(account_id=1000001, email="owner@example.com"),
        project=project,
        ref="refs/heads/main",
        status=gerrit_pb2.NEW,
        current_revision=sha,
        revisions={
            sha: gerrit_pb2.RevisionInfo(
                kind=gerrit_pb2.RevisionInfo.REWORK,
                number=patchset,
                ref=f"refs/changes/{number % 100:02d}/{number}/{patchset}",
                created=to_timestamp(T0),
                commit=gerrit_pb2.CommitInfo(message=f"Change {number}\n"),
            )
        },
        messages=list(messages),
        created=to_timestamp(T0),
        updated=to_timestamp(T0),
    )
    for account_id, value in cq_votes:
        info.labels["Commit-Queue"].all.append(
            gerrit_pb2.ApprovalInfo(
                user=gerrit_pb2.AccountInfo(account_id=account_id),
                value=value,
                date=to_timestamp(T0),
            )
        )
    return info


def snapshot_columns(info, *, patchset: int, min_equivalent: int, files) -> dict:
    return serializers.change_snapshot_columns(
        info, patchset=patchset, min_equivalent_patchset=min_equivalent, files=files
    )


def add_cl(
    number: int | None = None,
    *,
    host: str = HOST,
    patchset: int = 1,
    min_equivalent: int = 1,
    files=("a.txt",),
    info: gerrit_pb2.ChangeInfo | None = None,
) -> CL:
    """A CL row whose current snapshot is `info` (made up from the arguments by default)."""
    number = number or next(_numbers)
    info = info or change_info(number, patchset=patchset)
    return CL.objects.create(
        host=host,
        change=number,
        **snapshot_columns(info, patchset=patchset, min_equivalent=min_equivalent, files=files),
    )


def add_run_cl(
    run: Run,
    cl: CL,
    position: int,
    *,
    info: gerrit_pb2.ChangeInfo | None = None,
    patchset: int = 1,
    min_equivalent: int = 1,
    files=("a.txt",),
    trigger_time: datetime | None = None,
    account_id: int = 42,
    email: str = "voter@example.com",
    deps=(),
) -> RunCL:
    """A RunCL snapshot of `cl` in `run`; `deps` are (CL, hard) in stored order."""
    info = info or change_info(cl.change, patchset=patchset)
    run_cl = RunCL(
        run=run,
        cl=cl,
        position=position,
        trigger_time=trigger_time or run.create_time,
        trigger_mode=run.mode,
        trigger_account_id=account_id,
        trigger_email=email,
        **snapshot_columns(info, patchset=patchset, min_equivalent=min_equivalent, files=files),
    )
    run_cl_deps = [
        RunCLDep(
            run_cl=run_cl,
            depends_on=dep,
            kind=DepKind.HARD if hard else DepKind.SOFT,
            position=i,
        )
        for i, (dep, hard) in enumerate(deps)
    ]
    serializers.set_served_message(run_cl, run_cl_deps).save()
    RunCLDep.objects.bulk_create(run_cl_deps)
    return run_cl


def make_run_with_cls(
    project: str = "chromium", *, mode: str = "DRY_RUN", count: int = 2, **run_fields
) -> tuple[Run, list[CL]]:
    run = make_run(project, mode=mode, **run_fields)
    cls = [add_cl() for _ in range(count)]
    for position, cl in enumerate(cls):
        add_run_cl(run, cl, position)
    return run, cls


def mark_verified(run: Run, action: int = VerifyAction.SUBMIT) -> VerifiedCQDRun:
    return VerifiedCQDRun.objects.create(
        run=run,
        action=action,
        final_message="" if action != VerifyAction.FAIL else "failed",
        attempt_key=run.cqd_attempt_key,
        attempt=bq_pb.Attempt(key=run.cqd_attempt_key).SerializeToString(),
        update_time=timezone.now(),
    )


def gerrit_changes(run: Run, submitted=None) -> list[bq_pb.GerritChange]:
    """The run's CLs as CQDaemon reports them; `submitted` (default all) are SUCCESS."""
    result = []
    for rc in run.run_cls.select_related("cl").order_by("position"):
        ok = submitted is None or rc.cl.change in submitted
        result.append(
            bq_pb.GerritChange(
                host=rc.cl.host,
                project=rc.gerrit_project,
                change=rc.cl.change,
                patchset=rc.patchset,
                mode=serializers.mode_to_bigquery(run.mode),
                submit_status=bq_pb.GerritChange.SUCCESS if ok else bq_pb.GerritChange.PENDING,
            )
        )
    return result


def attempt_of(run: Run, status=bq_pb.SUCCESS, submitted=None, **fields) -> bq_pb.Attempt:
    return bq_pb.Attempt(
        key=run.cqd_attempt_key,
        luci_project=run.project,
        status=status,
        substatus=bq_pb.NO_SUBSTATUS,
        start_time=to_timestamp(run.create_time),
        end_time=to_timestamp(ATTEMPT_END),
        gerrit_changes=gerrit_changes(run, submitted),
        **fields,
    )


def verified_request(
    run: Run, action, final_message: str = "", *, with_id: bool = True
) -> migration_pb.ReportVerifiedRunRequest:
    return migration_pb.ReportVerifiedRunRequest(
        run=migration_pb.ReportedRun(id=run.id if with_id else "", attempt=attempt_of(run)),
        action=action,
        final_message=final_message,
    )


def finished_request(run: Run, *, with_id: bool = True, **attempt_fields):
    return migration_pb.ReportFinishedRunRequest(
        run=migration_pb.ReportedRun(
            id=run.id if with_id else "", attempt=attempt_of(run, **attempt_fields)
        )
    )


def no_side_effects(run: Run | None = None) -> None:
    """Nothing was stored for the run, and no task was queued."""
    assert VerifiedCQDRun.objects.count() == 0
    assert FinishedCQDRun.objects.count() == 0
    assert GerritPost.objects.count() == 0
    assert DBTaskResult.objects.count() == 0
    if run is not None:
        assert events(run) == []


UNKNOWN_KEY = "0123456789abcdef"
UNKNOWN_RUN_ID = f"chromium/9000000000000-1-{UNKNOWN_KEY}"


# --- authentication and scopes ----------------------------------------------------------------

# One valid-looking request per method: authentication is decided before anything else.
SAMPLE_REQUESTS = {
    "ReportRuns": migration_pb.ReportRunsRequest(),
    "ReportFinishedRun": migration_pb.ReportFinishedRunRequest(),
    "ReportVerifiedRun": migration_pb.ReportVerifiedRunRequest(),
    "FetchRunStatus": migration_pb.FetchRunStatusRequest(
        luci_project="chromium", attempt_key=UNKNOWN_KEY
    ),
    "PostGerritMessage": migration_pb.PostGerritMessageRequest(
        project="chromium", attempt_key=UNKNOWN_KEY, host=HOST, change=1, revision="1", comment="x"
    ),
    "FetchActiveRuns": migration_pb.FetchActiveRunsRequest(luci_project="chromium"),
    "FetchExcludedCLs": migration_pb.FetchExcludedCLsRequest(luci_project="chromium"),
    "ReportUsedNetrc": migration_pb.ReportUsedNetrcRequest(
        gerrit_host=HOST, access_token="login:password"
    ),
}
METHODS = sorted(SAMPLE_REQUESTS)


@pytest.fixture
def anonymous_client(live_server, fmt):
    """anonymous_client(token=None): a client with that token, or none."""
    clients = []

    def make(token: str | None = None) -> MigrationClient:
        client = Client(live_server.url, auth_token=token, format=fmt, retries=0)
        clients.append(client)
        return MigrationClient(client)

    yield make
    for client in clients:
        client.close()
    wait_for_request_threads()


def assert_refused_unauthenticated(api: MigrationClient, method: str, metadata=None) -> None:
    rpc_error(
        Code.UNAUTHENTICATED, getattr(api, method), SAMPLE_REQUESTS[method], metadata=metadata
    )
    assert calls() == [("anonymous", method, "UNAUTHENTICATED")]
    assert ApiCall.objects.get().token is None
    assert NetrcToken.objects.count() == 0
    assert ReportedRunsSnapshot.objects.count() == 0


@live
@pytest.mark.parametrize("method", METHODS)
def test_no_authorization_header_is_unauthenticated(anonymous_client, method):
    assert_refused_unauthenticated(anonymous_client(), method)


@live
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "header", ["Basic Y3FkOnNlY3JldA==", "Bearer", "Bearer    ", "Token abc", "cvsite_abc"]
)
def test_a_malformed_authorization_header_is_unauthenticated(anonymous_client, method, header):
    api = anonymous_client()
    assert_refused_unauthenticated(api, method, metadata={"authorization": header})


@live
@pytest.mark.parametrize("method", METHODS)
def test_an_unknown_token_is_unauthenticated(anonymous_client, method):
    ApiToken.issue("someone", ["chromium"])
    api = anonymous_client("cvsite_" + "A" * 43)
    assert_refused_unauthenticated(api, method)


@live
@pytest.mark.parametrize("method", METHODS)
def test_a_revoked_token_is_unauthenticated(anonymous_client, method):
    row, token = ApiToken.issue("cqdaemon-test", ["chromium"])
    api = anonymous_client(token)
    api.FetchActiveRuns(migration_pb.FetchActiveRunsRequest(luci_project="chromium"))
    auth.revoke(ApiToken.objects.filter(pk=row.pk))
    ApiCall.objects.all().delete()

    assert_refused_unauthenticated(api, method)


@live
def test_a_successful_call_is_recorded_with_its_token(api):
    token = ApiToken.objects.get()
    assert not ApiCall.objects.exists()
    api.FetchActiveRuns(migration_pb.FetchActiveRunsRequest(luci_project="chromium"))
    call = ApiCall.objects.get()
    assert (call.token_id, call.caller, call.method, call.code) == (
        token.id,
        "cqdaemon-test",
        "FetchActiveRuns",
        "OK",
    )


def out_of_scope_requests(v8_run: Run) -> dict[str, list]:
    """Requests that touch project v8, by a field or by the run they name, per method."""
    key = v8_run.cqd_attempt_key
    return {
        "ReportRuns": [
            migration_pb.ReportRunsRequest(
                runs=[
                    migration_pb.ReportedRun(
                        attempt=bq_pb.Attempt(key="1" * 16, luci_project="chromium")
                    ),
                    migration_pb.ReportedRun(
                        attempt=bq_pb.Attempt(key="2" * 16, luci_project="v8")
                    ),
                ]
            ),
            migration_pb.ReportRunsRequest(
                runs=[migration_pb.ReportedRun(id=v8_run.id, attempt=bq_pb.Attempt(key=key))]
            ),
        ],
        "ReportFinishedRun": [
            finished_request(v8_run),
            finished_request(v8_run, with_id=False),
            migration_pb.ReportFinishedRunRequest(
                run=migration_pb.ReportedRun(
                    attempt=bq_pb.Attempt(
                        key=UNKNOWN_KEY,
                        luci_project="v8",
                        status=bq_pb.SUCCESS,
                        gerrit_changes=[bq_pb.GerritChange(host=HOST, change=1)],
                    )
                )
            ),
        ],
        "ReportVerifiedRun": [
            verified_request(v8_run, Action.ACTION_DRY_RUN_OK),
            verified_request(v8_run, Action.ACTION_DRY_RUN_OK, with_id=False),
        ],
        "FetchRunStatus": [
            migration_pb.FetchRunStatusRequest(luci_project="v8", attempt_key=UNKNOWN_KEY),
            migration_pb.FetchRunStatusRequest(
                luci_project="chromium", cv_id=v8_run.id, attempt_key=key
            ),
            migration_pb.FetchRunStatusRequest(luci_project="chromium", attempt_key=key),
        ],
        "PostGerritMessage": [
            migration_pb.PostGerritMessageRequest(
                project="v8", attempt_key=key, host=HOST, change=1, revision="1", comment="hi"
            ),
            migration_pb.PostGerritMessageRequest(
                run_id=v8_run.id,
                project="chromium",
                attempt_key=key,
                host=HOST,
                change=1,
                revision="1",
                comment="hi",
            ),
            migration_pb.PostGerritMessageRequest(
                project="chromium", attempt_key=key, host=HOST, change=1, revision="1", comment="hi"
            ),
        ],
        "FetchActiveRuns": [migration_pb.FetchActiveRunsRequest(luci_project="v8")],
        "FetchExcludedCLs": [migration_pb.FetchExcludedCLsRequest(luci_project="v8")],
    }


@live
@pytest.mark.parametrize(
    "method", [m for m in METHODS if m != "ReportUsedNetrc"]
)  # ReportUsedNetrc names no project.
def test_a_project_outside_the_tokens_scope_is_permission_denied(api, method):
    v8_run, _ = make_run_with_cls("v8", status=RunStatus.SUCCEEDED)
    requests = out_of_scope_requests(v8_run)[method]
    for request in requests:
        error = rpc_error(Code.PERMISSION_DENIED, getattr(api, method), request)
        assert "may not act on project 'v8'" in error.message
    assert_calls(*[(method, "PERMISSION_DENIED")] * len(requests))
    no_side_effects(v8_run)
    assert ReportedRunsSnapshot.objects.count() == ReportedRun.objects.count() == 0
    v8_run.refresh_from_db()
    assert v8_run.status == RunStatus.SUCCEEDED


@live
def test_an_all_projects_token_works_for_every_method_and_project(all_api, gerrit):
    gerrit.add_change(1, project="v8/v8")
    run = make_run_of_changes(gerrit, [1], project="v8", mode="DRY_RUN")
    ended, _ = make_run_with_cls("v8", status=RunStatus.CANCELLED)
    revision = gerrit.change(1)["current_revision"]

    all_api.ReportRuns(
        migration_pb.ReportRunsRequest(
            runs=[
                migration_pb.ReportedRun(id=run.id, attempt=bq_pb.Attempt(key=run.cqd_attempt_key))
            ]
        )
    )
    assert all_api.FetchActiveRuns(
        migration_pb.FetchActiveRunsRequest(luci_project="v8")
    ).active_runs[0].id == (run.id)
    all_api.PostGerritMessage(
        migration_pb.PostGerritMessageRequest(
            project="v8",
            attempt_key=run.cqd_attempt_key,
            host=gerrit.host,
            change=1,
            revision=revision,
            comment="CQ is trying the patch",
        )
    )
    all_api.ReportVerifiedRun(verified_request(run, Action.ACTION_DRY_RUN_OK))
    assert all_api.FetchExcludedCLs(
        migration_pb.FetchExcludedCLsRequest(luci_project="v8")
    ).cls == [bq_pb.GerritChange(host=gerrit.host, change=1)]
    assert all_api.FetchRunStatus(
        migration_pb.FetchRunStatusRequest(luci_project="v8", attempt_key=ended.cqd_attempt_key)
    ) == migration_pb.FetchRunStatusResponse(event="patch_failed", extra="CQ bit was unchecked.")
    all_api.ReportFinishedRun(finished_request(ended, status=bq_pb.ABORTED))
    all_api.ReportUsedNetrc(
        migration_pb.ReportUsedNetrcRequest(gerrit_host="v8-review.example.com", access_token="a:b")
    )
    assert_calls(
        ("ReportRuns", "OK"),
        ("FetchActiveRuns", "OK"),
        ("PostGerritMessage", "OK"),
        ("ReportVerifiedRun", "OK"),
        ("FetchExcludedCLs", "OK"),
        ("FetchRunStatus", "OK"),
        ("ReportFinishedRun", "OK"),
        ("ReportUsedNetrc", "OK"),
    )


# --- ReportRuns -------------------------------------------------------------------------------


def reported(key: str, *, project: str = "", run_id: str = "", change: int = 1):
    return migration_pb.ReportedRun(
        id=run_id,
        attempt=bq_pb.Attempt(
            key=key,
            luci_project=project,
            status=bq_pb.STARTED,
            start_time=to_timestamp(T0),
            gerrit_changes=[
                bq_pb.GerritChange(host=HOST, change=change, patchset=2, mode=bq_pb.DRY_RUN)
            ],
            config_group="main",
        ),
    )


def snapshot_rows(project: str) -> list[tuple]:
    snapshot = ReportedRunsSnapshot.objects.get(project=project)
    return [
        (r.position, r.reported_id, r.run_id, serializers.reported_run_from_row(r))
        for r in snapshot.runs.order_by("position")
    ]


@live
def test_report_runs_stores_a_snapshot_per_project_and_links_known_runs(both_api):
    known = make_run("chromium")
    v8_known = make_run("v8")
    runs = [
        reported(known.cqd_attempt_key, run_id=known.id),  # project from the run ID
        reported(UNKNOWN_KEY, project="chromium", run_id=UNKNOWN_RUN_ID),
        reported("a" * 16, project="v8"),
        reported(v8_known.cqd_attempt_key, project="v8", run_id=v8_known.id),
    ]
    before = timezone.now()

    response = both_api.ReportRuns(migration_pb.ReportRunsRequest(runs=runs))

    assert response == empty_pb2.Empty()
    chromium = ReportedRunsSnapshot.objects.get(project="chromium")
    v8 = ReportedRunsSnapshot.objects.get(project="v8")
    for snapshot in (chromium, v8):
        assert snapshot.reported_by == ACTOR
        assert before <= snapshot.reported_at <= timezone.now()
    assert snapshot_rows("chromium") == [
        (0, known.id, known.id, runs[0]),
        (1, UNKNOWN_RUN_ID, None, runs[1]),
    ]
    assert snapshot_rows("v8") == [(0, "", None, runs[2]), (1, v8_known.id, v8_known.id, runs[3])]
    row = chromium.runs.get(position=1)
    assert (row.attempt_key, row.attempt_project, row.attempt_status) == (
        UNKNOWN_KEY,
        "chromium",
        bq_pb.STARTED,
    )
    assert (row.attempt_start_time, row.attempt_config_group) == (T0, "main")
    assert RunEvent.objects.count() == 0  # nothing happened to a run
    assert_calls(("ReportRuns", "OK"))


@live
def test_report_runs_replaces_the_snapshot_of_each_reported_project_only(both_api):
    both_api.ReportRuns(
        migration_pb.ReportRunsRequest(
            runs=[
                reported("a" * 16, project="chromium"),
                reported("b" * 16, project="chromium"),
                reported("c" * 16, project="v8"),
            ]
        )
    )
    v8_before = ReportedRunsSnapshot.objects.get(project="v8")
    replacement = reported("d" * 16, project="chromium", change=7)

    both_api.ReportRuns(migration_pb.ReportRunsRequest(runs=[replacement]))

    assert snapshot_rows("chromium") == [(0, "", None, replacement)]
    assert ReportedRunsSnapshot.objects.get(project="v8").reported_at == v8_before.reported_at
    assert [r[3].attempt.key for r in snapshot_rows("v8")] == ["c" * 16]
    assert ReportedRun.objects.count() == 2
    assert ReportedRunsSnapshot.objects.count() == 2


@live
def test_an_empty_report_from_a_single_project_token_clears_its_snapshot(api):
    api.ReportRuns(migration_pb.ReportRunsRequest(runs=[reported("a" * 16, project="chromium")]))
    first = ReportedRunsSnapshot.objects.get(project="chromium").reported_at

    assert api.ReportRuns(migration_pb.ReportRunsRequest()) == empty_pb2.Empty()

    snapshot = ReportedRunsSnapshot.objects.get(project="chromium")
    assert snapshot.runs.count() == 0 and ReportedRun.objects.count() == 0
    assert snapshot.reported_at > first
    assert_calls(("ReportRuns", "OK"), ("ReportRuns", "OK"))


@live
def test_an_empty_report_from_a_multi_project_token_changes_nothing(both_api):
    both_api.ReportRuns(
        migration_pb.ReportRunsRequest(runs=[reported("a" * 16, project="chromium")])
    )
    before = ReportedRunsSnapshot.objects.get(project="chromium").reported_at

    both_api.ReportRuns(migration_pb.ReportRunsRequest())

    assert ReportedRunsSnapshot.objects.get(project="chromium").reported_at == before
    assert ReportedRun.objects.count() == 1


@live
def test_report_runs_refuses_a_run_without_a_determinable_project(api):
    request = migration_pb.ReportRunsRequest(
        runs=[reported("a" * 16, project="chromium"), reported("b" * 16)]
    )
    error = rpc_error(Code.INVALID_ARGUMENT, api.ReportRuns, request)
    assert error.message.startswith("runs[1]: give attempt.luci_project")
    assert ReportedRunsSnapshot.objects.count() == ReportedRun.objects.count() == 0
    assert_calls(("ReportRuns", "INVALID_ARGUMENT"))


@live
def test_report_runs_refuses_a_run_without_an_attempt_key(api):
    request = migration_pb.ReportRunsRequest(
        runs=[migration_pb.ReportedRun(attempt=bq_pb.Attempt(luci_project="chromium"))]
    )
    error = rpc_error(Code.INVALID_ARGUMENT, api.ReportRuns, request)
    assert "runs[0].attempt.key" in error.message
    assert ReportedRunsSnapshot.objects.count() == 0
    assert_calls(("ReportRuns", "INVALID_ARGUMENT"))


# --- ReportFinishedRun ------------------------------------------------------------------------


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


# --- ReportVerifiedRun ------------------------------------------------------------------------


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
    assert error.message == f"Run {run_id!r} does not exist"
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


# --- FetchRunStatus ---------------------------------------------------------------------------


@live
@pytest.mark.parametrize("by", ["cv_id", "attempt_key"])
@pytest.mark.parametrize(
    "status, mode, event, extra",
    [
        (RunStatus.SUCCEEDED, "FULL_RUN", "patch_committed", ""),
        (RunStatus.SUCCEEDED, "DRY_RUN", "patch_ready_to_commit", ""),
        (RunStatus.SUCCEEDED, "QUICK_DRY_RUN", "patch_ready_to_commit", ""),
        (RunStatus.SUCCEEDED, "NEW_PATCHSET_RUN", "patch_ready_to_commit", ""),
        (RunStatus.FAILED, "FULL_RUN", "patch_failed", ""),
        (RunStatus.FAILED, "DRY_RUN", "patch_failed", ""),
        (RunStatus.CANCELLED, "FULL_RUN", "patch_failed", "CQ bit was unchecked."),
        (RunStatus.CANCELLED, "QUICK_DRY_RUN", "patch_failed", "CQ bit was unchecked."),
    ],
)
def test_fetch_run_status_of_an_ended_run(api, by, status, mode, event, extra):
    run = make_run(mode=mode, status=status)
    request = migration_pb.FetchRunStatusRequest(
        luci_project="chromium",
        cv_id=run.id if by == "cv_id" else "",
        attempt_key=run.cqd_attempt_key,
    )

    response = api.FetchRunStatus(request)

    assert response == migration_pb.FetchRunStatusResponse(event=event, extra=extra)
    assert (response.event, response.extra) == (event, extra)
    assert RunEvent.objects.count() == 0
    assert_calls(("FetchRunStatus", "OK"))


@live
@pytest.mark.parametrize(
    "status",
    [
        RunStatus.PENDING,
        RunStatus.RUNNING,
        RunStatus.WAITING_FOR_SUBMISSION,
        RunStatus.SUBMITTING,
    ],
)
def test_fetch_run_status_of_an_active_run_is_a_failed_precondition(api, status):
    run = make_run(status=status)
    request = migration_pb.FetchRunStatusRequest(
        luci_project="chromium", attempt_key=run.cqd_attempt_key
    )
    error = rpc_error(Code.FAILED_PRECONDITION, api.FetchRunStatus, request)
    assert error.message == f"Run {run.id!r} is not final yet ({RunStatus(status).name})"
    assert_calls(("FetchRunStatus", "FAILED_PRECONDITION"))


@live
def test_fetch_run_status_of_an_unknown_run_is_not_found(api):
    run = make_run(status=RunStatus.SUCCEEDED)
    for request in (
        migration_pb.FetchRunStatusRequest(luci_project="chromium", attempt_key=UNKNOWN_KEY),
        # The ID wins over the key of an existing run.
        migration_pb.FetchRunStatusRequest(
            luci_project="chromium", cv_id=UNKNOWN_RUN_ID, attempt_key=run.cqd_attempt_key
        ),
    ):
        error = rpc_error(Code.NOT_FOUND, api.FetchRunStatus, request)
        assert error.message == "Run does not exist"
    assert_calls(("FetchRunStatus", "NOT_FOUND"), ("FetchRunStatus", "NOT_FOUND"))


@live
@pytest.mark.parametrize(
    "request_, message",
    [
        (migration_pb.FetchRunStatusRequest(), "attempt_key is required"),
        (migration_pb.FetchRunStatusRequest(cv_id=UNKNOWN_RUN_ID), "attempt_key is required"),
        (migration_pb.FetchRunStatusRequest(luci_project="v8"), "attempt_key is required"),
        (migration_pb.FetchRunStatusRequest(attempt_key=UNKNOWN_KEY), "luci_project is required"),
    ],
)
def test_fetch_run_status_validates_the_key_then_the_project(api, request_, message):
    error = rpc_error(Code.INVALID_ARGUMENT, api.FetchRunStatus, request_)
    assert error.message == message
    assert_calls(("FetchRunStatus", "INVALID_ARGUMENT"))


# --- PostGerritMessage ------------------------------------------------------------------------

COMMENT = 'Run "r" | Attempt "k": CQ is trying da patch'


def post_request(run: Run, gerrit, number: int = 1, **overrides):
    fields = {
        "run_id": run.id,
        "project": run.project,
        "attempt_key": run.cqd_attempt_key,
        "host": gerrit.host,
        "change": number,
        "revision": gerrit.change(number)["current_revision"] if number in gerrit.changes else "1",
        "comment": COMMENT,
        "send_email": False,
    }
    fields.update(overrides)
    return migration_pb.PostGerritMessageRequest(**fields)


@pytest.fixture
def cq_run(gerrit):
    """A RUNNING dry run of fake Gerrit change 1 (project chromium/src)."""
    gerrit.add_change(1, project="chromium/src")
    return make_run_of_changes(gerrit, [1], mode="DRY_RUN")


@live
def test_post_gerrit_message_posts_the_comment_on_the_cl(api, gerrit, cq_run):
    request = post_request(cq_run, gerrit)

    response = api.PostGerritMessage(request)

    assert response == migration_pb.PostGerritMessageResponse()
    sha = gerrit.change(1)["current_revision"]
    [post] = gerrit.requests_to("POST", "/review")
    assert post.path == f"/a/changes/chromium%2Fsrc~1/revisions/{sha}/review"
    assert post.body == {"message": COMMENT, "tag": "autogenerated:cq", "notify": "NONE"}
    assert post.authorization == "Basic " + base64.b64encode(b"cvsite:secret").decode()
    assert gerrit.change(1)["messages"][-1]["message"] == f"Patch Set 1:\n\n{COMMENT}"
    row = GerritPost.objects.get()
    assert (row.run_id, row.cl.change, row.purpose, row.message, row.revision) == (
        cq_run.id,
        1,
        GerritPostPurpose.CQD_MESSAGE,
        COMMENT,
        sha,
    )
    assert (row.notify, row.notify_accounts, row.attempts, row.last_error) == ("NONE", [], 1, "")
    assert row.posted_at is not None
    assert events(cq_run) == [(RunEventKind.GERRIT_MESSAGE_POSTED, None, None, ACTOR)]
    assert RunEvent.objects.get().detail == f"on {gerrit.host}/1: {COMMENT}"
    assert DBTaskResult.objects.count() == 0  # posted synchronously
    assert_calls(("PostGerritMessage", "OK"))


@live
def test_post_gerrit_message_finds_the_run_by_attempt_key(api, gerrit, cq_run):
    api.PostGerritMessage(post_request(cq_run, gerrit, run_id=""))
    assert len(gerrit.requests_to("POST", "/review")) == 1
    assert GerritPost.objects.get().run_id == cq_run.id


@live
def test_post_gerrit_message_uses_the_requests_revision(api, gerrit):
    gerrit.add_change(1, project="chromium/src", patchsets=2)
    run = make_run_of_changes(gerrit, [1], mode="DRY_RUN")
    first_patchset = next(
        sha for sha, rev in gerrit.change(1)["revisions"].items() if rev["_number"] == 1
    )
    assert first_patchset != gerrit.change(1)["current_revision"]

    api.PostGerritMessage(post_request(run, gerrit, revision=first_patchset))

    [post] = gerrit.requests_to("POST", "/review")
    assert post.path == f"/a/changes/chromium%2Fsrc~1/revisions/{first_patchset}/review"
    assert gerrit.change(1)["messages"][-1]["message"].startswith("Patch Set 1:")
    assert GerritPost.objects.get().revision == first_patchset


@live
@pytest.mark.parametrize(
    "send_email, mode, notify",
    [
        (False, "FULL_RUN", "NONE"),
        (True, "DRY_RUN", "OWNER"),
        (True, "QUICK_DRY_RUN", "OWNER"),
        (True, "FULL_RUN", "OWNER_REVIEWERS"),
    ],
)
def test_post_gerrit_message_notifies_by_send_email_and_mode(api, gerrit, send_email, mode, notify):
    gerrit.add_change(1, project="chromium/src")
    gerrit.vote(1, "Commit-Queue", 2, voter=account(7, "seven@example.com"))
    gerrit.vote(1, "Commit-Queue", 1, voter=account(5, "five@example.com"))
    gerrit.vote(1, "Commit-Queue", 0, voter=account(8, "eight@example.com"))  # no vote
    gerrit.vote(1, "Code-Review", 1, voter=account(9, "nine@example.com"))  # not CQ
    run = make_run_of_changes(gerrit, [1], mode=mode)

    api.PostGerritMessage(post_request(run, gerrit, send_email=send_email))

    [post] = gerrit.requests_to("POST", "/review")
    expected = {"message": COMMENT, "tag": "autogenerated:cq", "notify": notify}
    if send_email:
        expected["notify_details"] = {"TO": {"accounts": [5, 7]}}
    assert post.body == expected
    row = GerritPost.objects.get()
    assert (row.notify, row.notify_accounts) == (notify, [5, 7] if send_email else [])


@live
def test_post_gerrit_message_without_cq_voters_sends_no_notify_details(api, gerrit, cq_run):
    api.PostGerritMessage(post_request(cq_run, gerrit, send_email=True))
    [post] = gerrit.requests_to("POST", "/review")
    assert post.body == {"message": COMMENT, "tag": "autogenerated:cq", "notify": "OWNER"}


@live
def test_post_gerrit_message_trims_and_truncates_a_too_long_comment(api, gerrit, cq_run):
    comment = "\n  " + "é" * 10000 + " \t\n"  # 20000 bytes once trimmed
    truncated = "é" * ((16384 - len(TRUNCATION_MARKER)) // 2) + TRUNCATION_MARKER

    api.PostGerritMessage(post_request(cq_run, gerrit, comment=comment))

    [post] = gerrit.requests_to("POST", "/review")
    assert post.body["message"] == truncated
    assert len(post.body["message"].encode()) == 16384
    assert GerritPost.objects.get().message == truncated
    assert gerrit.change(1)["messages"][-1]["message"].endswith(TRUNCATION_MARKER)


def add_snapshot_message(cl: CL, text: str, date: datetime) -> None:
    """Adds a message to cvsite's stored snapshot of the CL (not to Gerrit)."""
    info = serializers.change_info_from_row(cl)
    info.messages.append(
        gerrit_pb2.ChangeMessageInfo(id=f"m{len(info.messages)}", date=date, message=text)
    )
    cl.info = info.SerializeToString(deterministic=True)
    cl.save(update_fields=["info"])


@live
@pytest.mark.parametrize(
    "text, offset",
    [
        (f"Patch Set 1:\n\n{COMMENT}", timedelta(hours=1)),
        (COMMENT, timedelta(0)),  # dated exactly at the run's creation: not before it
        (f"Patch Set 1:\n\n{COMMENT}\n\nmore", timedelta(days=3)),
    ],
)
def test_post_gerrit_message_skips_a_comment_already_in_the_cl_snapshot(
    api, gerrit, cq_run, text, offset
):
    cl = CL.objects.get(change=1)
    add_snapshot_message(cl, text, cq_run.create_time + offset)

    assert api.PostGerritMessage(post_request(cq_run, gerrit, comment=f"  {COMMENT}\n")) == (
        migration_pb.PostGerritMessageResponse()
    )

    assert gerrit.requests_to("POST", "/review") == []
    assert GerritPost.objects.count() == 0
    assert events(cq_run) == []
    assert_calls(("PostGerritMessage", "OK"))


@live
def test_post_gerrit_message_skips_a_comment_whose_truncated_form_is_in_the_snapshot(
    api, gerrit, cq_run
):
    comment = "x" * 20000
    add_snapshot_message(
        CL.objects.get(change=1),
        "Patch Set 1:\n\n" + "x" * (16384 - len(TRUNCATION_MARKER)) + TRUNCATION_MARKER,
        cq_run.create_time + timedelta(minutes=1),
    )
    api.PostGerritMessage(post_request(cq_run, gerrit, comment=comment))
    assert gerrit.requests_to("POST", "/review") == []


@live
def test_post_gerrit_message_posts_again_a_comment_only_found_before_the_run(api, gerrit, cq_run):
    add_snapshot_message(
        CL.objects.get(change=1), COMMENT, cq_run.create_time - timedelta(microseconds=1)
    )
    add_snapshot_message(CL.objects.get(change=1), "unrelated", cq_run.create_time)
    api.PostGerritMessage(post_request(cq_run, gerrit))
    assert len(gerrit.requests_to("POST", "/review")) == 1


@live
def test_an_identical_post_gerrit_message_call_posts_once(api, gerrit, cq_run):
    request = post_request(cq_run, gerrit)
    api.PostGerritMessage(request)
    api.PostGerritMessage(request)
    api.PostGerritMessage(post_request(cq_run, gerrit, comment=f"\n{COMMENT}  "))  # same, trimmed

    assert len(gerrit.requests_to("POST", "/review")) == 1
    assert GerritPost.objects.count() == 1
    assert [e[0] for e in events(cq_run)] == [RunEventKind.GERRIT_MESSAGE_POSTED]
    assert_calls(*[("PostGerritMessage", "OK")] * 3)

    api.PostGerritMessage(post_request(cq_run, gerrit, comment="something else"))
    assert len(gerrit.requests_to("POST", "/review")) == 2


@live
@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"host": ""}, "host, change and revision are required"),
        ({"change": 0}, "host, change and revision are required"),
        ({"change": -5}, "host, change and revision are required"),
        ({"revision": ""}, "host, change and revision are required"),
        (
            {"revision": "", "host": "a/b", "project": "", "attempt_key": "", "comment": ""},
            "host, change and revision are required",
        ),
        ({"host": "a/b"}, "host/change are invalid: "),
        (
            {"host": "a/b", "project": "", "attempt_key": "", "comment": ""},
            "host/change are invalid: ",
        ),
        ({"project": ""}, "project is required"),
        ({"project": "", "attempt_key": "", "comment": ""}, "project is required"),
        ({"attempt_key": ""}, "attempt_key is required"),
        ({"attempt_key": "", "run_id": UNKNOWN_RUN_ID}, "attempt_key is required"),
        ({"attempt_key": "", "comment": ""}, "attempt_key is required"),
        ({"comment": ""}, "comment is required"),
        # Validation comes before the project scope and the lookups.
        ({"project": "v8", "comment": ""}, "comment is required"),
    ],
)
def test_post_gerrit_message_validates_in_order(api, overrides, message):
    fields = {
        "run_id": UNKNOWN_RUN_ID,
        "project": "chromium",
        "attempt_key": UNKNOWN_KEY,
        "host": HOST,
        "change": 1,
        "revision": "abc",
        "comment": COMMENT,
    }
    fields.update(overrides)
    error = rpc_error(
        Code.INVALID_ARGUMENT,
        api.PostGerritMessage,
        migration_pb.PostGerritMessageRequest(**fields),
    )
    assert error.message.startswith(message)
    assert_calls(("PostGerritMessage", "INVALID_ARGUMENT"))


@live
def test_a_whitespace_only_comment_passes_validation(api, gerrit, cq_run):
    add_snapshot_message(CL.objects.get(change=1), "anything", cq_run.create_time)
    api.PostGerritMessage(post_request(cq_run, gerrit, comment=" \n\t"))
    assert gerrit.requests_to("POST", "/review") == []  # "" is in every message since the run


@live
@pytest.mark.parametrize(
    "overrides",
    [
        {"run_id": UNKNOWN_RUN_ID},
        {"run_id": "", "attempt_key": UNKNOWN_KEY},
        {"run_id": UNKNOWN_RUN_ID, "change": 404},  # neither is known
    ],
    ids=["unknown-id", "unknown-key", "unknown-run-and-cl"],
)
def test_post_gerrit_message_for_an_unknown_run_is_unavailable(api, gerrit, cq_run, overrides):
    rpc_error(Code.UNAVAILABLE, api.PostGerritMessage, post_request(cq_run, gerrit, **overrides))
    assert gerrit.requests_to("POST", "/review") == []
    assert GerritPost.objects.count() == 0
    assert_calls(("PostGerritMessage", "UNAVAILABLE"))


@live
def test_post_gerrit_message_for_a_cl_unknown_to_cvsite_is_unavailable(api, gerrit, cq_run):
    gerrit.add_change(2, project="chromium/src")  # in Gerrit, not yet in cvsite
    for request in (
        post_request(cq_run, gerrit, number=2),
        post_request(cq_run, gerrit, host="other-review.example.com"),
    ):
        rpc_error(Code.UNAVAILABLE, api.PostGerritMessage, request)
    assert gerrit.requests_to("POST", "/review") == []
    assert GerritPost.objects.count() == 0
    assert_calls(*[("PostGerritMessage", "UNAVAILABLE")] * 2)


@live
def test_post_gerrit_message_for_a_run_of_another_project_is_a_failed_precondition(
    both_api, gerrit
):
    gerrit.add_change(1, project="v8/v8")
    run = make_run_of_changes(gerrit, [1], project="v8", mode="DRY_RUN", status=RunStatus.FAILED)
    error = rpc_error(
        Code.FAILED_PRECONDITION,
        both_api.PostGerritMessage,
        post_request(run, gerrit, project="chromium"),
    )
    # The project mismatch is reported before the run having ended.
    assert error.message == f"Run {run.id!r} doesn't match expected LUCI project 'chromium'"
    assert gerrit.requests_to("POST", "/review") == []
    assert_calls(("PostGerritMessage", "FAILED_PRECONDITION"))


@live
@pytest.mark.parametrize("status", [RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED])
def test_post_gerrit_message_for_an_ended_run_is_a_failed_precondition(api, gerrit, status):
    gerrit.add_change(1, project="chromium/src")
    run = make_run_of_changes(gerrit, [1], mode="DRY_RUN", status=status)
    error = rpc_error(Code.FAILED_PRECONDITION, api.PostGerritMessage, post_request(run, gerrit))
    assert error.message == f"Run {run.id!r} is already finished ({RunStatus(status).name})"
    assert gerrit.requests_to("POST", "/review") == []
    assert GerritPost.objects.count() == 0
    assert_calls(("PostGerritMessage", "FAILED_PRECONDITION"))


@live
@pytest.mark.parametrize(
    "gerrit_status, code",
    [
        (403, Code.PERMISSION_DENIED),
        (404, Code.NOT_FOUND),
        (409, Code.FAILED_PRECONDITION),
        (412, Code.FAILED_PRECONDITION),
        (429, Code.RESOURCE_EXHAUSTED),
        (500, Code.INTERNAL),
        (502, Code.INTERNAL),
    ],
)
def test_post_gerrit_message_answers_gerrits_refusal_with_its_code(
    api, gerrit, cq_run, gerrit_status, code
):
    gerrit.fail_next(gerrit_status, path_contains="/review", body="change is closed\n")
    request = post_request(cq_run, gerrit)

    error = rpc_error(code, api.PostGerritMessage, request)

    if http_status(code) < 500:
        assert f"HTTP {gerrit_status} from Gerrit" in error.message
        assert "change is closed" in error.message
    assert GerritPost.objects.count() == 0  # rolled back with the call
    assert events(cq_run) == []
    # CQDaemon retries; the message is then posted once.
    api.PostGerritMessage(request)
    assert [r.fault for r in gerrit.requests_to("POST", "/review")] == [
        f"status {gerrit_status}",
        None,
    ]
    assert GerritPost.objects.get().posted_at is not None
    assert_calls(("PostGerritMessage", code.name), ("PostGerritMessage", "OK"))


@live
def test_post_gerrit_message_when_gerrit_does_not_answer_is_internal(api, gerrit, cq_run, settings):
    settings.GERRIT_TIMEOUT_SECONDS = 0.3
    gerrit.hang_next(3, path_contains="/review", then_answer=False)
    rpc_error(Code.INTERNAL, api.PostGerritMessage, post_request(cq_run, gerrit))
    assert GerritPost.objects.count() == 0
    assert_calls(("PostGerritMessage", "INTERNAL"))


# --- FetchActiveRuns --------------------------------------------------------------------------


@live
def test_fetch_active_runs_returns_running_unverified_runs_of_the_project_newest_first(api):
    older, _ = make_run_with_cls()
    newer, _ = make_run_with_cls(mode="FULL_RUN")
    verified, _ = make_run_with_cls()
    mark_verified(verified)
    make_run_with_cls(delay_cancel_until=timezone.now() + timedelta(minutes=3))
    for status in (
        RunStatus.PENDING,
        RunStatus.WAITING_FOR_SUBMISSION,
        RunStatus.SUBMITTING,
        RunStatus.SUCCEEDED,
        RunStatus.FAILED,
        RunStatus.CANCELLED,
    ):
        make_run_with_cls(status=status)
    make_run_with_cls("v8")
    assert newer.id < older.id

    response = api.FetchActiveRuns(migration_pb.FetchActiveRunsRequest(luci_project="chromium"))

    assert [r.id for r in response.active_runs] == [newer.id, older.id]
    assert [len(r.cls) for r in response.active_runs] == [2, 2]
    assert [r.cls[0].gc.mode for r in response.active_runs] == [bq_pb.FULL_RUN, bq_pb.DRY_RUN]
    assert RunEvent.objects.count() == 0
    assert_calls(("FetchActiveRuns", "OK"))


@live
def test_fetch_active_runs_serves_each_cl_from_the_run_snapshot_exactly(api):
    run = make_run(mode="QUICK_DRY_RUN")
    trigger = run.create_time - timedelta(seconds=30, microseconds=7)
    votes = [(42, 1)]
    message = gerrit_pb2.ChangeMessageInfo(
        id="m1",
        author=gerrit_pb2.AccountInfo(account_id=42),
        real_author=gerrit_pb2.AccountInfo(account_id=42),
        date=to_timestamp(T0),
        message="Patch Set 2: Commit-Queue+1",
    )
    infos = {}
    cls = []
    for number in (next(_numbers), next(_numbers), next(_numbers)):
        infos[number] = change_info(number, patchset=2, messages=[message], cq_votes=votes)
        # The CL's current snapshot moved on since the run started: it must not be served.
        cls.append(add_cl(number, patchset=3, min_equivalent=3, files=["new.txt"]))
    a, b, c = cls
    # Run order differs from CLID order; a depends on b (hard) and c (soft).
    add_run_cl(run, b, 0, info=infos[b.change], patchset=2, files=["b.txt"], trigger_time=trigger)
    add_run_cl(
        run,
        a,
        1,
        info=infos[a.change],
        patchset=2,
        min_equivalent=1,
        files=["x/a.txt", "y.txt"],
        trigger_time=trigger,
        deps=[(b, True), (c, False)],
    )
    add_run_cl(
        run, c, 2, info=infos[c.change], patchset=2, files=[], trigger_time=trigger, email=""
    )

    response = api.FetchActiveRuns(migration_pb.FetchActiveRunsRequest(luci_project="chromium"))

    def expected(cl, *, min_equivalent=1, files, email="voter@example.com", deps=()):
        return migration_pb.RunCL(
            id=cl.id,
            gc=bq_pb.GerritChange(
                host=HOST,
                project="chromium/src",
                change=cl.change,
                patchset=2,
                earliest_equivalent_patchset=min_equivalent,
                mode=bq_pb.QUICK_DRY_RUN,
            ),
            info=infos[cl.change],
            files=files,
            trigger=migration_pb.RunCL.Trigger(
                time=to_timestamp(trigger), account_id=42, email=email
            ),
            deps=[migration_pb.RunCL.Dep(id=d.id, hard=hard) for d, hard in deps],
        )

    assert response == migration_pb.FetchActiveRunsResponse(
        active_runs=[
            migration_pb.ActiveRun(
                id=run.id,
                cls=[
                    expected(b, min_equivalent=1, files=["b.txt"]),
                    expected(a, files=["x/a.txt", "y.txt"], deps=[(b, True), (c, False)]),
                    expected(c, files=[], email=""),
                ],
            )
        ]
    )
    served = response.active_runs[0].cls[1]
    assert not served.gc.HasField("trigger_time")
    assert served.gc.submit_status == bq_pb.GerritChange.SUBMIT_STATUS_UNSPECIFIED
    assert served.trigger.time.nanos % 1000 == 0 and served.trigger.time.nanos > 0


@live
def test_fetch_active_runs_lists_deps_outside_the_run_as_fyi_deps_from_the_current_cl(api):
    run = make_run()
    outside_info = change_info(900001, patchset=4, project="chromium/deps")
    outside = add_cl(900001, patchset=4, min_equivalent=2, files=["d.txt"], info=outside_info)
    other_host = add_cl(900001, host="other-review.example.com", patchset=1)
    a, b = add_cl(), add_cl()
    add_run_cl(run, a, 0, deps=[(b, True), (outside, True), (other_host, False)])
    add_run_cl(run, b, 1, deps=[(outside, False)])  # the same dep once only

    [active] = api.FetchActiveRuns(
        migration_pb.FetchActiveRunsRequest(luci_project="chromium")
    ).active_runs

    assert [cl.id for cl in active.cls] == [a.id, b.id]
    assert sorted(active.fyi_deps, key=lambda cl: cl.id) == [
        migration_pb.RunCL(
            id=outside.id,
            gc=bq_pb.GerritChange(
                host=HOST,
                project="chromium/deps",
                change=900001,
                patchset=4,
                earliest_equivalent_patchset=2,
            ),
            info=outside_info,
            files=["d.txt"],
        ),
        migration_pb.RunCL(
            id=other_host.id,
            gc=bq_pb.GerritChange(
                host="other-review.example.com",
                project="chromium/src",
                change=900001,
                patchset=1,
                earliest_equivalent_patchset=1,
            ),
            info=change_info(900001, patchset=1),
            files=["a.txt"],
        ),
    ]
    for fyi in active.fyi_deps:
        assert not fyi.HasField("trigger") and not fyi.deps and fyi.gc.mode == 0
    # Every dep is among cls or fyi_deps, as CQDaemon checks.
    known = {cl.id for cl in active.cls} | {cl.id for cl in active.fyi_deps}
    assert {d.id for cl in active.cls for d in cl.deps} <= known


@live
def test_fetch_active_runs_of_a_project_without_runs_is_empty(api):
    make_run_with_cls("v8")
    response = api.FetchActiveRuns(migration_pb.FetchActiveRunsRequest(luci_project="chromium"))
    assert response == migration_pb.FetchActiveRunsResponse()
    assert_calls(("FetchActiveRuns", "OK"))


@live
def test_fetch_active_runs_requires_the_project(api):
    error = rpc_error(
        Code.INVALID_ARGUMENT, api.FetchActiveRuns, migration_pb.FetchActiveRunsRequest()
    )
    assert error.message == "luci_project is required"
    assert_calls(("FetchActiveRuns", "INVALID_ARGUMENT"))


# --- FetchExcludedCLs -------------------------------------------------------------------------


@live
def test_fetch_excluded_cls_lists_cls_of_active_verified_runs_once_by_clid(api):
    shared = add_cl()
    cls = [add_cl() for _ in range(4)]
    expected_cls = []
    for status, cl in zip(
        (RunStatus.RUNNING, RunStatus.WAITING_FOR_SUBMISSION, RunStatus.SUBMITTING),
        cls,
        strict=False,
    ):
        run = make_run(status=status, mode="FULL_RUN")
        # Run order puts the shared (lowest CLID) CL last.
        add_run_cl(run, cl, 0)
        add_run_cl(run, shared, 1)
        mark_verified(run)
        expected_cls.append(cl)
    not_shown = [add_cl() for _ in range(5)]
    unverified = make_run()  # RUNNING without a verdict
    add_run_cl(unverified, not_shown[0], 0)
    for status, cl in zip(
        (RunStatus.PENDING, RunStatus.SUCCEEDED, RunStatus.FAILED), not_shown[1:], strict=False
    ):
        run = make_run(status=status)
        add_run_cl(run, cl, 0)
        mark_verified(run)
    v8_run = make_run("v8")
    add_run_cl(v8_run, not_shown[4], 0)
    mark_verified(v8_run)

    response = api.FetchExcludedCLs(migration_pb.FetchExcludedCLsRequest(luci_project="chromium"))

    assert response == migration_pb.FetchExcludedCLsResponse(
        cls=[
            bq_pb.GerritChange(host=HOST, change=cl.change)
            for cl in sorted([shared, *expected_cls], key=lambda cl: cl.id)
        ]
    )
    for change in response.cls:
        assert change.ListFields() == [
            (bq_pb.GerritChange.DESCRIPTOR.fields_by_name["host"], HOST),
            (bq_pb.GerritChange.DESCRIPTOR.fields_by_name["change"], change.change),
        ]
    assert_calls(("FetchExcludedCLs", "OK"))


@live
def test_fetch_excluded_cls_of_a_project_without_verified_runs_is_empty(api):
    make_run_with_cls()
    response = api.FetchExcludedCLs(migration_pb.FetchExcludedCLsRequest(luci_project="chromium"))
    assert response == migration_pb.FetchExcludedCLsResponse()


@live
def test_fetch_excluded_cls_requires_the_project(api):
    error = rpc_error(
        Code.INVALID_ARGUMENT, api.FetchExcludedCLs, migration_pb.FetchExcludedCLsRequest()
    )
    assert error.message == "luci_project is required"
    assert_calls(("FetchExcludedCLs", "INVALID_ARGUMENT"))


# --- ReportUsedNetrc --------------------------------------------------------------------------

SECRET = "git-cqd.chromium.org:1/SuperSecretNetrcPassword"


@live
def test_report_used_netrc_stores_the_token_encrypted_and_the_last_write_wins(api, caplog):
    caplog.set_level(logging.DEBUG)
    request = migration_pb.ReportUsedNetrcRequest(gerrit_host=HOST, access_token=SECRET)

    assert api.ReportUsedNetrc(request) == empty_pb2.Empty()

    row = NetrcToken.objects.get()
    assert row.gerrit_host == HOST
    stored = bytes(row.encrypted_access_token)
    assert SECRET.encode() not in stored and b"SuperSecret" not in stored
    assert row.access_token() == SECRET

    newer = SECRET + "-rotated"
    api.ReportUsedNetrc(migration_pb.ReportUsedNetrcRequest(gerrit_host=HOST, access_token=newer))
    api.ReportUsedNetrc(
        migration_pb.ReportUsedNetrcRequest(
            gerrit_host="other-review.example.com", access_token="a:b"
        )
    )

    assert NetrcToken.objects.get(gerrit_host=HOST).access_token() == newer
    assert NetrcToken.objects.count() == 2
    assert_calls(*[("ReportUsedNetrc", "OK")] * 3)
    assert_secret_nowhere("SuperSecret", caplog)


def assert_secret_nowhere(secret: str, caplog) -> None:
    assert secret not in caplog.text
    for call in ApiCall.objects.values():
        assert all(secret not in str(value) for value in call.values())
    for event in RunEvent.objects.values():
        assert all(secret not in str(value) for value in event.values())


@live
@pytest.mark.parametrize(
    "host, token",
    [("", SECRET), (HOST, ""), ("", "")],
    ids=["no-host", "no-token", "neither"],
)
def test_report_used_netrc_requires_host_and_token(api, caplog, host, token):
    caplog.set_level(logging.DEBUG)
    error = rpc_error(
        Code.INVALID_ARGUMENT,
        api.ReportUsedNetrc,
        migration_pb.ReportUsedNetrcRequest(gerrit_host=host, access_token=token),
    )
    assert error.message == "access_token and gerrit_host required"
    assert NetrcToken.objects.count() == 0
    assert_calls(("ReportUsedNetrc", "INVALID_ARGUMENT"))
    assert_secret_nowhere("SuperSecret", caplog)


@live
def test_report_used_netrc_refusing_a_bad_host_does_not_echo_the_token(api, caplog):
    caplog.set_level(logging.DEBUG)
    error = rpc_error(
        Code.INVALID_ARGUMENT,
        api.ReportUsedNetrc,
        migration_pb.ReportUsedNetrcRequest(gerrit_host="bad\x00host", access_token=SECRET),
    )
    assert "SuperSecret" not in error.message
    assert NetrcToken.objects.count() == 0
    assert_secret_nowhere("SuperSecret", caplog)


@live
def test_the_reported_netrc_token_authenticates_gerrit_posts(make_api, fmt, fake_gerrit, caplog):
    """Without configured credentials the stored `login:password` is sent as Basic auth."""
    caplog.set_level(logging.DEBUG)
    fake_gerrit.add_change(1, project="chromium/src")
    run = make_run_of_changes(fake_gerrit, [1], mode="DRY_RUN")
    api = make_api(["chromium"], format=fmt)

    api.ReportUsedNetrc(
        migration_pb.ReportUsedNetrcRequest(gerrit_host=fake_gerrit.host, access_token=SECRET)
    )
    api.PostGerritMessage(post_request(run, fake_gerrit))

    [post] = fake_gerrit.requests_to("POST", "/review")
    assert post.path.startswith("/a/changes/")
    assert post.authorization == "Basic " + base64.b64encode(SECRET.encode()).decode()
    # The live server's log lines are captured too (so the checks below see them).
    assert f"Gerrit {fake_gerrit.host}: POST /a/changes/" in caplog.text
    # A refused post's error names no credential either.
    fake_gerrit.fail_next(403, path_contains="/review", body=f"denied for {SECRET}\n")
    error = rpc_error(
        Code.PERMISSION_DENIED, api.PostGerritMessage, post_request(run, fake_gerrit, comment="2")
    )
    assert "SuperSecret" not in error.message
    assert_secret_nowhere("SuperSecret", caplog)


# --- query counts -----------------------------------------------------------------------------


def add_runs_of_three_cls(count: int) -> None:
    """`count` RUNNING chromium runs of 3 CLs with deps inside and outside the run, and as
    many verified ones."""
    for _ in range(count):
        for verified in (False, True):
            run = make_run(mode="FULL_RUN")
            outside = add_cl()
            a, b, c = add_cl(), add_cl(), add_cl()
            add_run_cl(run, a, 0)
            add_run_cl(run, b, 1, deps=[(a, True), (outside, False)])
            add_run_cl(run, c, 2, deps=[(b, True)])
            if verified:
                mark_verified(run)


def post_binary(client, token: str, method: str, request):
    response = client.post(
        f"/prpc/migration.Migration/{method}",
        data=request.SerializeToString(),
        content_type="application/prpc; encoding=binary",
        HTTP_ACCEPT="application/prpc; encoding=binary",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200, response.content
    assert response["X-Prpc-Grpc-Code"] == "0"
    return response.content


QUERY_METHODS = [
    ("FetchActiveRuns", migration_pb.FetchActiveRunsRequest, migration_pb.FetchActiveRunsResponse),
    (
        "FetchExcludedCLs",
        migration_pb.FetchExcludedCLsRequest,
        migration_pb.FetchExcludedCLsResponse,
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize("method, request_class, response_class", QUERY_METHODS)
def test_fetching_takes_the_same_number_of_queries_for_1_and_10_runs(
    client, settings, django_assert_num_queries, method, request_class, response_class
):
    settings.API_TOKEN_CACHE_SECONDS = 0  # both calls look their token up
    _, token = ApiToken.issue("cqdaemon-test", ["chromium"])
    request = request_class(luci_project="chromium")
    add_runs_of_three_cls(1)
    with CaptureQueriesContext(connection) as one_run:
        content = post_binary(client, token, method, request)
    response = response_class.FromString(content)
    size_for_one = len(getattr(response, "active_runs", None) or response.cls)
    assert size_for_one == (1 if method == "FetchActiveRuns" else 3)

    add_runs_of_three_cls(9)
    with django_assert_num_queries(len(one_run.captured_queries)):
        content = post_binary(client, token, method, request)

    response = response_class.FromString(content)
    if method == "FetchActiveRuns":
        assert len(response.active_runs) == 10
        assert all(len(r.cls) == 3 and len(r.fyi_deps) == 1 for r in response.active_runs)
    else:
        assert len(response.cls) == 30


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
