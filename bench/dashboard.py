"""The dashboards at many runs against the same dashboards at 10,000 runs, on PostgreSQL.

A fresh database (bench.postgres) is filled by `manage.py seed_scale` with 10,000 runs over 30
days (which also fills the dashboards' rollups), analysed, and each dashboard of CASES is timed
(median of REPEAT requests after WARMUP, Django's test client, a logged-in superuser). Then
seed_scale adds runs up to BENCH_SCALE_RUNS (default 100,000; 1000000 for the issue's size:
8 minutes of seeding on a quiet 2-core machine, 16 on a busy one), the database is analysed
again and the same dashboards are timed again.

ratio = time at the large size / time at 10,000; the goal is <= 1.5 for each: every query of
the page reads rollup rows or a small live set through an index bounded by the window, so the
page grows only as the rollups fill their (project, period, mode, status, bucket) cells.
"""

import os
import statistics
import time

from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import setup_test_environment
from django.urls import reverse

from bench import postgres
from runs.models import Run

SMALL = 10_000
LARGE = int(os.environ.get("BENCH_SCALE_RUNS", "100000"))
REPEAT = 15
WARMUP = 3
GOAL = 1.5

CASES = [
    ("project dashboard, 24 h", {"project": "{project}", "window": "24h"}),
    ("project dashboard, 7 d", {"project": "{project}", "window": "7d"}),
    ("project dashboard, 30 d", {"project": "{project}", "window": "30d"}),
    ("all projects, 7 d", {"window": "7d"}),
    ("all projects, 30 d", {"window": "30d"}),
]


def seed(runs: int, seed: int) -> float:
    started = time.monotonic()
    call_command("seed_scale", runs=runs, seed=seed, verbosity=0)
    seconds = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return seconds


def median_seconds(client: Client, query: dict[str, str]) -> float:
    url = reverse("admin:runs_run_dashboard")
    for _ in range(WARMUP):
        response = client.get(url, query)
        assert response.status_code == 200, (query, response.status_code)
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        client.get(url, query)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure_pages(client: Client, project: str) -> dict[str, float]:
    return {
        label: median_seconds(client, {k: v.format(project=project) for k, v in query.items()})
        for label, query in CASES
    }


def measure() -> None:
    """In a process of its own, connected to a fresh, migrated PostgreSQL database."""
    setup_test_environment()
    client = Client()
    client.force_login(User.objects.create_superuser("bench", "bench@example.com", "x"))
    seconds = seed(SMALL, seed=1)
    print(f"  dashboard: seeded {SMALL:,} runs (and their rollups) in {seconds:.0f} s")
    project = Run.objects.order_by("-create_time").values_list("project", flat=True)[0]
    small = measure_pages(client, project)
    seconds = seed(LARGE - SMALL, seed=2)
    print(f"  dashboard: seeded {LARGE - SMALL:,} more runs (and their rollups) in {seconds:.0f} s")
    large = measure_pages(client, project)
    for label, _ in CASES:
        ratio = large[label] / small[label]
        verdict = "ok" if ratio <= GOAL else "MISSED"
        print(
            f"dashboard {label}: {LARGE:,} runs {large[label] * 1000:.1f} ms, {SMALL:,} runs "
            f"{small[label] * 1000:.1f} ms, ratio {ratio:.2f} (goal <= {GOAL}) {verdict}"
        )


def run() -> None:
    print(f"dashboard: PostgreSQL, {SMALL:,} runs then {LARGE:,} (seed_scale)")
    postgres.measure_in_fresh_database("dashboard", "measure")
