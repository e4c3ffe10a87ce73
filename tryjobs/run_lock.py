"""The run's lock as executor passes take it, and the check a pass makes when it takes it again.

A pass decides under the run's row lock, launches without it, and takes it again to save. The
run's `eversion` (bumped on every status change) and its execution state's `eversion` (bumped
on every save) tell whether anyone changed them in between: if so, the pass starts again.
"""

from dataclasses import dataclass

from cvproto.codes import Code
from runs import lifecycle
from runs.errors import ActionError
from runs.models import Run
from tryjobs.models import ExecutionState


class StateChanged(Exception):
    """The run or its execution state changed since the pass decided: decide again."""


@dataclass(frozen=True)
class Versions:
    run: int
    state: int  # 0: no execution state yet


def lock_run(run_id: str) -> Run:
    """The run, locked until the transaction ends (runs.lifecycle.lock_run), or NOT_FOUND."""
    try:
        return lifecycle.lock_run(run_id)
    except Run.DoesNotExist:
        raise ActionError(Code.NOT_FOUND, f"run {run_id!r} not found") from None


def state_version(run_id: str) -> int:
    return (
        ExecutionState.objects.filter(run_id=run_id).values_list("eversion", flat=True).first() or 0
    )


def relock_unchanged(run_id: str, expected: Versions) -> Run:
    """The run, locked again; StateChanged when it or its execution state moved on."""
    run = lock_run(run_id)
    current = Versions(run.eversion, state_version(run_id))
    if current != expected:
        raise StateChanged(f"run {run_id}: {expected} when the pass decided, {current} now")
    return run
