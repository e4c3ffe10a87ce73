"""Retention: delete what is older than CV keeps (540 days), in small batches.

Each batch is its own transaction, so the work can stop at any point and start again where it
left off (what was deleted stays deleted), and no long transaction holds locks on tables the
service is writing. A run goes with everything that belongs to it (its CLs' snapshots for the
run, events, posts, execution state and log, CQDaemon's verdict); CLs and tryjobs stay, since
other runs may share them.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django_tasks_db.models import DBTaskResult

from migration_api.models import ApiCall, RefusedCalls
from runs.models import Run


@dataclass(frozen=True)
class Target:
    """One kind of row to prune: its name in reports, and the rows older than a cutoff."""

    label: str
    older_than: Callable[[datetime], QuerySet]


TARGETS = (
    Target("runs", lambda cutoff: Run.objects.ended().filter(end_time__lt=cutoff)),
    Target("API calls", lambda cutoff: ApiCall.objects.filter(time__lt=cutoff)),
    Target("refused-call counts", lambda cutoff: RefusedCalls.objects.filter(minute__lt=cutoff)),
    Target(
        "finished tasks",
        lambda cutoff: DBTaskResult.objects.finished().filter(finished_at__lt=cutoff),
    ),
)


def count(cutoff: datetime) -> dict[str, int]:
    """How many rows of each target are older than `cutoff` (what a dry run reports)."""
    return {target.label: target.older_than(cutoff).count() for target in TARGETS}


def prune(cutoff: datetime, batch_size: int) -> Iterator[tuple[str, int]]:
    """Deletes each target's rows older than `cutoff`, `batch_size` at a time; yields
    (label, rows of that target deleted in the batch) after each committed batch."""
    for target in TARGETS:
        while True:
            with transaction.atomic():
                keys = list(
                    target.older_than(cutoff)
                    .order_by("pk")
                    .values_list("pk", flat=True)[:batch_size]
                )
                if not keys:
                    break
                model = target.older_than(cutoff).model
                model.objects.filter(pk__in=keys).delete()
            yield target.label, len(keys)
