"""`manage.py import_attempts` of 100,000 generated attempts, on SQLite and on PostgreSQL.

For each database: the import runs as a real command in a subprocess, into a freshly migrated
database; its own summary gives attempts per second (parsing, validating, deciding and writing,
without Django's start-up), and the process its peak resident memory (VmHWM). The baseline copies
exactly the rows the import wrote into a second fresh database with the fastest raw path that
database has: `executemany` (sqlite3) / `COPY` (psycopg), 10,000 rows per transaction, timing
only the inserts and commits.

ratio = import attempts/s / baseline attempts/s (the same attempts' rows); goal >= 0.3, i.e.
all the import's work costs at most about three times what merely inserting its rows costs.

Memory must stay flat as the input grows: BENCH_IMPORT_1M=1 also imports 1,000,000 lines
(SQLite, several minutes) and prints its peak against the 100,000-line one (goal: at most
100 MB more). Without it a 10,000-line import stands in, to show the trend cheaply.

Environment: BENCH_IMPORT_ATTEMPTS (default 100000), BENCH_IMPORT_1M, BENCH_POSTGRES_URL
(default postgres://postgres@127.0.0.1:5432/cvsite_bench; databases <name>_import and
<name>_baseline are created and dropped; PostgreSQL is skipped when unreachable).
"""

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from bench import postgres

ROOT = Path(__file__).resolve().parent.parent
GOAL = 0.3
MEMORY_GOAL_MB = 100
BASELINE_CHUNK = 10_000
# Parents first: PostgreSQL checks foreign keys at each commit.
TABLES = (
    "runs_cl",
    "runs_run",
    "runs_runcl",
    "runs_runevent",
    "runs_importedattempt",
    "tryjobs_tryjob",
    "tryjobs_tryjob_reused_by",
    "tryjobs_tryjobclpatchset",
)


def run() -> None:
    count = int(os.environ.get("BENCH_IMPORT_ATTEMPTS", "100000"))
    big = os.environ.get("BENCH_IMPORT_1M", "") not in ("", "0")
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        tmp = Path(tmp)
        attempts = tmp / "attempts.jsonl"
        _generate(attempts, count)
        print(
            f"import_attempts: {count:,} generated attempt lines ({_mb(attempts.stat().st_size)})"
        )
        sqlite_result = _sqlite(tmp, attempts, count)
        _postgres(tmp, attempts, count)
        other_count = 1_000_000 if big else 10_000
        other = tmp / f"attempts-{other_count}.jsonl"
        _generate(other, other_count)
        db = tmp / "memory.sqlite3"
        _migrate(f"sqlite:///{db}")
        other_peak = _import(f"sqlite:///{db}", other)["peak_mb"]
        peak = sqlite_result["peak_mb"]
        if big:
            growth = other_peak - peak
            verdict = "OK" if growth <= MEMORY_GOAL_MB else "ABOVE GOAL"
            print(
                f"  peak memory (SQLite): {peak:,.0f} MB for {count:,} lines, {other_peak:,.0f} MB "
                f"for {other_count:,} lines: {growth:+,.0f} MB (goal <= +{MEMORY_GOAL_MB} MB: "
                f"{verdict})"
            )
        else:
            print(
                f"  peak memory (SQLite): {other_peak:,.0f} MB for {other_count:,} lines, "
                f"{peak:,.0f} MB for {count:,} lines ({peak - other_peak:+,.0f} MB); "
                "BENCH_IMPORT_1M=1 also measures 1,000,000 lines (several minutes)"
            )


# --- the import, as a command ------------------------------------------------------------------


def _env(database_url: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "cvsite.test_settings",
        "DJANGO_DEBUG": "0",
        "PYTHONPATH": str(ROOT),
    }


def _manage(database_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=_env(database_url),
        capture_output=True,
        text=True,
        check=True,
    )


def _generate(path: Path, count: int) -> None:
    _manage("sqlite://:memory:", "generate_backfill_data", "--attempts", str(count), str(path))


def _migrate(database_url: str) -> None:
    _manage(database_url, "migrate", "--no-input", "-v0")


# Runs manage.py, then reports the process's peak memory. VmHWM, not ru_maxrss: the latter
# keeps the RSS the child had between fork and exec, i.e. this (bigger) benchmark process's.
_MEASURED = """
import sys
from django.core.management import execute_from_command_line
try:
    execute_from_command_line(sys.argv[1:])  # argv[0] is "-c"
finally:
    try:
        with open("/proc/self/status") as status:
            peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    except OSError:  # not Linux: the fork-inflated figure is all there is
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sys.stderr.write(f"\\npeak-memory-kib {peak}\\n")
"""


def _import(database_url: str, path: Path) -> dict:
    """Runs import_attempts in a subprocess; its rate (from its summary) and peak memory."""
    process = subprocess.run(
        [
            sys.executable,
            "-c",
            _MEASURED,
            "manage.py",
            "import_attempts",
            str(path),
            "--progress-interval=3600",
        ],
        cwd=ROOT,
        env=_env(database_url),
        capture_output=True,
        text=True,
    )
    if process.returncode != 0:
        raise RuntimeError(
            f"import_attempts failed ({process.returncode}):\n{process.stdout}\n{process.stderr}"
        )
    rate = re.search(r"rate\s+([\d,.]+) attempts/s", process.stdout).group(1)
    peak = re.search(r"peak-memory-kib (\d+)", process.stderr).group(1)
    return {"rate": float(rate.replace(",", "")), "peak_mb": int(peak) / 1024}


# --- SQLite ------------------------------------------------------------------------------------


def _sqlite(tmp: Path, attempts: Path, count: int) -> dict:
    imported = tmp / "import.sqlite3"
    _migrate(f"sqlite:///{imported}")
    template = tmp / "template.sqlite3"
    shutil.copy(imported, template)  # still empty: migrated only
    result = _import(f"sqlite:///{imported}", attempts)
    baseline_db = tmp / "baseline.sqlite3"
    shutil.copy(template, baseline_db)
    rows, seconds = _sqlite_baseline(imported, baseline_db)
    _report("SQLite", count, result, rows, seconds)
    return result


def _sqlite_baseline(source: Path, target: Path) -> tuple[int, float]:
    read = sqlite3.connect(source)
    write = sqlite3.connect(target, isolation_level=None)
    write.execute("PRAGMA journal_mode=WAL")
    write.execute("PRAGMA synchronous=NORMAL")
    total, seconds = 0, 0.0
    for table in TABLES:
        cursor = read.execute(f"SELECT * FROM {table}")  # noqa: S608
        columns = len(cursor.description)
        sql = f"INSERT INTO {table} VALUES ({', '.join('?' * columns)})"  # noqa: S608
        while chunk := cursor.fetchmany(BASELINE_CHUNK):
            started = time.perf_counter()
            write.execute("BEGIN IMMEDIATE")
            write.executemany(sql, chunk)
            write.execute("COMMIT")
            seconds += time.perf_counter() - started
            total += len(chunk)
    read.close()
    write.close()
    return total, seconds


# --- PostgreSQL --------------------------------------------------------------------------------


def _postgres(tmp: Path, attempts: Path, count: int) -> None:
    try:
        with postgres.fresh_databases("import", "baseline") as urls:
            _migrate(urls["import"])
            postgres.copy_database(urls["import"], urls["baseline"])
            result = _import(urls["import"], attempts)
            rows, seconds = _postgres_baseline(urls["import"], urls["baseline"])
            _report("PostgreSQL", count, result, rows, seconds)
    except postgres.Unreachable as e:
        print(f"  PostgreSQL: skipped, {e}")


def _postgres_baseline(source_url: str, target_url: str) -> tuple[int, float]:
    total, seconds = 0, 0.0
    with psycopg.connect(source_url) as read, psycopg.connect(target_url) as write:
        for table in TABLES:
            columns = [
                row[0]
                for row in read.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                    "ORDER BY ordinal_position",
                    [table],
                )
            ]
            column_list = ", ".join(f'"{c}"' for c in columns)
            with read.cursor(name=f"read_{table}") as cursor:
                cursor.execute(f"SELECT {column_list} FROM {table}")  # noqa: S608
                while chunk := cursor.fetchmany(BASELINE_CHUNK):
                    started = time.perf_counter()
                    with write.cursor() as out:
                        with out.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                            for row in chunk:
                                copy.write_row(row)
                    write.commit()
                    seconds += time.perf_counter() - started
                    total += len(chunk)
    return total, seconds


# --- output ------------------------------------------------------------------------------------


def _report(database: str, count: int, result: dict, rows: int, seconds: float) -> None:
    baseline_rate = count / seconds if seconds else float("inf")
    ratio = result["rate"] / baseline_rate
    verdict = "OK" if ratio >= GOAL else "BELOW GOAL"
    print(
        f"  {database}: import {result['rate']:,.0f} attempts/s; baseline "
        f"({'COPY' if database == 'PostgreSQL' else 'executemany'} of the same {rows:,} rows) "
        f"{baseline_rate:,.0f} attempts/s; ratio {ratio:.2f} (goal >= {GOAL}: {verdict}); "
        f"peak memory {result['peak_mb']:,.0f} MB"
    )


def _mb(size: int) -> str:
    return f"{size / 1e6:,.0f} MB"
