"""Throwaway PostgreSQL databases for benchmarks that also measure on PostgreSQL.

BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/cvsite_bench) names the server
and a prefix: databases `<prefix>_<suffix>` are created fresh and dropped afterwards.
"""

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/cvsite_bench"
ROOT = Path(__file__).resolve().parent.parent


class Unreachable(Exception):
    """No PostgreSQL server answers at BENCH_POSTGRES_URL: the measurement is skipped."""


@contextlib.contextmanager
def fresh_databases(*suffixes: str) -> Iterator[dict[str, str]]:
    """Empty databases, one per suffix, by suffix as URLs; dropped when the block ends."""
    import psycopg

    parts = urlsplit(os.environ.get("BENCH_POSTGRES_URL", DEFAULT_URL))
    prefix = parts.path.lstrip("/") or "cvsite_bench"
    admin = urlunsplit(parts._replace(path="/postgres"))
    names = {suffix: f"{prefix}_{suffix}" for suffix in suffixes}
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            for name in names.values():
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as e:
        raise Unreachable(f"{urlunsplit(parts._replace(path=''))} is unreachable: {e}") from e
    try:
        yield {
            suffix: urlunsplit(parts._replace(path=f"/{name}")) for suffix, name in names.items()
        }
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in names.values():
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def copy_database(source_url: str, target_url: str) -> None:
    """Replaces the database at `target_url` by a copy of the one at `source_url`."""
    import psycopg

    source, target = urlsplit(source_url), urlsplit(target_url)
    admin = urlunsplit(source._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{target.path.lstrip("/")}"')
        conn.execute(
            f'CREATE DATABASE "{target.path.lstrip("/")}" TEMPLATE "{source.path.lstrip("/")}"'
        )


def measure_in_fresh_database(name: str, function: str) -> None:
    """Runs `bench.<name>.<function>()` in a process of its own (the caller's Django is bound
    to its SQLite file) over a fresh, migrated PostgreSQL database; says so when skipped."""
    script = (
        "import django; django.setup(); "
        "from django.core.management import call_command; "
        "call_command('migrate', verbosity=0); "
        f"from bench.{name} import {function}; {function}()"
    )
    try:
        with fresh_databases(name) as urls:
            subprocess.run(
                [sys.executable, "-c", script],
                cwd=ROOT,
                env={
                    **os.environ,
                    "DATABASE_URL": urls[name],
                    "DJANGO_SETTINGS_MODULE": "cvsite.test_settings",
                    "PYTHONPATH": str(ROOT),
                },
                check=True,
            )
    except Unreachable as e:
        print(f"  PostgreSQL: skipped, {e}")
