"""Result messages on a run's CLs: the outbox rows and their delivery to Gerrit.

A message is first written as a GerritPost row (in the transaction that decided it), then sent
by `deliver_post`, from a durable task or from a PostGerritMessage call.
"""

import hashlib

from gerrit import messages as gerrit_messages
from gerrit.client import client_for_host
from gerrit.errors import GerritError
from runs import clock, serializers
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


def deliver_post(post: GerritPost, actor: str) -> None:
    """Sends one outbox message to Gerrit, recording the outcome; raises GerritError."""
    cl = post.cl
    details = {"TO": post.notify_accounts} if post.notify_accounts else None
    try:
        with client_for_host(cl.host, project=post.run.project) as gerrit:
            gerrit.set_review(
                cl.change,
                post.revision,
                post.message,
                project=cl.gerrit_project or None,
                notify=post.notify,
                notify_details=details,
            )
    except GerritError as e:
        GerritPost.objects.filter(pk=post.pk).update(
            attempts=post.attempts + 1, last_error=str(e)[:2000]
        )
        raise
    now = clock.now()
    GerritPost.objects.filter(pk=post.pk).update(
        posted_at=now, attempts=post.attempts + 1, last_error=""
    )
    record_event(
        post.run,
        RunEventKind.GERRIT_MESSAGE_POSTED,
        actor,
        f"on {cl.host}/{cl.change}: {post.message[:200]}",
    )
