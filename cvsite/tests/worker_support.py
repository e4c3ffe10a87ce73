"""Seeding for the worker scale-out test, run by `manage.py shell` against the test's own
PostgreSQL: runs that end and announce their result, each leaving one durable task that
posts the result on the run's CL; and cvsite-verified runs whose tryjobs all end at once,
each end waking an executor pass of the run (several passes of one run, for the workers to
run at the same time if they could)."""

import json
from types import SimpleNamespace

from django.db import transaction

from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from runs.actions import announce_result, set_project_verifier
from runs.lifecycle import lock_run, set_status
from runs.models import Run, RunStatus, Verifier
from runs.tests.factories import make_run_of_changes
from tryjobs.backend import get_backend
from tryjobs.models import ExecutionLogEntry, LogKind, Tryjob
from tryjobs.operations import set_requirement
from tryjobs.serializers import log_entry_from_row

BUILDERS = ("linux-rel", "mac-rel", "win-rel", "android-rel")


def seed(host: str, changes: int, runs_per_change: int) -> None:
    gerrit = SimpleNamespace(host=host, depends_on={})
    for change in range(1, changes + 1):
        for n in range(runs_per_change):
            with transaction.atomic():
                run = lock_run(make_run_of_changes(gerrit, [change], mode="DRY_RUN").id)
                message = f"result {change}/{n}"
                set_status(run, RunStatus.FAILED, "test", message)
                announce_result(run, message)


def seed_executor_passes(host: str, changes: range) -> None:
    """A cvsite-verified DRY_RUN per change, its four tryjobs launched on the fake backend
    (TRYJOB_BACKEND), then each ended successfully as its own build update."""
    set_project_verifier("chromium", Verifier.CVSITE, "test")
    gerrit = SimpleNamespace(host=host, depends_on={})
    requirement = tryjob_pb.Requirement()
    for name in BUILDERS:
        definition = requirement.definitions.add(critical=True)
        definition.buildbucket.host = "cr-buildbucket.appspot.com"
        definition.buildbucket.builder.project = "chromium"
        definition.buildbucket.builder.bucket = "try"
        definition.buildbucket.builder.builder = name
    backend = get_backend()
    for change in changes:
        run = make_run_of_changes(gerrit, [change], mode="DRY_RUN")
        set_requirement(run.id, requirement, "test")
        for external_id in Tryjob.objects.filter(launched_by=run).values_list(
            "external_id", flat=True
        ):
            backend.finish_build(external_id, tryjob_pb.Result.SUCCEEDED)


def executor_report() -> None:
    """Prints, as JSON, each executor run's status and the tryjob IDs its log says ended, one
    entry per tryjob each time a pass took its end in."""
    report = {}
    for run in Run.objects.filter(launched_tryjobs__isnull=False).distinct():
        ended = [
            tryjob.id
            for row in ExecutionLogEntry.objects.filter(run=run, kind=LogKind.TRYJOBS_ENDED)
            for tryjob in log_entry_from_row(row).tryjobs_ended.tryjobs
        ]
        report[run.id] = {"status": run.status, "ended": sorted(ended)}
    print(json.dumps(report))
