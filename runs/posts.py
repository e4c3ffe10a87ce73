"""Result messages on a run's CLs: the outbox rows and their delivery to Gerrit.

A message is first written as a GerritPost row (in the transaction that decided it), then sent
by `deliver_once`, from a durable task or from a PostGerritMessage call, at most once.
"""

import hashlib
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from gerrit import messages as gerrit_messages
from gerrit.client import client_for_host
from gerrit.errors import GerritError
from runs import clock, rollups, serializers
from runs.lifecycle import record_event
from runs.models import GerritPost, GerritPostPurpose, Run, RunEventKind, VerifyAction

VERIFIED_OK_MESSAGE = "Dry run: This CL passed the CQ dry run."


def verdict_message(run: Run) -> str:
    """The message CQDaemon's verdict on `run` asks to post on its CLs."""
    verified = run.cqd_verified
    if verified.action == VerifyAction.DRY_RUN_OK:
        return VERIFIED_OK_MESSAGE
    return verified.final_message


def queue_result_message(run: Run, message: str) -> None:
    """Outbox rows for a run's result message on each of its CLs (idempotent)."""
    now = clock.now()
    text = gerrit_messages.prepare_message(message)
    digest = message_digest(GerritPostPurpose.VERIFICATION_RESULT, text)
    posts = []
    for run_cl in run.run_cls.select_related("cl"):
        info = serializers.change_info_from_row(run_cl)
        notification = gerrit_messages.review_notification(True, run.mode, info)
        posts.append(
            GerritPost(
                run=run,
                project=run.project,
                cl=run_cl.cl,
                message_digest=digest,
                purpose=GerritPostPurpose.VERIFICATION_RESULT,
                message=text,
                revision=run_cl.current_revision,
                notify=notification.notify,
                notify_accounts=list(notification.details.get("TO", ())),
                created_at=now,
            )
        )
    # A task that runs again finds its rows already there.
    GerritPost.objects.bulk_create(posts, ignore_conflicts=True)


def message_digest(purpose: str, message: str) -> str:
    return hashlib.sha256(f"{purpose}\0{message}".encode()).hexdigest()


class PostInFlight(Exception):
    """Another caller is sending this post right now; it will record the outcome."""


def deliver_once(post: GerritPost, actor: str, timeout: float | None = None) -> None:
    """Sends the post to Gerrit unless it is already there; raises GerritError or PostInFlight.

    The caller first claims the post for as long as its requests may take, so two callers
    (a retried call, a task) never send it at the same time. A post some earlier attempt
    failed to send, or died sending, may have reached Gerrit all the same: the change's
    messages on Gerrit are checked before it is sent again. `timeout` bounds each request to
    Gerrit (None: GERRIT_TIMEOUT_SECONDS).
    """
    earlier_attempts = _claim(post, timeout)
    if earlier_attempts and _already_on_gerrit(post, timeout):
        _record_posted(post, actor, f"found already on {post.cl.host}/{post.cl.change}")
        return
    _send(post, actor, timeout)


def _claim(post: GerritPost, timeout: float | None) -> int:
    """Marks the post as being sent by this caller; returns how many attempts came before."""
    seconds = timeout or settings.GERRIT_TIMEOUT_SECONDS
    now = clock.now()
    # Two requests (a look at the change, then the post), each with a connect and a read
    # timeout, and a margin for the rest.
    lease = now + timedelta(seconds=4 * seconds + 5)
    claimed = (
        GerritPost.objects.filter(pk=post.pk, posted_at__isnull=True)
        .filter(Q(in_flight_until__isnull=True) | Q(in_flight_until__lt=now))
        .update(in_flight_until=lease, attempts=F("attempts") + 1)
    )
    if not claimed:
        raise PostInFlight(post.pk)
    return GerritPost.objects.values_list("attempts", flat=True).get(pk=post.pk) - 1


def _already_on_gerrit(post: GerritPost, timeout: float | None) -> bool:
    cl = post.cl
    try:
        with client_for_host(cl.host, project=post.run.project, timeout=timeout) as gerrit:
            info = gerrit.get_change(cl.change, project=cl.gerrit_project or None)
    except GerritError as e:
        _record_failure(post, e)
        raise
    return gerrit_messages.already_posted(info.messages, post.message, post.run.create_time)


def _send(post: GerritPost, actor: str, timeout: float | None) -> None:
    cl = post.cl
    details = {"TO": post.notify_accounts} if post.notify_accounts else None
    try:
        with client_for_host(cl.host, project=post.run.project, timeout=timeout) as gerrit:
            gerrit.set_review(
                cl.change,
                post.revision,
                post.message,
                project=cl.gerrit_project or None,
                notify=post.notify,
                notify_details=details,
            )
    except GerritError as e:
        _record_failure(post, e)
        raise
    _record_posted(post, actor, f"on {cl.host}/{cl.change}")


def _record_failure(post: GerritPost, error: GerritError) -> None:
    _record_outcome(post, last_error=str(error)[:2000], in_flight_until=None)


def _record_posted(post: GerritPost, actor: str, where: str) -> None:
    _record_outcome(post, last_error="", posted_at=clock.now(), in_flight_until=None)
    record_event(
        post.run, RunEventKind.GERRIT_MESSAGE_POSTED, actor, f"{where}: {post.message[:200]}"
    )


def _record_outcome(post: GerritPost, last_error: str, **changes) -> None:
    """Saves a try's outcome and moves the post to its new error's count on the dashboards; the
    row is locked so that the error it replaces is the one counted."""
    with transaction.atomic():
        created_at, project, old_error = (
            GerritPost.objects.select_for_update()
            .values_list("created_at", "project", "last_error")
            .get(pk=post.pk)
        )
        GerritPost.objects.filter(pk=post.pk).update(last_error=last_error, **changes)
        rollups.post_error_changed(created_at, project, old_error, last_error)


class RequestSlots:
    """At most `size` calls to one Gerrit host at a time from the request path of this
    process, so that a hung Gerrit holds no more than that many server threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight: dict[str, int] = defaultdict(int)

    @contextmanager
    def slot(self, host: str, size: int) -> Iterator[bool]:
        """Yields whether a slot was free (and is then taken for the block)."""
        with self._lock:
            free = self._in_flight[host] < size
            if free:
                self._in_flight[host] += 1
        try:
            yield free
        finally:
            if free:
                with self._lock:
                    self._in_flight[host] -= 1


REQUEST_SLOTS = RequestSlots()
