"""Durable side effects of run actions: Gerrit posts and submissions.

Tasks are rows in the database (django-tasks with django-tasks-db), enqueued for the commit of
the action that needs them (runs.side_effects), so they exist exactly when that action committed.
Each task is idempotent: it re-reads what is already done (RunCL.submit_time,
GerritPost.posted_at) and skips it. A transient Gerrit failure re-enqueues the task with
exponential backoff, without a limit: a Gerrit outage delays runs, it never loses them.
"""

import logging
import random
from datetime import timedelta

from django.db import transaction
from django_tasks import task

from cvproto.codes import Code
from cvproto.gerrit import gerrit_pb2
from gerrit.client import client_for_host
from gerrit.errors import GerritError
from runs import clock
from runs.lifecycle import lock_run, record_event, set_status
from runs.models import (
    GerritPost,
    GerritPostPurpose,
    Run,
    RunCL,
    RunEventKind,
    RunStatus,
    VerifyAction,
)
from runs.posts import PostInFlight, deliver_once, queue_result_message, verdict_message
from runs.side_effects import enqueue_after_commit
from runs.submission import submission_order

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=10)


def backoff(attempt: int) -> timedelta:
    """5 s, 10 s, 20 s, ... capped at 10 minutes, with up to 20% jitter."""
    delay = min(timedelta(seconds=5) * 2 ** min(attempt, 20), MAX_BACKOFF)
    return delay * (1 + random.random() / 5)


def retry_later(task_function, subject: str | int, attempt: int, error: Exception) -> None:
    """Enqueues `task_function(subject, attempt + 1)` after a backoff."""
    delay = backoff(attempt)
    logger.warning("%s for %s: %s; retrying in %s", task_function.name, subject, error, delay)
    enqueue_after_commit(task_function.using(run_after=clock.now() + delay), subject, attempt + 1)


@task()
def submit_run(run_id: str, attempt: int = 0) -> None:
    """Submits a full run's CLs to Gerrit in dependency order, then ends the run."""
    actor = "task:submit_run"
    with transaction.atomic():
        run = lock_run(run_id)
        if run.status == RunStatus.WAITING_FOR_SUBMISSION:
            set_status(run, RunStatus.SUBMITTING, actor)
        elif run.status != RunStatus.SUBMITTING:
            return
    run_cls = list(run.run_cls.select_related("cl").prefetch_related("deps"))
    for run_cl in submission_order(run_cls):
        if run_cl.submit_time is not None:
            continue
        cl = run_cl.cl
        try:
            with client_for_host(cl.host, project=run.project) as gerrit:
                try:
                    gerrit.submit(cl.change, run_cl.current_revision, project=run_cl.gerrit_project)
                except GerritError as e:
                    # Submitted by an earlier attempt that died before recording it?
                    if e.code != Code.FAILED_PRECONDITION or (
                        gerrit.get_change(cl.change, project=run_cl.gerrit_project).status
                        != gerrit_pb2.MERGED
                    ):
                        raise
        except GerritError as e:
            if e.transient:
                record_event(run, RunEventKind.SIDE_EFFECT_FAILED, actor, f"will retry: {e}")
                retry_later(submit_run, run_id, attempt, e)
                return
            with transaction.atomic():
                set_status(
                    lock_run(run_id),
                    RunStatus.FAILED,
                    actor,
                    f"Gerrit refused to submit {cl.url}: {e}",
                )
            return
        with transaction.atomic():
            RunCL.objects.filter(pk=run_cl.pk).update(submit_time=clock.now())
            record_event(run, RunEventKind.CL_SUBMITTED, actor, cl.url)
    with transaction.atomic():
        run = lock_run(run_id)
        if run.status == RunStatus.SUBMITTING:
            set_status(run, RunStatus.SUCCEEDED, actor, "all CLs submitted")


def deliver_result_messages(run: Run, task_function, attempt: int, actor: str) -> bool:
    """Posts the run's pending result messages; False when a transient failure deferred it."""
    pending = GerritPost.objects.filter(
        run=run, purpose=GerritPostPurpose.VERIFICATION_RESULT, posted_at__isnull=True
    ).select_related("cl", "run")
    for post in pending:
        try:
            deliver_once(post, actor)
        except PostInFlight as e:
            retry_later(task_function, run.id, attempt, e)
            return False
        except GerritError as e:
            if e.transient:
                record_event(run, RunEventKind.SIDE_EFFECT_FAILED, actor, f"will retry: {e}")
                retry_later(task_function, run.id, attempt, e)
                return False
            # A refusal will not change by retrying; the result stands without this message.
            record_event(
                run,
                RunEventKind.SIDE_EFFECT_FAILED,
                actor,
                f"could not post on {post.cl.url}: {e}",
            )
    return True


@task()
def finish_verified_run(run_id: str, attempt: int = 0) -> None:
    """Posts the verdict's message on every CL, then ends the run as CQDaemon decided."""
    actor = "task:finish_verified_run"
    run = Run.objects.select_related("cqd_verified").get(id=run_id)
    if run.is_ended:
        return
    queue_result_message(run, verdict_message(run))
    if not deliver_result_messages(run, finish_verified_run, attempt, actor):
        return
    verified = run.cqd_verified
    with transaction.atomic():
        run = lock_run(run_id)
        if run.is_ended:
            return
        if verified.action == VerifyAction.DRY_RUN_OK:
            set_status(run, RunStatus.SUCCEEDED, actor, "CQDaemon: dry run passed")
        else:
            set_status(run, RunStatus.FAILED, actor, verified.final_message)


@task()
def post_result_messages(run_id: str, attempt: int = 0) -> None:
    """Posts the result messages queued for an ended run (see runs.actions.announce_result)."""
    deliver_result_messages(
        Run.objects.get(id=run_id), post_result_messages, attempt, "task:post_result_messages"
    )


@task()
def finish_gerrit_post(post_id: int, attempt: int = 0) -> None:
    """Finishes a PostGerritMessage that could not within its call: looks at the change's
    messages on Gerrit first (an earlier attempt may have landed), then posts."""
    actor = "task:finish_gerrit_post"
    post = GerritPost.objects.select_related("run", "cl").get(pk=post_id)
    if post.posted_at is not None:
        return
    try:
        deliver_once(post, actor)
    except PostInFlight as e:
        retry_later(finish_gerrit_post, post_id, attempt, e)
        return
    except GerritError as e:
        if e.transient:
            retry_later(finish_gerrit_post, post_id, attempt, e)
            return
        record_event(
            post.run,
            RunEventKind.SIDE_EFFECT_FAILED,
            actor,
            f"could not post on {post.cl.url}: {e}",
        )
