"""The admin's pages at many runs against the same pages at 10,000 runs, on PostgreSQL.

A fresh database (bench.postgres) is filled by `manage.py seed_scale` with 10,000 runs (and
what goes with them: CLs, tryjobs, CQDaemon records, API calls), analysed, and each page of
CASES is timed (median of REPEAT requests after WARMUP, Django's test client, a logged-in
superuser). Then seed_scale adds runs up to BENCH_ADMIN_RUNS (default 100,000; set
BENCH_ADMIN_1M=1 for 1,000,000, about SEED_MINUTES_1M minutes of seeding), the database is
analysed again and the same pages are timed again.

ratio = time at the large size / time at 10,000; the goal is <= 1.5 for each page: a list page
reads one index range of a page (keyset pages, no COUNT, no OFFSET, no DISTINCT) and a lookup
one index path, however many rows the tables hold.

The pages are the same objects at both sizes (chosen from the first 10,000 runs), except the
deep page: 1,000 pages into the runs list at the large size, the deepest full page at 10,000
(100 pages of 100 runs). Its cursor is built as the list builds its own (cvadmin.keyset).
A case is one line of CASES: a label and a URL, with placeholders filled from `samples()`.
"""

import os
import statistics
import time
from urllib.parse import quote

from django.contrib import admin
from django.contrib.admin.utils import quote as admin_quote
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import setup_test_environment
from django.urls import reverse

from bench import postgres
from cvadmin.keyset import encode, keys_of
from runs.models import CL, Run, RunStatus

SMALL = 10_000
LARGE = (
    1_000_000
    if os.environ.get("BENCH_ADMIN_1M")
    else int(os.environ.get("BENCH_ADMIN_RUNS", "100000"))
)
DEEP_PAGES = 1_000
REPEAT = 15
WARMUP = 3
GOAL = 1.5

RUNS = "/admin/runs/run/"
CASES = [
    ("runs list, first page", RUNS),
    ("runs list, 1,000 pages deep", RUNS + "?after={deep_cursor}"),
    ("runs filtered by project and status", RUNS + "?project={project}&status__exact={status}"),
    ("runs searched by CL URL (to the CL page)", RUNS + "?q={cl_url}"),
    ("a run page", "/admin/runs/run/{run_id}/change/"),
    ("API calls list", "/admin/migration_api/apicall/"),
]


def samples(fixed: dict[str, str]) -> dict[str, str]:
    """Placeholder values: `fixed` (chosen at 10,000 runs) and this size's deep cursor."""
    run_admin = admin.site._registry[Run]
    ordering = ("-create_time", "id")
    depth = min(DEEP_PAGES * run_admin.list_per_page, Run.objects.count() - run_admin.list_per_page)
    row = Run.objects.order_by(*ordering)[depth - 1]  # the previous page's last row
    return {**fixed, "deep_cursor": encode(row, keys_of(Run, ordering))}


def fixed_samples() -> dict[str, str]:
    run = Run.objects.filter(status=RunStatus.FAILED).order_by("-create_time", "id")[50]
    cl = CL.objects.filter(run_cls__run=run).first()
    return {
        "project": run.project,
        "status": str(RunStatus.FAILED.value),
        "cl_url": quote(f"https://{cl.host}/{cl.change}", safe=""),
        "run_id": admin_quote(run.id),  # as the admin writes it in its URLs
    }


def seed(runs: int, seed: int) -> float:
    started = time.monotonic()
    call_command("seed_scale", runs=runs, seed=seed, verbosity=0)
    seconds = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return seconds


def median_seconds(client: Client, url: str) -> float:
    follow = "?q=" in url  # a search that finds one object answers with a redirect to it
    for _ in range(WARMUP):
        response = client.get(url, follow=follow)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        client.get(url, follow=follow)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure_pages(client: Client, values: dict[str, str]) -> dict[str, float]:
    return {label: median_seconds(client, url.format(**values)) for label, url in CASES}


def measure() -> None:
    """In a process of its own, connected to a fresh, migrated PostgreSQL database."""
    setup_test_environment()
    client = Client()
    client.force_login(User.objects.create_superuser("bench", "bench@example.com", "x"))
    assert reverse("admin:runs_run_changelist") == RUNS
    seconds = seed(SMALL, seed=1)
    print(f"  admin: seeded {SMALL:,} runs in {seconds:.0f} s")
    fixed = fixed_samples()
    small = measure_pages(client, samples(fixed))
    seconds = seed(LARGE - SMALL, seed=2)
    print(f"  admin: seeded {LARGE - SMALL:,} more runs in {seconds:.0f} s")
    large = measure_pages(client, samples(fixed))
    for label, _ in CASES:
        ratio = large[label] / small[label]
        verdict = "ok" if ratio <= GOAL else "MISSED"
        print(
            f"admin {label}: {LARGE:,} runs {large[label] * 1000:.1f} ms, {SMALL:,} runs "
            f"{small[label] * 1000:.1f} ms, ratio {ratio:.2f} (goal <= {GOAL}) {verdict}"
        )


def run() -> None:
    print(f"admin: PostgreSQL, {SMALL:,} runs then {LARGE:,} (seed_scale)")
    postgres.measure_in_fresh_database("admin", "measure")
