"""A run's lock, its status changes and its events: what every run and tryjob action shares.

Actions (runs.actions, tryjobs) and the durable tasks that finish their work (runs.tasks) all
change a run the same way: lock it, move its status, record an event. They import this module;
it imports none of them.
"""

from django.db import transaction
from prometheus_client import Counter

from cvproto.codes import Code
from runs import clock, rollups
from runs.errors import ActionError
from runs.models import RUN_ENDED_MASK, Run, RunEvent, RunEventKind, RunStatus


def record_event(run: Run, kind: RunEventKind, actor: str, detail: str = "", **statuses) -> None:
    RunEvent.objects.create(
        run=run, time=clock.now(), actor=actor, kind=kind, detail=detail, **statuses
    )


STATUS_CHANGES = Counter(
    "cvsite_run_status_changes",
    "Runs moved to a status (RUNNING: started; SUCCEEDED, FAILED, CANCELLED: ended), counted "
    "when the change commits",
    ["project", "status"],
)


def set_status(run: Run, status: RunStatus, actor: str, reason: str = "", end_time=None) -> None:
    """Moves a locked run to `status`, with an event; ended runs never change again."""
    if run.is_ended:
        raise ActionError(
            Code.FAILED_PRECONDITION,
            f"run {run.id} already ended as {RunStatus(run.status).name}",
        )
    previous = run.status
    run.status = status
    run.eversion += 1
    if status & RUN_ENDED_MASK:
        run.end_time = end_time or clock.now()
        run.end_reason = reason
    run.save(update_fields=["status", "eversion", "end_time", "end_reason", "update_time"])
    if status & RUN_ENDED_MASK:
        rollups.run_ended(run)
    transaction.on_commit(STATUS_CHANGES.labels(run.project, RunStatus(status).name).inc)
    record_event(
        run,
        RunEventKind.STATUS_CHANGED,
        actor,
        reason,
        from_status=previous,
        to_status=status,
    )


def lock_run(run_id: str) -> Run:
    """The run, locked until the transaction ends (Run.DoesNotExist when there is none).

    Every writer of a run takes this lock, so they take turns. `FOR NO KEY UPDATE` on
    PostgreSQL: inserting a row that references the run (an event, a post, a tryjob) only takes
    a key-share lock through its foreign key and never waits for the run's holder.
    """
    return Run.objects.select_for_update(no_key=True).get(id=run_id)
