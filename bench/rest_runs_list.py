"""The REST API's runs list (GET /api/v1/runs/) at 1,000,000 runs against the same at 10,000.

Measures the real view through Django's test client with a bearer token: authentication, the
keyset page (newest first across projects), the run CLs of the page, JSON. Three requests:
the first page, the page after it (a cursor), and a project + status filter. Each is timed at
10,000 runs, then the table is grown to BENCH_REST_RUNS runs (default 1,000,000) and timed
again.

ratio = time at the large size / time at 10,000; the goal is <= 1.5 for each request: a keyset
page costs the same however many rows come after it.

The runs are generated here, fast (executemany in batches, no model instances): valid rows
(run IDs built by runs.ids, end times on ended runs) over 5 projects, 1 minute apart.
"""

import hashlib
import os
import statistics
import time
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.test import Client, override_settings

from migration_api.models import ApiToken
from runs.ids import RunID
from runs.models import Run, RunStatus

SMALL = 10_000
LARGE = int(os.environ.get("BENCH_REST_RUNS", "1000000"))
PROJECTS = ["chromium", "v8", "angle", "skia", "webrtc"]
STATUSES = [RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.RUNNING]
BASE_TIME = datetime(2024, 1, 1, tzinfo=UTC)
BATCH = 20_000
REPEAT = 30
WARMUP = 5
GOAL = 1.5
COLUMNS = (
    "id",
    "project",
    "status",
    "mode",
    "cqd_attempt_key",
    "owner",
    "config_group",
    "create_time",
    "start_time",
    "update_time",
    "end_time",
    "finalized_by_cqd",
    "end_reason",
    "eversion",
)


def run_row(n: int) -> tuple:
    project = PROJECTS[n % len(PROJECTS)]
    status = STATUSES[n % len(STATUSES)]
    created = BASE_TIME + timedelta(minutes=n)
    key = hashlib.blake2b(str(n).encode(), digest_size=8).hexdigest()
    ended = created + timedelta(minutes=30) if status & 64 else None
    return (
        str(RunID.new(project, created, key)),
        project,
        int(status),
        "DRY_RUN",
        key,
        f"dev{n % 100}@example.com",
        "main",
        created,
        created,
        ended or created,
        ended,
        False,
        "",
        1,
    )


def insert_runs(start: int, end: int) -> None:
    table = Run._meta.db_table
    placeholders = ", ".join(["%s"] * len(COLUMNS))
    sql = f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({placeholders})"
    for first in range(start, end, BATCH):
        rows = [run_row(n) for n in range(first, min(first + BATCH, end))]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)
        print(f"  rest_runs_list: {min(first + BATCH, end):,} runs", end="\r", flush=True)
    print()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def median_seconds(client: Client, url: str) -> float:
    times = []
    for _ in range(WARMUP):
        client.get(url)
    for _ in range(REPEAT):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content[:500]
    return statistics.median(times)


def measure(client: Client) -> dict[str, float]:
    first = client.get("/api/v1/runs/").json()
    return {
        "first page": median_seconds(client, "/api/v1/runs/"),
        "second page": median_seconds(client, first["next"]),
        "project + status": median_seconds(client, "/api/v1/runs/?project=v8&status=FAILED"),
    }


@override_settings(REST_API_THROTTLE_RATE="1000000/minute")
def run() -> None:
    _, token = ApiToken.issue("bench", [], all_projects=True)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    insert_runs(0, SMALL)
    small = measure(client)
    insert_runs(SMALL, LARGE)
    large = measure(client)
    for name, seconds in small.items():
        ratio = large[name] / seconds
        verdict = "ok" if ratio <= GOAL else "MISSED"
        print(
            f"rest_runs_list {name}: {LARGE:,} runs {large[name] * 1000:.2f} ms, "
            f"{SMALL:,} runs {seconds * 1000:.2f} ms, ratio {ratio:.2f} (goal <= {GOAL}) {verdict}"
        )
