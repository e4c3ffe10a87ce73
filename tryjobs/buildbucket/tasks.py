"""The periodic build poll: a durable task that runs `poller.poll_builds` and enqueues its
next run. `manage.py poll_builds --schedule` starts the chain."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django_tasks import task

from runs import clock
from runs.side_effects import enqueue_after_commit
from tryjobs.buildbucket import poller
from tryjobs.buildbucket.backend import BuildbucketBackend

__all__ = ["poll_builds_periodically"]


@task()
def poll_builds_periodically(every_seconds: float) -> None:
    try:
        poller.poll_builds(
            BuildbucketBackend().fetch,
            now=clock.now(),
            older_than=timedelta(seconds=settings.BUILDBUCKET_POLL_AFTER_SECONDS),
        )
    finally:
        enqueue_after_commit(
            poll_builds_periodically.using(
                run_after=clock.now() + timedelta(seconds=every_seconds)
            ),
            every_seconds,
        )
