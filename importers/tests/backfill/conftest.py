"""Helpers for the backfill tests: running a command as an operator would, generated input."""

import gzip
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from importers.backfill.generate import generate


@dataclass
class Outcome:
    status: int  # the process exit status manage.py would have
    out: str
    err: str

    @property
    def counts(self) -> dict[str, int]:
        """The summary's counters: read, created, updated, unchanged, rejected, skipped."""
        found = re.findall(
            r"^  (read|created|updated|unchanged|rejected|skipped) +([\d,]+)", self.out, re.M
        )
        return {name: int(value.replace(",", "")) for name, value in found}


def run(command: str, *args, **options) -> Outcome:
    """Runs a management command; CommandError becomes its exit status, as in manage.py."""
    out, err = io.StringIO(), io.StringIO()
    options = {k: str(v) if isinstance(v, Path) else v for k, v in options.items()}
    if command != "generate_backfill_data":
        options.setdefault("progress_interval", 3600)
    try:
        call_command(command, *[str(a) for a in args], stdout=out, stderr=err, **options)
        status = 0
    except CommandError as e:
        status = e.returncode
        err.write(str(e))
    return Outcome(status, out.getvalue(), err.getvalue())


def write_generated(path: Path, count: int, *, builds: Path | None = None, **kwargs) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as out:
        if builds is None:
            generate(out, count=count, **kwargs)
        else:
            with open(builds, "wb") as builds_out:
                generate(out, count=count, builds_out=builds_out, **kwargs)
    return path


@pytest.fixture
def generated(tmp_path) -> Path:
    """300 generated attempt lines (every status, multi-CL attempts, reuse, both flavours)."""
    return write_generated(tmp_path / "attempts.jsonl", 300, builds=tmp_path / "builds.jsonl")


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    """Commands reading standard input write their reject file in the working directory."""
    monkeypatch.chdir(tmp_path)
