"""Throwaway PostgreSQL databases for benchmarks that also measure on PostgreSQL.

BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/cvsite_bench) names the server
and a prefix: databases `<prefix>_<suffix>_<pid>_<random>` are created for one run and dropped
at its end. Names unique to the run mean two benchmarks (or other users of the server) never
share a database, and a run drops only the databases it created itself.
"""

import contextlib
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/cvsite_bench"
ROOT = Path(__file__).resolve().parent.parent


class Unreachable(Exception):
    """No PostgreSQL server answers at BENCH_POSTGRES_URL: the measurement is skipped."""


# Databases this process created: the only ones it ever drops.
_created: set[str] = set()


@contextlib.contextmanager
def fresh_databases(*suffixes: str) -> Iterator[dict[str, str]]:
    """Empty databases, one per suffix, by suffix as URLs; dropped when the block ends."""
    parts = urlsplit(os.environ.get("BENCH_POSTGRES_URL", DEFAULT_URL))
    prefix = parts.path.lstrip("/") or "cvsite_bench"
    admin = urlunsplit(parts._replace(path="/postgres"))
    run = f"{os.getpid()}_{secrets.token_hex(3)}"
    names = {suffix: f"{prefix}_{suffix}_{run}" for suffix in suffixes}
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            for name in names.values():
                _create(conn, name)
    except psycopg.OperationalError as e:
        _drop_created(admin, names.values())
        raise Unreachable(f"{urlunsplit(parts._replace(path=''))} is unreachable: {e}") from e
    try:
        yield {
            suffix: urlunsplit(parts._replace(path=f"/{name}")) for suffix, name in names.items()
        }
    finally:
        _drop_created(admin, names.values())


def copy_database(source_url: str, target_url: str) -> None:
    """Replaces the database at `target_url`, one fresh_databases created, by a copy of the one
    at `source_url`."""
    source, target = urlsplit(source_url), urlsplit(target_url)
    admin = urlunsplit(source._replace(path="/postgres"))
    target_name = target.path.lstrip("/")
    with psycopg.connect(admin, autocommit=True) as conn:
        _drop(conn, target_name)
        _create(conn, target_name, template=source.path.lstrip("/"))


def _create(conn, name: str, template: str | None = None) -> None:
    # CREATE DATABASE fails on an existing name: a database of someone else is never reused.
    clause = f' TEMPLATE "{template}"' if template else ""
    conn.execute(f'CREATE DATABASE "{name}"{clause}')
    _created.add(name)


def _drop(conn, name: str) -> None:
    if name not in _created:
        raise ValueError(f"database {name!r} was not created by this benchmark run: not dropped")
    conn.execute(f'DROP DATABASE "{name}"')
    _created.discard(name)


def _drop_created(admin_url: str, names) -> None:
    ours = [name for name in names if name in _created]
    if not ours:
        return
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for name in ours:
            _drop(conn, name)


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
