"""FetchActiveRuns and FetchExcludedCLs take a constant number of queries, however many runs
a project has.

Counts queries through the real view (Django's test client, binary, bearer token); no timing.
For 10 and 1000 runs of FetchActiveRuns, rows are written in bulk: every run has 3 CLs chained
by deps, and its first CL depends on a CL outside the run, so the `fyi_deps` path is counted
too. Both methods are also compared for 1 and 10 runs set up as the per-RPC tests do, half of
them verified.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cvproto.migration import migration_pb2 as migration_pb
from migration_api.models import ApiToken
from migration_api.tests.rpc_support import add_cl, add_run_cl, mark_verified, post_binary
from runs import queries
from runs.ids import RunID
from runs.models import CL, DepKind, Run, RunCL, RunCLDep, RunStatus
from runs.serializers import set_served_message
from runs.tests.factories import make_run

URL = "/prpc/migration.Migration/FetchActiveRuns"
BINARY = "application/prpc; encoding=binary"
HOST = "chromium-review.googlesource.com"
BASE_TIME = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
CLS_PER_RUN = 3


def create_active_runs(project: str, runs: int, first_change: int) -> None:
    """`runs` RUNNING runs of `project`, 3 CLs each plus one CL outside the run (an fyi dep)."""
    snapshot = {"patchset": 2, "min_equivalent_patchset": 1, "info": b"", "files": ["a.cc"]}
    cls = CL.objects.bulk_create(
        CL(host=HOST, change=first_change + n, luci_project=project, **snapshot)
        for n in range(runs * (CLS_PER_RUN + 1))
    )
    run_rows, run_cls, deps = [], [], []
    for i in range(runs):
        created = BASE_TIME + timedelta(seconds=i)
        key = f"{first_change + i:016x}"
        run = Run(
            id=str(RunID.new(project, created, key)),
            project=project,
            cqd_attempt_key=key,
            status=RunStatus.RUNNING,
            mode="DRY_RUN",
            create_time=created,
            start_time=created,
        )
        run_rows.append(run)
        outside, *in_run = cls[i * (CLS_PER_RUN + 1) : (i + 1) * (CLS_PER_RUN + 1)]
        for position, cl in enumerate(in_run):
            run_cl = RunCL(
                run=run,
                cl=cl,
                position=position,
                trigger_time=created,
                trigger_mode="DRY_RUN",
                trigger_account_id=1,
                **snapshot,
            )
            depends_on = in_run[:position] or [outside]
            run_cl_deps = [
                RunCLDep(
                    run_cl=run_cl,
                    depends_on=dep,
                    kind=DepKind.HARD if n == position - 1 else DepKind.SOFT,
                    position=n,
                )
                for n, dep in enumerate(depends_on)
            ]
            run_cls.append(set_served_message(run_cl, run_cl_deps))
            deps.extend(run_cl_deps)
    Run.objects.bulk_create(run_rows)
    RunCL.objects.bulk_create(run_cls)
    RunCLDep.objects.bulk_create(deps)


def fetch_active_runs(client, token: str, project: str):
    """(number of queries, response) of one FetchActiveRuns call."""
    body = migration_pb.FetchActiveRunsRequest(luci_project=project).SerializeToString()
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            URL,
            body,
            content_type=BINARY,
            headers={"Accept": BINARY, "Authorization": f"Bearer {token}"},
        )
    count = len(queries)  # now: a later request resets the connection's query log
    assert response.status_code == 200, response.content[:500]
    assert response["X-Prpc-Grpc-Code"] == "0"
    return count, migration_pb.FetchActiveRunsResponse.FromString(response.content)


@pytest.mark.django_db
def test_fetch_active_runs_queries_do_not_grow_with_runs(client, settings):
    settings.API_TOKEN_CACHE_SECONDS = 0  # both calls look their token up
    create_active_runs("small", 10, first_change=10_000)
    create_active_runs("large", 1000, first_change=100_000)
    _, token = ApiToken.issue("cqdaemon", ["small", "large"])

    small_queries, small = fetch_active_runs(client, token, "small")
    large_queries, large = fetch_active_runs(client, token, "large")

    for response, runs in ((small, 10), (large, 1000)):
        assert len(response.active_runs) == runs
        assert all(len(r.cls) == CLS_PER_RUN and len(r.fyi_deps) == 1 for r in response.active_runs)
        assert all(
            len(c.deps) == max(1, n) for r in response.active_runs for n, c in enumerate(r.cls)
        )
    assert small_queries == large_queries, (
        f"FetchActiveRuns took {small_queries} queries for 10 runs, {large_queries} for 1000"
    )


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
def test_runs_beyond_one_key_list_are_all_served(client, monkeypatch):
    """The active runs' keys go to the database in lists of KEYS_PER_QUERY: with lists of 3,
    10 runs (30 run CLs) take several of each, and the answers are those of one list."""
    create_active_runs("chunked", 10, first_change=10_000)
    for run in Run.objects.filter(project="chunked").order_by("id")[:4]:
        mark_verified(run)
        Run.objects.filter(id=run.id).update(status=RunStatus.WAITING_FOR_SUBMISSION)
    _, token = ApiToken.issue("cqdaemon", ["chunked"])
    request = migration_pb.FetchExcludedCLsRequest(luci_project="chunked")

    _, whole = fetch_active_runs(client, token, "chunked")
    excluded = post_binary(client, token, "FetchExcludedCLs", request)
    monkeypatch.setattr(queries, "KEYS_PER_QUERY", 3)
    _, chunked = fetch_active_runs(client, token, "chunked")

    assert chunked == whole and len(whole.active_runs) == 6
    assert all(len(r.cls) == CLS_PER_RUN and len(r.fyi_deps) == 1 for r in chunked.active_runs)
    assert post_binary(client, token, "FetchExcludedCLs", request) == excluded
    assert len(migration_pb.FetchExcludedCLsResponse.FromString(excluded).cls) == 12
