"""The REST API's runs list (GET /api/v1/runs/) at BENCH_SCALE_RUNS runs against the same at
10,000, on SQLite and on PostgreSQL.

Measures the real view through Django's test client with a bearer token: authentication, the
keyset page (newest first across projects), the run CLs of the page, JSON. Four requests:
the first page, the page after it (a cursor), a status filter and a project + status filter.
Each is timed at 10,000 runs, then the database is grown to BENCH_SCALE_RUNS runs (default
100,000; the issue's size, 1,000,000, takes over half an hour to seed on SQLite) and timed
again.

ratio = time at the large size / time at 10,000 (each the fastest of 50 requests); the goal
is <= 1.5 for each request: a keyset page costs the same however many rows come after it.
The CPU time ratio is printed beside it (see `time_requests`).

The rows are `manage.py seed_scale`'s (runs with their CLs, events, tryjobs, execution states
and CQDaemon records over 5 projects and 30 days up to a fixed time; no API call records,
which the runs list never reads). Growing the database appends runs over the same 30 days, so
the newest page at 1,000,000 holds runs of both seedings. Statistics are refreshed once
loaded (ANALYZE), as autovacuum keeps them in a live PostgreSQL database.
"""

import os
import statistics
import time
from datetime import UTC, datetime
from typing import NamedTuple

from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings

from bench import postgres
from migration_api.models import ApiToken

SMALL = 10_000
LARGE = int(os.environ.get("BENCH_SCALE_RUNS", "100000"))
NOW = datetime(2026, 1, 1, tzinfo=UTC)
REPEAT = 50
WARMUP = 5
GOAL = 1.5


def seed(runs: int, seed: int) -> None:
    """Appends `runs` runs (and everything about them), then refreshes the statistics."""
    print(f"  rest_runs_list: seeding {runs:,} runs on {connection.vendor}", flush=True)
    call_command(
        "seed_scale",
        "--runs",
        str(runs),
        "--seed",
        str(seed),
        "--now",
        NOW.isoformat(),
        "--api-calls",
        "0",
        verbosity=0,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


class Timing(NamedTuple):
    wall: float  # the fastest request
    cpu: float  # the median request's CPU time in this process


def time_requests(client: Client, url: str) -> Timing:
    """REPEAT requests' fastest wall-clock time: the two sizes are measured minutes apart on a
    shared machine, and other processes only ever add time (as timeit's documentation argues).
    And their median CPU time in this process, which other processes barely touch: on SQLite
    it includes the database's work; on PostgreSQL the server's work is not in it."""
    walls, cpus = [], []
    for _ in range(WARMUP):
        client.get(url)
    for _ in range(REPEAT):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - started_cpu)
        assert response.status_code == 200, response.content[:500]
    return Timing(min(walls), statistics.median(cpus))


def timings(client: Client) -> dict[str, Timing]:
    first = client.get("/api/v1/runs/").json()
    return {
        "first page": time_requests(client, "/api/v1/runs/"),
        "second page": time_requests(client, first["next"]),
        "status": time_requests(client, "/api/v1/runs/?status=FAILED"),
        "project + status": time_requests(client, "/api/v1/runs/?project=v8&status=FAILED"),
    }


def run() -> None:
    measure("SQLite")
    postgres.measure_in_fresh_database("rest_runs_list", "measure_on_postgres")


def measure_on_postgres() -> None:
    measure("PostgreSQL")


@override_settings(REST_API_THROTTLE_RATE="1000000/minute")
def measure(database: str) -> None:
    _, token = ApiToken.issue("bench-rest-runs-list", [], all_projects=True)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    seed(SMALL, seed=0)
    small = timings(client)
    seed(LARGE - SMALL, seed=1)
    large = timings(client)
    for name, at_small in small.items():
        at_large = large[name]
        ratio = at_large.wall / at_small.wall
        verdict = "ok" if ratio <= GOAL else "MISSED"
        print(
            f"rest_runs_list {database} {name}: {LARGE:,} runs {at_large.wall * 1000:.2f} ms, "
            f"{SMALL:,} runs {at_small.wall * 1000:.2f} ms, ratio {ratio:.2f} "
            f"(goal <= {GOAL}) {verdict}; CPU {at_large.cpu * 1000:.2f} / "
            f"{at_small.cpu * 1000:.2f} ms, ratio {at_large.cpu / at_small.cpu:.2f}"
        )
