"""An import killed mid-way (SIGKILL, a real process) and resumed ends exactly as one that ran
straight through: same rows, same counters, every reject listed once.

Each import runs as `manage.py import_attempts` in a subprocess against its own fresh database
of the kind the suite runs on (a SQLite file, or a PostgreSQL database next to the test one).
"""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from importers.backfill.command import REJECTS_EXIT_STATUS
from importers.tests.backfill.conftest import write_generated

ROOT = Path(__file__).resolve().parents[3]
LINES = 3000
BATCH = 20
KILL_AFTER = 200  # lines committed
BAD_EVERY = 500


def _env(url: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "cvsite.test_settings",
        "DJANGO_DEBUG": "0",
        "PYTHONPATH": str(ROOT),
    }


def _manage(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=_env(url),
        capture_output=True,
        text=True,
        timeout=300,
    )


class Databases:
    """Fresh, migrated databases of the suite's kind; dropped at the end."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.vendor = connection.vendor
        self.created: list[str] = []
        self.template: str | None = None
        if self.vendor == "postgresql":
            parts = urlsplit(os.environ["DATABASE_URL"])
            self.parts = parts
            self.prefix = f"{parts.path.lstrip('/') or 'cvsite'}_killtest_{os.getpid()}"
            self.admin = urlunsplit(parts._replace(path="/postgres"))

    def _postgres(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql)

    def new(self, name: str) -> str:
        if self.vendor == "sqlite":
            path = self.tmp_path / f"{name}.sqlite3"
            if self.template is None:
                self.template = str(self.tmp_path / "template.sqlite3")
                migrated = _manage(f"sqlite:///{self.template}", "migrate", "--no-input", "-v0")
                assert migrated.returncode == 0, migrated.stderr
            shutil.copy(self.template, path)
            return f"sqlite:///{path}"
        database = f"{self.prefix}_{name}"
        if self.template is None:
            self.template = f"{self.prefix}_template"
            self._postgres(f'DROP DATABASE IF EXISTS "{self.template}"')
            self._postgres(f'CREATE DATABASE "{self.template}"')
            self.created.append(self.template)
            url = urlunsplit(self.parts._replace(path=f"/{self.template}"))
            migrated = _manage(url, "migrate", "--no-input", "-v0")
            assert migrated.returncode == 0, migrated.stderr
        self._postgres(f'DROP DATABASE IF EXISTS "{database}"')
        self._postgres(f'CREATE DATABASE "{database}" TEMPLATE "{self.template}"')
        self.created.append(database)
        return urlunsplit(self.parts._replace(path=f"/{database}"))

    def checkpoint(self, url: str) -> tuple | None:
        """(position, finished, read, created, updated, unchanged, rejected) or None."""
        sql = (
            "SELECT position, finished_at IS NOT NULL, read, created, updated, unchanged, "
            "rejected FROM runs_backfillcheckpoint"
        )
        if self.vendor == "sqlite":
            with sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30) as db:
                row = db.execute(sql).fetchone()
        else:
            import psycopg

            with psycopg.connect(url, autocommit=True) as db:
                row = db.execute(sql).fetchone()
        return tuple(row) if row else None

    def drop_all(self) -> None:
        for database in reversed(self.created):
            self._postgres(f'DROP DATABASE IF EXISTS "{database}"')


@pytest.fixture
def databases(tmp_path):
    dbs = Databases(tmp_path)
    yield dbs
    if dbs.vendor == "postgresql":
        dbs.drop_all()


def state(url: str) -> dict:
    dumped = subprocess.run(
        [sys.executable, "-m", "importers.tests.backfill.state"],
        cwd=ROOT,
        env=_env(url),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert dumped.returncode == 0, dumped.stderr
    return json.loads(dumped.stdout)


def rejects(path: Path) -> list[tuple[int, str]]:
    return [(r["line"], r["reason"]) for r in map(json.loads, path.read_text().splitlines())]


def test_an_import_killed_midway_and_resumed_ends_as_a_one_shot_import(tmp_path, databases):
    generated = write_generated(tmp_path / "generated.jsonl", LINES)
    data = tmp_path / "attempts.jsonl"
    with open(generated, "rb") as source, open(data, "wb") as out:
        for n, line in enumerate(source, start=1):
            out.write(b"this line is damaged\n" if n % BAD_EVERY == 0 else line)
    killed_url = databases.new("killed")
    straight_url = databases.new("straight")
    command = [
        sys.executable,
        "manage.py",
        "import_attempts",
        str(data),
        f"--batch-size={BATCH}",
        "--progress-interval=3600",
    ]

    process = subprocess.Popen(
        [*command, f"--rejects={tmp_path / 'killed.rejects'}"],
        cwd=ROOT,
        env=_env(killed_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            progress = databases.checkpoint(killed_url)
            if progress and progress[0] >= KILL_AFTER:
                break
            assert process.poll() is None, "the import ended before it could be killed"
            time.sleep(0.005)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL
    position, finished, *_ = databases.checkpoint(killed_url)
    assert KILL_AFTER <= position < LINES and not finished

    resumed = subprocess.run(
        [*command, "--resume", f"--rejects={tmp_path / 'killed.rejects'}"],
        cwd=ROOT,
        env=_env(killed_url),
        capture_output=True,
        text=True,
        timeout=300,
    )
    straight = subprocess.run(
        [*command, f"--rejects={tmp_path / 'straight.rejects'}"],
        cwd=ROOT,
        env=_env(straight_url),
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert resumed.returncode == REJECTS_EXIT_STATUS, resumed.stderr
    assert f"resumed after {position:,}" in resumed.stdout
    assert straight.returncode == REJECTS_EXIT_STATUS, straight.stderr
    expected = state(straight_url)
    assert len(expected["runs"]) > 2000
    assert state(killed_url) == expected
    assert databases.checkpoint(killed_url) == databases.checkpoint(straight_url)
    bad_lines = list(range(BAD_EVERY, LINES + 1, BAD_EVERY))
    assert [line for line, _ in rejects(tmp_path / "straight.rejects")] == bad_lines
    assert rejects(tmp_path / "killed.rejects") == rejects(tmp_path / "straight.rejects")
