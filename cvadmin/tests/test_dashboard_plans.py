"""On PostgreSQL, with realistic statistics (seed_scale, then ANALYZE), no dashboard query reads
a big table sequentially: the page is fetched for every scope and window, the queries it ran
are captured, and PostgreSQL's plan of each one is checked."""

import json

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from runs.models import Run

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="plans are PostgreSQL's: run with DATABASE_URL=postgres://... (as .ci/run does)",
)

SEEDED_RUNS = 20_000
# A table this big is read through an index by the dashboards; smaller ones may be scanned.
BIG_TABLE_ROWS = 5_000
# Tables the check must cover (seed_scale fills them past BIG_TABLE_ROWS).
EXPECTED_BIG = {
    "runs_run",
    "runs_runcl",
    "runs_runevent",
    "tryjobs_tryjob",
    "migration_api_apicall",
    "runs_gerritpost",
    "runs_runrollup",
    "tryjobs_tryjobrollup",
}
URL = reverse("admin:runs_run_dashboard")


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """SEEDED_RUNS runs with their rollups, analysed; rolled back after the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_scale", runs=SEEDED_RUNS, verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute(
                "SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples >= %s",
                [BIG_TABLE_ROWS],
            )
            big = {name for (name,) in cursor.fetchall()}
        project = Run.objects.order_by("-create_time").values_list("project", flat=True)[0]
        yield big, project
        transaction.set_rollback(True)


def sequential_scans(plan: dict) -> list[str]:
    found = [plan["Relation Name"]] if plan["Node Type"] == "Seq Scan" else []
    for child in plan.get("Plans", []):
        found += sequential_scans(child)
    return found


def test_the_check_covers_the_big_tables(seeded):
    big, _ = seeded
    assert EXPECTED_BIG <= big


@pytest.mark.parametrize("window", ["24h", "7d", "30d"])
@pytest.mark.parametrize("scope", ["all", "project"])
def test_no_dashboard_query_scans_a_big_table(client, db, seeded, window, scope):
    big, project = seeded
    client.force_login(User.objects.create_superuser("planner", "planner@example.com", "pw"))
    query = {"window": window, "project": project if scope == "project" else ""}
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, query)
    assert response.status_code == 200
    assert response.context["board"].period_rows
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(selects) >= 10
    with connection.cursor() as cursor:
        for sql in selects:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            (plan,) = cursor.fetchone()
            plan = plan if isinstance(plan, list) else json.loads(plan)
            scanned = set(sequential_scans(plan[0]["Plan"])) & big
            assert not scanned, f"{query}: sequential scan of {scanned} in\n{sql}"
