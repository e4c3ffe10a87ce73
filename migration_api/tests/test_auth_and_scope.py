"""Authentication, token scopes and call records: the same for all eight Migration RPCs.

Every call needs a bearer token. Without one, or with a malformed, unknown or revoked one, a
call is UNAUTHENTICATED before anything else is looked at, and only counted (RefusedCalls,
per minute, method and answer), not recorded one row each. A token covers some LUCI projects,
or all of them: a call naming another project, by a field or by the ID of the run it names,
is PERMISSION_DENIED and changes nothing. These scopes are
cvsite's own (issue 3), in place of upstream's group ACL (shared/reference/
migration_behaviour.md §2.0). Through a live cvsite, with binary and JSON bodies.
"""

import pytest

from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.migration import migration_pb2 as migration_pb
from migration_api import auth
from migration_api.models import ApiCall, ApiToken, RefusedCalls
from migration_api.tests.conftest import MigrationClient, wait_for_request_threads
from migration_api.tests.rpc_support import (
    HOST,
    UNKNOWN_KEY,
    Action,
    assert_calls,
    calls,
    finished_request,
    live,
    make_run_with_cls,
    no_side_effects,
    rpc_error,
    verified_request,
)
from prpc.client import Client, RpcError
from prpc.codes import Code
from runs.models import NetrcToken, ReportedRun, ReportedRunsSnapshot, Run, RunStatus
from runs.tests.factories import make_run_of_changes


@pytest.fixture
def all_api(make_api, fmt) -> MigrationClient:
    """A client holding an all-projects token."""
    return make_api((), all_projects=True, format=fmt)


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
    assert calls() == []
    assert list(RefusedCalls.objects.values_list("method", "code", "count")) == [
        (method, "UNAUTHENTICATED", 1)
    ]
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
    auth.revoke(ApiToken.objects.filter(pk=row.pk), "test")
    ApiCall.objects.all().delete()

    assert_refused_unauthenticated(api, method)


@live
def test_refused_calls_are_counted_per_minute_not_stored_each(anonymous_client):
    # Finding 8: every tokenless call wrote a row, so an anonymous client filled the database.
    api = anonymous_client()
    for _ in range(5):
        rpc_error(Code.UNAUTHENTICATED, api.FetchActiveRuns, SAMPLE_REQUESTS["FetchActiveRuns"])
    assert ApiCall.objects.count() == 0
    assert sum(RefusedCalls.objects.values_list("count", flat=True)) == 5
    assert RefusedCalls.objects.count() <= 2  # one row a minute (the calls may span two)


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
    """Requests that name project v8, by a field or by the ID of the run they name."""
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


def found_by_key_alone(key: str) -> dict[str, object]:
    """Requests that name project chromium and find a run only by its attempt `key`."""
    return {
        "ReportVerifiedRun": migration_pb.ReportVerifiedRunRequest(
            run=migration_pb.ReportedRun(attempt=bq_pb.Attempt(key=key)),
            action=Action.ACTION_DRY_RUN_OK,
        ),
        "FetchRunStatus": migration_pb.FetchRunStatusRequest(
            luci_project="chromium", attempt_key=key
        ),
        "PostGerritMessage": migration_pb.PostGerritMessageRequest(
            project="chromium", attempt_key=key, host=HOST, change=1, revision="1", comment="hi"
        ),
        "ReportFinishedRun": migration_pb.ReportFinishedRunRequest(
            run=migration_pb.ReportedRun(
                attempt=bq_pb.Attempt(
                    key=key, status=bq_pb.SUCCESS, gerrit_changes=[bq_pb.GerritChange(host=HOST)]
                )
            )
        ),
    }


@live
@pytest.mark.parametrize(
    "method", ["ReportVerifiedRun", "FetchRunStatus", "PostGerritMessage", "ReportFinishedRun"]
)
def test_another_projects_run_found_by_attempt_key_is_answered_as_missing(api, method):
    # Finding 9: a token for chromium could tell a v8 run from no run (403 against 404).
    v8_run, _ = make_run_with_cls("v8", status=RunStatus.SUCCEEDED)
    call = getattr(api, method)
    with pytest.raises(RpcError) as of_v8:
        call(found_by_key_alone(v8_run.cqd_attempt_key)[method])
    with pytest.raises(RpcError) as of_nothing:
        call(found_by_key_alone(UNKNOWN_KEY)[method])
    assert of_v8.value.code == of_nothing.value.code != Code.PERMISSION_DENIED
    assert of_v8.value.message.replace(v8_run.cqd_attempt_key, UNKNOWN_KEY) == (
        of_nothing.value.message
    )
    no_side_effects(v8_run)


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
