"""The periodic build poll: a durable task that runs `poller.poll_builds` and enqueues its
next run. `manage.py poll_builds --schedule` starts the chain, once: the chain's current run
is named by a `PeriodicTaskChain` row, so scheduling again (say, `make run` restarting) while
that run waits or runs only sets the interval of its next runs, and a run the row does not
name (a second chain started before there was a row) ends without a successor. A run still
RUNNING an hour after it started is taken for dead (django-tasks-db keeps that status when its
worker is killed): scheduling again then starts a new chain."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task
from django_tasks.base import TaskContext, TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist

from runs import clock
from tryjobs.buildbucket import poller
from tryjobs.buildbucket.backend import BuildbucketBackend
from tryjobs.models import PeriodicTaskChain

__all__ = ["CHAIN", "poll_builds_periodically", "schedule_poll"]

CHAIN = "poll_builds"
RUNNING_AT_MOST = timedelta(hours=1)


@task(takes_context=True)
def poll_builds_periodically(context: TaskContext, every_seconds: float) -> None:
    try:
        poller.poll_builds(
            BuildbucketBackend().fetch,
            now=clock.now(),
            older_than=timedelta(seconds=settings.BUILDBUCKET_POLL_AFTER_SECONDS),
        )
    finally:
        _enqueue_next(context.task_result.id, every_seconds)


def schedule_poll(every_seconds: float) -> tuple[bool, PeriodicTaskChain]:
    """Starts the poll chain now unless it is live, in which case its next runs come every
    `every_seconds` instead; (whether a chain was started, the chain)."""
    with transaction.atomic():
        chain = _locked_chain()
        if chain is not None and _is_live(chain.task_result_id):
            chain.every_seconds = every_seconds
            chain.updated_at = clock.now()
            chain.save(update_fields=["every_seconds", "updated_at"])
            return False, chain
        return True, _enqueue(chain, every_seconds, delay_seconds=0)


def _enqueue_next(current_id: str, every_seconds: float) -> None:
    with transaction.atomic():
        chain = _locked_chain()
        if chain is not None:
            if chain.task_result_id != current_id and _is_live(chain.task_result_id):
                return  # another chain is the live one: this one ends here
            every_seconds = chain.every_seconds
        _enqueue(chain, every_seconds, delay_seconds=every_seconds)


def _locked_chain() -> PeriodicTaskChain | None:
    # Locked so that two chains deciding at once take turns; a first row created at once by
    # two of them collides on the primary key, and the loser's transaction fails whole.
    return PeriodicTaskChain.objects.select_for_update().filter(name=CHAIN).first()


def _is_live(task_result_id: str) -> bool:
    try:
        result = poll_builds_periodically.get_result(task_result_id)
    except TaskResultDoesNotExist:
        return False
    if result.status == TaskResultStatus.RUNNING:
        started = result.started_at or result.enqueued_at
        return started is not None and timezone.now() - started < RUNNING_AT_MOST
    return result.status == TaskResultStatus.READY


def _enqueue(
    chain: PeriodicTaskChain | None, every_seconds: float, *, delay_seconds: float
) -> PeriodicTaskChain:
    # django-tasks-db (settings.TASKS) stores the task as a row of this transaction: the
    # chain row and the task it names commit together.
    result = poll_builds_periodically.using(
        run_after=clock.now() + timedelta(seconds=delay_seconds)
    ).enqueue(every_seconds)
    chain = chain or PeriodicTaskChain(name=CHAIN)
    chain.task_result_id = str(result.id)
    chain.every_seconds = every_seconds
    chain.updated_at = clock.now()
    chain.save()
    return chain
