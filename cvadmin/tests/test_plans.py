"""On PostgreSQL, with realistic statistics (seed_scale, then ANALYZE), no admin list page,
filter, search or dashboard reads a big table sequentially: each page is fetched through the
test client, the queries it ran are captured, and PostgreSQL's plan of each one is checked."""

import json
from urllib.parse import quote

import pytest
from django.contrib.admin.utils import quote as admin_quote
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from migration_api.models import ApiCall
from runs.models import CL, Project, Run, RunStatus
from tryjobs.models import Tryjob

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="plans are PostgreSQL's: run with DATABASE_URL=postgres://... (as .ci/run does)",
)

SEEDED_RUNS = 20_000
# A table this big is read by index on every admin page; smaller ones may be scanned.
BIG_TABLE_ROWS = 5_000
# Tables seed_scale fills past BIG_TABLE_ROWS: a seeding change cannot silently empty the check.
EXPECTED_BIG = {
    "runs_run",
    "runs_cl",
    "runs_runcl",
    "runs_runevent",
    "tryjobs_tryjob",
    "migration_api_apicall",
    "runs_gerritpost",
    "runs_runrollup",
    "tryjobs_tryjobrollup",
}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """SEEDED_RUNS runs and what goes with them, analysed; rolled back after the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_scale", runs=SEEDED_RUNS, verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute(
                "SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples >= %s",
                [BIG_TABLE_ROWS],
            )
            big = {name for (name,) in cursor.fetchall()}
        yield big
        transaction.set_rollback(True)


@pytest.fixture
def superuser_client(client, db, seeded):
    client.force_login(User.objects.create_superuser("planner", "planner@example.com", "pw"))
    return client


def sample() -> dict[str, str]:
    run = Run.objects.filter(status=RunStatus.FAILED).order_by("-create_time", "id")[10]
    cl = CL.objects.filter(run_cls__run=run).first()
    tryjob = Tryjob.objects.exclude(external_id=None).order_by("-id")[10]
    return {
        "run_id": run.id,
        "run_path": admin_quote(run.id),  # as the admin writes it in its URLs
        "attempt_key": run.cqd_attempt_key,
        "project": run.project,
        "mode": run.mode,
        "cl_url": f"https://{cl.host}/c/x/+/{cl.change}",
        "change": str(cl.change),
        "build_id": tryjob.external_id.rsplit("/", 1)[1],
        "builder": f"{tryjob.builder_project}/{tryjob.builder_bucket}/{tryjob.builder_name}",
        "builder_query": (
            f"builder_project={tryjob.builder_project}&builder_bucket={tryjob.builder_bucket}"
            f"&builder_name={tryjob.builder_name}"
        ),
        "caller": ApiCall.objects.order_by("-id").values_list("caller", flat=True).first(),
    }


ADMIN = "/admin"
PAGES = [
    # The runs list: pages, filters (alone and together), and every search shape.
    "/runs/run/",
    "/runs/run/?status__exact=66",
    "/runs/run/?status__exact=2",
    "/runs/run/?mode={mode}",
    "/runs/run/?project={project}",
    "/runs/run/?project={project}&status__exact=66",
    "/runs/run/?project={project}&mode={mode}",
    "/runs/run/?project={project}&status__exact=65&mode={mode}",
    "/runs/run/?status__exact=65&mode={mode}",
    "/runs/run/?q={run_id}",
    "/runs/run/?q={attempt_key}",
    "/runs/run/?q={cl_url}",
    "/runs/run/?q={change}",
    "/runs/run/?q={build_id}",
    "/runs/run/?q={builder}",
    "/runs/run/?q={project}/99",
    "/runs/run/{run_path}/change/",
    # The other big tables' lists.
    "/runs/cl/",
    "/runs/cl/?q={change}",
    "/runs/runcl/",
    "/runs/runcl/?q={run_id}",
    "/runs/finishedcqdrun/",
    "/runs/finishedcqdrun/?attempt_status__exact=3",
    "/runs/finishedcqdrun/?attempt_project={project}",
    "/runs/finishedcqdrun/?q={attempt_key}",
    "/runs/verifiedcqdrun/",
    "/runs/verifiedcqdrun/?action__exact=1",
    "/runs/verifiedcqdrun/?q={run_id}",
    "/tryjobs/tryjob/",
    "/tryjobs/tryjob/?status__exact=3",
    "/tryjobs/tryjob/?result_status__exact=2",
    "/tryjobs/tryjob/?{builder_query}",
    "/tryjobs/executionstate/",
    "/tryjobs/executionstate/?status__exact=2",
    "/tryjobs/execution/",
    "/tryjobs/execution/?q={run_id}",
    "/tryjobs/executionlogentry/",
    "/tryjobs/executionlogentry/?kind__exact=tryjobs_launched",
    "/tryjobs/executionlogentry/?q={run_id}",
    "/migration_api/apicall/",
    "/migration_api/apicall/?time_within=1h",
    "/migration_api/apicall/?time_within=7d",
    "/migration_api/apicall/?method=FetchActiveRuns",
    "/migration_api/apicall/?code=NOT_FOUND",
    "/migration_api/apicall/?caller={caller}",
    "/migration_api/apitoken/",
    "/migration_api/refusedcalls/",
]


def sequential_scans(plan: dict) -> list[str]:
    found = [plan["Relation Name"]] if plan["Node Type"] == "Seq Scan" else []
    for child in plan.get("Plans", []):
        found += sequential_scans(child)
    return found


def test_the_check_covers_the_big_tables(seeded):
    assert EXPECTED_BIG <= seeded


def test_seeded_projects_are_in_the_project_table(db, seeded):
    names = set(Project.objects.values_list("name", flat=True))
    assert names == set(Run.objects.values_list("project", flat=True).distinct())


def assert_no_big_table_scanned(what: str, queries, big: set[str]) -> None:
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert selects, what
    with connection.cursor() as cursor:
        for sql in selects:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            (plan,) = cursor.fetchone()
            plan = plan if isinstance(plan, list) else json.loads(plan)
            scanned = set(sequential_scans(plan[0]["Plan"])) & big
            assert not scanned, f"{what}: sequential scan of {scanned} in\n{sql}"


@pytest.mark.parametrize("page", PAGES)
def test_no_page_scans_a_big_table(superuser_client, seeded, page):
    url = ADMIN + page.format(**{k: quote(v, safe="/") for k, v in sample().items()})
    with CaptureQueriesContext(connection) as queries:
        response = superuser_client.get(url, follow=True)
    assert response.status_code == 200, url
    assert "is invalid" not in response.content.decode(), url
    assert_no_big_table_scanned(url, queries, seeded)


@pytest.mark.parametrize("window", ["24h", "7d", "30d"])
@pytest.mark.parametrize("scope", ["all", "project"])
def test_no_dashboard_query_scans_a_big_table(superuser_client, seeded, window, scope):
    project = Run.objects.order_by("-create_time").values_list("project", flat=True)[0]
    query = {"window": window, "project": project if scope == "project" else ""}
    with CaptureQueriesContext(connection) as queries:
        response = superuser_client.get(reverse("admin:runs_run_dashboard"), query)
    assert response.status_code == 200
    assert response.context["board"].period_rows
    assert len(queries.captured_queries) >= 10
    # Failed posts are counted from their rollup: the posts pile up with history.
    assert any("runs_postfailurerollup" in q["sql"] for q in queries.captured_queries)
    assert_no_big_table_scanned(str(query), queries, seeded)
