"""FetchActiveRuns and FetchExcludedCLs read the active runs only, however long the history
beside them: no plan of theirs scans all runs, run CLs or CLs.

PostgreSQL's plans, on realistic statistics: `seed_scale` writes a history (runs with their CLs,
run CLs, CQDaemon verdicts), its biggest project gets many more active runs, half of them
verified, and ANALYZE runs. The calls go through the real view; every SELECT they make is
EXPLAINed. The run CLs are read by a list of run IDs, whose length the planner knows, not by a
join whose size it estimates from the project's and the status's frequencies apart.

Smaller tables of the history (verdicts, CL deps) may still be scanned whole where the planner
finds it cheaper than as many index probes as there are active runs: at this size it does.
"""

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cvproto.migration import migration_pb2 as migration_pb
from migration_api.models import ApiToken
from migration_api.tests.rpc_support import mark_verified, post_binary
from migration_api.tests.test_query_counts import create_active_runs
from runs.models import CL, Run, RunCL, RunStatus

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the query plans checked are PostgreSQL's"
)

HISTORY_RUNS = 40_000
ACTIVE_RUNS = 1_000
PROJECT = "chromium"  # seed_scale's biggest project
HISTORY_END = datetime(2025, 12, 1, tzinfo=UTC)  # create_active_runs' runs come after
HISTORY_TABLES = {m._meta.db_table for m in (Run, RunCL, CL)}


@pytest.fixture(scope="module")
def history(django_db_setup, django_db_blocker):
    """The history and the busy project, written once for the module and rolled back after."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command(
            "seed_scale",
            f"--runs={HISTORY_RUNS}",
            f"--now={HISTORY_END.isoformat()}",
            "--api-calls=0",
            verbosity=0,
        )
        create_active_runs(PROJECT, ACTIVE_RUNS, first_change=10_000_000)
        # Half the runs are verified, and wait for their submission: FetchExcludedCLs' CLs.
        added = Run.objects.filter(project=PROJECT, create_time__gt=HISTORY_END)
        verified = list(added.order_by("id")[: ACTIVE_RUNS // 2])
        for run in verified:
            mark_verified(run)
        Run.objects.filter(id__in=[r.id for r in verified]).update(
            status=RunStatus.WAITING_FOR_SUBMISSION
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        yield
        transaction.set_rollback(True)


@pytest.fixture
def token(history, db):
    return ApiToken.issue("cqdaemon-busy", [PROJECT])[1]


def plan_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def history_scans(sql: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        (plan,) = cursor.fetchone()[0]
    return [
        node["Relation Name"]
        for node in plan_nodes(plan["Plan"])
        if node["Node Type"] == "Seq Scan" and node["Relation Name"] in HISTORY_TABLES
    ]


def call_and_check_plans(client, token: str, method: str, request):
    with CaptureQueriesContext(connection) as captured:
        response = post_binary(client, token, method, request)
    selects = [q["sql"] for q in captured if q["sql"].startswith("SELECT")]
    assert len(selects) >= 2, selects
    for sql in selects:
        assert not history_scans(sql), f"{method} scans {history_scans(sql)}: {sql[:500]}"
    return response


def test_fetch_active_runs_reads_the_active_runs_only(client, token):
    request = migration_pb.FetchActiveRunsRequest(luci_project=PROJECT)
    response = migration_pb.FetchActiveRunsResponse.FromString(
        call_and_check_plans(client, token, "FetchActiveRuns", request)
    )
    served = [run.id for run in response.active_runs]
    expected = Run.objects.filter(
        project=PROJECT, status=RunStatus.RUNNING, cqd_verified__isnull=True
    ).order_by("id")
    assert served == list(expected.values_list("id", flat=True))
    assert len(served) >= ACTIVE_RUNS // 2


def test_fetch_excluded_cls_reads_the_active_runs_only(client, token):
    request = migration_pb.FetchExcludedCLsRequest(luci_project=PROJECT)
    response = migration_pb.FetchExcludedCLsResponse.FromString(
        call_and_check_plans(client, token, "FetchExcludedCLs", request)
    )
    expected = CL.objects.filter(
        run_cls__run__project=PROJECT,
        run_cls__run__status__in=[
            RunStatus.RUNNING,
            RunStatus.WAITING_FOR_SUBMISSION,
            RunStatus.SUBMITTING,
        ],
        run_cls__run__cqd_verified__isnull=False,
    ).distinct()
    assert sorted(cl.change for cl in response.cls) == sorted(
        expected.values_list("change", flat=True)
    )
    assert len(response.cls) >= 3 * ACTIVE_RUNS // 2
