"""Durable tasks of the tryjob executor (django-tasks rows, like runs/tasks.py).

`process_tryjob_events(run_id)` is enqueued with every batch of tryjob events for a run, in
the transaction that wrote them (tryjobs.actions._notify). It is idempotent: a pass consumes
the events it finds, so of several tasks for one run the first does the work and the others
find nothing (a batch of updates per run becomes one pass). `cancel_stale_tryjobs` is §5.
A database that is busy or deadlocked (a transient OperationalError) re-enqueues the task
with backoff instead of failing it.
"""

import logging

from django.db import OperationalError
from django.utils import timezone
from django_tasks import task

from runs.tasks import backoff
from tryjobs import actions

logger = logging.getLogger(__name__)


@task()
def process_tryjob_events(run_id: str, attempt: int = 0) -> None:
    """An executor pass over the run's pending tryjob events."""
    try:
        actions.process_tryjob_events(run_id, actor="task:process_tryjob_events")
    except OperationalError as e:
        delay = backoff(attempt)
        logger.warning("tryjob events of %s: %s; retrying in %s", run_id, e, delay)
        process_tryjob_events.using(run_after=timezone.now() + delay).enqueue(run_id, attempt + 1)


@task()
def cancel_stale_tryjobs(cl_id: int, previous: int, current: int, attempt: int = 0) -> None:
    """Cancels the CL's tryjobs of patchsets [previous, current); again later if some are
    still watched by a running run or the backend failed transiently."""
    try:
        report = actions.cancel_stale_tryjobs(cl_id, previous, current)
    except OperationalError as e:
        report = actions.StaleCancellation(retry_in=backoff(attempt))
        logger.warning("stale tryjobs of CL %s: %s", cl_id, e)
    for tryjob_id, reason in report.failed.items():
        logger.warning("stale tryjob %s of CL %s not cancelled: %s", tryjob_id, cl_id, reason)
    if report.retry_in is not None:
        delay = max(report.retry_in, backoff(attempt)) if report.failed else report.retry_in
        cancel_stale_tryjobs.using(run_after=timezone.now() + delay).enqueue(
            cl_id, previous, current, attempt + 1
        )
