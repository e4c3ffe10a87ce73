"""Factories for run-side rows: valid by construction, overridable per test."""

import hashlib
import itertools
from datetime import UTC, datetime, timedelta

from runs.ids import RunID
from runs.models import CL, Run, RunStatus

_counter = itertools.count(1)
BASE_TIME = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def make_run(project: str = "chromium", **overrides) -> Run:
    n = next(_counter)
    create_time = overrides.pop("create_time", BASE_TIME + timedelta(minutes=n))
    attempt_key = hashlib.sha256(f"{project}-{n}".encode()).hexdigest()[:16]
    status = overrides.pop("status", RunStatus.RUNNING)
    fields = {
        "id": str(RunID.new(project, create_time, attempt_key)),
        "project": project,
        "cqd_attempt_key": attempt_key,
        "status": status,
        "mode": "DRY_RUN",
        "create_time": create_time,
        "start_time": create_time,
        "end_time": create_time + timedelta(hours=1) if status & 64 else None,
    }
    fields.update(overrides)
    return Run.objects.create(**fields)


def make_cl(host: str = "chromium-review.googlesource.com", **overrides) -> CL:
    fields = {
        "host": host,
        "change": 1000 + next(_counter),
        "patchset": 1,
        "min_equivalent_patchset": 1,
        "info": b"",
    }
    fields.update(overrides)
    return CL.objects.create(**fields)
