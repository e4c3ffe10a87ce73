"""Durable tasks of the tryjob executor (django-tasks rows, like runs/tasks.py), and the only
functions that enqueue them.

Layered between the work the tasks do (tryjobs.passes, tryjobs.stale), which never enqueues a
task, and the actions that enqueue them (tryjobs.updates, tryjobs.operations, importers).

`process_tryjob_events(run_id)` runs a pass over the run's events. `wake_runs` enqueues it for
runs given events, in the caller's transaction. It is idempotent: a pass consumes the events
it finds, so of several tasks for one run the first does the work and the others find nothing
(a batch of updates per run becomes one pass). `cancel_stale_tryjobs` is §5, enqueued by
`schedule_stale_tryjob_cancellation`. `follow_project_config(project)` makes the project's
running runs follow its new config version; `enqueue_on_config_imported` (connected to
projectconfig.signals.config_imported in TryjobsConfig.ready) enqueues it. A database that is
busy or deadlocked (a transient OperationalError), or a run whose passes kept losing their race
(UNAVAILABLE), re-enqueues the task with backoff instead of failing it.
"""

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.db import OperationalError
from django_tasks import task

from cvproto.codes import Code
from runs import clock
from runs.errors import ActionError
from runs.side_effects import enqueue_after_commit
from runs.tasks import backoff
from tryjobs import config_requirements, passes, stale

logger = logging.getLogger(__name__)

STALE_DELAY = timedelta(seconds=1)


@task()
def process_tryjob_events(run_id: str, attempt: int = 0) -> None:
    """An executor pass over the run's pending tryjob events; the runs it woke get theirs."""
    try:
        result = passes.process_tryjob_events(run_id, actor="task:process_tryjob_events")
    except (OperationalError, ActionError) as e:
        if isinstance(e, ActionError) and e.code != Code.UNAVAILABLE:
            raise
        delay = backoff(attempt)
        logger.warning("tryjob events of %s: %s; retrying in %s", run_id, e, delay)
        enqueue_after_commit(
            process_tryjob_events.using(run_after=clock.now() + delay), run_id, attempt + 1
        )
        return
    if result is not None:
        wake_runs(result.woken_runs)


def wake_runs(run_ids: Iterable[str]) -> None:
    """A pass over their events for each run, soon."""
    for run_id in sorted(set(run_ids)):
        enqueue_after_commit(process_tryjob_events, run_id)


@task()
def cancel_stale_tryjobs(cl_id: int, previous: int, current: int, attempt: int = 0) -> None:
    """Cancels the CL's tryjobs of patchsets [previous, current); again later if some are
    still watched by a running run or the backend failed transiently."""
    try:
        report = stale.cancel_stale_tryjobs(cl_id, previous, current)
    except OperationalError as e:
        report = stale.StaleCancellation(retry_in=backoff(attempt))
        logger.warning("stale tryjobs of CL %s: %s", cl_id, e)
    for tryjob_id, reason in report.failed.items():
        logger.warning("stale tryjob %s of CL %s not cancelled: %s", tryjob_id, cl_id, reason)
    if report.retry_in is not None:
        delay = max(report.retry_in, backoff(attempt)) if report.failed else report.retry_in
        enqueue_after_commit(
            cancel_stale_tryjobs.using(run_after=clock.now() + delay),
            cl_id,
            previous,
            current,
            attempt + 1,
        )


def schedule_stale_tryjob_cancellation(cl_id: int, previous: int, current: int) -> bool:
    """Call when a CL's min_equivalent_patchset went from `previous` to `current`.

    Enqueues the cancellation (in the caller's transaction, due in 1 s) unless `previous` is
    0 (a CL seen for the first time); returns whether it did.
    """
    if previous >= current:
        raise ValueError(
            f"CL {cl_id}: patchset numbers expected to increase monotonically, "
            f"got {previous} -> {current}"
        )
    if previous == 0:
        return False
    enqueue_after_commit(
        cancel_stale_tryjobs.using(run_after=clock.now() + STALE_DELAY), cl_id, previous, current
    )
    return True


@task()
def follow_project_config(project: str, attempt: int = 0) -> None:
    """Every running run of the project follows its config version in force."""
    try:
        outcomes = config_requirements.follow_project_config(project, "task:follow_project_config")
    except OperationalError as e:
        delay = backoff(attempt)
        logger.warning("runs of %s following their config: %s; retrying in %s", project, e, delay)
        follow_project_config.using(run_after=clock.now() + delay).enqueue(project, attempt + 1)
        return
    for outcome in outcomes:
        logger.info("%s", outcome.summary())
    wake_runs(run_id for outcome in outcomes for run_id in outcome.woken_runs)


def enqueue_on_config_imported(sender, version, **kwargs) -> None:
    """projectconfig.signals.config_imported: in the transaction that stored the version."""
    follow_project_config.enqueue(version.project)
