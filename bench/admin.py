"""The admin's pages at many runs against the same pages at 10,000 runs, on PostgreSQL.

Two fresh databases (bench.postgres): the small one is filled by `manage.py seed_scale` with
10,000 runs (and what goes with them: CLs, tryjobs, CQDaemon records, API calls); the large one
is a copy of it to which seed_scale adds runs up to BENCH_SCALE_RUNS (default 100,000; set
1000000 for the issue's size: seeding took 24 minutes on a shared 2-core machine, which is why
it is opt-in). Both are vacuumed and analysed. Then, ROUNDS times, each page
of CASES is timed on the small database, then on the large one (median of REPEAT requests
after WARMUP; Django's test client, a logged-in superuser; one process per database and
round): alternating keeps the load of a shared machine from favouring one size.

ratio = time at the large size / time at 10,000 (each the median of the rounds' medians); the
goal is <= 1.5 for each page: a list page reads one index range of a page (keyset pages, no
COUNT, no OFFSET, no DISTINCT) and a lookup one index path, however many rows there are.

The pages show the same objects at both sizes (chosen in the small database, copied into the
large one), except the deep page: 1,000 pages into the runs list at the large size, the deepest
full page at 10,000 (100 pages of 100 runs). Its cursor is built as the list builds its own
(cvadmin.keyset). A case is one line of CASES: a label and a URL whose placeholders are filled
from `fixed_samples()` and the deep cursor.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
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
LARGE = int(os.environ.get("BENCH_SCALE_RUNS", "100000"))
DEEP_PAGES = 1_000
ROUNDS = 3
REPEAT = 15
WARMUP = 3
ROOT = Path(__file__).resolve().parent.parent
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


def deep_cursor() -> str:
    run_admin = admin.site._registry[Run]
    ordering = ("-create_time", "id")
    per_page = run_admin.list_per_page
    depth = min(DEEP_PAGES * per_page, Run.objects.count() - per_page)  # setup, not timed
    row = Run.objects.order_by(*ordering)[depth - 1]  # the previous page's last row
    return encode(row, keys_of(Run, ordering))


def fixed_samples() -> dict[str, str]:
    run = Run.objects.filter(status=RunStatus.FAILED).order_by("-create_time", "id")[50]
    cl = CL.objects.filter(run_cls__run=run).first()
    return {
        "project": run.project,
        "status": str(RunStatus.FAILED.value),
        "cl_url": quote(f"https://{cl.host}/{cl.change}", safe=""),
        "run_id": admin_quote(run.id),  # as the admin writes it in its URLs
    }


def vacuum_analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def seed_small() -> None:
    """(In the small database's process.) Prints the pages' fixed samples as JSON."""
    call_command("seed_scale", runs=SMALL, seed=1, verbosity=0)
    User.objects.create_superuser("bench", "bench@example.com", "unused")
    vacuum_analyze()
    print(json.dumps(fixed_samples()))


def seed_large() -> None:
    """(In the large database's process, a copy of the small one.)"""
    call_command("seed_scale", runs=LARGE - SMALL, seed=2, verbosity=0)
    vacuum_analyze()
    print("{}")


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


def time_pages() -> None:
    """(In either database's process.) Prints each case's median seconds as JSON."""
    setup_test_environment()
    assert reverse("admin:runs_run_changelist") == RUNS
    client = Client()
    client.force_login(User.objects.get(username="bench"))
    values = {**json.loads(os.environ["BENCH_ADMIN_SAMPLES"]), "deep_cursor": deep_cursor()}
    medians = {label: median_seconds(client, url.format(**values)) for label, url in CASES}
    print(json.dumps(medians))


def in_process(url: str, function: str, samples: dict | None = None, migrate=False) -> dict:
    """Runs `function` of this module in a process connected to the database at `url` (this
    process is bound to the benchmarks' SQLite file); returns the JSON it printed last."""
    steps = "call_command('migrate', verbosity=0); " if migrate else ""
    script = (
        "import django; django.setup(); from django.core.management import call_command; "
        f"{steps}from bench.admin import {function}; {function}()"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "cvsite.test_settings",
            "PYTHONPATH": str(ROOT),
            "BENCH_ADMIN_SAMPLES": json.dumps(samples or {}),
        },
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def run() -> None:
    print(f"admin: PostgreSQL, {SMALL:,} runs against {LARGE:,} (seed_scale)")
    rounds: dict[str, list[dict]] = {"small": [], "large": []}
    try:
        with postgres.fresh_databases("admin_small", "admin_large") as urls:
            started = time.monotonic()
            fixed = in_process(urls["admin_small"], "seed_small", migrate=True)
            print(f"  admin: seeded {SMALL:,} runs in {time.monotonic() - started:.0f} s")
            postgres.copy_database(urls["admin_small"], urls["admin_large"])
            started = time.monotonic()
            in_process(urls["admin_large"], "seed_large")
            print(
                f"  admin: seeded {LARGE - SMALL:,} more runs in {time.monotonic() - started:.0f} s"
            )
            for _ in range(ROUNDS):
                for size, measured in rounds.items():
                    measured.append(in_process(urls[f"admin_{size}"], "time_pages", fixed))
    except postgres.Unreachable as e:
        print(f"  PostgreSQL: skipped, {e}")
        return
    for label, _ in CASES:
        small = statistics.median(r[label] for r in rounds["small"])
        large = statistics.median(r[label] for r in rounds["large"])
        ratio = large / small
        verdict = "ok" if ratio <= GOAL else "MISSED"
        print(
            f"admin {label}: {LARGE:,} runs {large * 1000:.1f} ms, {SMALL:,} runs "
            f"{small * 1000:.1f} ms, ratio {ratio:.2f} (goal <= {GOAL}) {verdict}"
        )
