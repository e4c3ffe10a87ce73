"""Seeding for the worker scale-out test, run by `manage.py shell` against the test's own
PostgreSQL: runs that end and announce their result, each leaving one durable task that
posts the result on the run's CL."""

from types import SimpleNamespace

from django.db import transaction

from runs.actions import announce_result
from runs.lifecycle import lock_run, set_status
from runs.models import RunStatus
from runs.tests.factories import make_run_of_changes


def seed(host: str, changes: int, runs_per_change: int) -> None:
    gerrit = SimpleNamespace(host=host, depends_on={})
    for change in range(1, changes + 1):
        for n in range(runs_per_change):
            with transaction.atomic():
                run = lock_run(make_run_of_changes(gerrit, [change], mode="DRY_RUN").id)
                message = f"result {change}/{n}"
                set_status(run, RunStatus.FAILED, "test", message)
                announce_result(run, message)
