"""What operators do to a run's executor (the admin's actions, `manage.py set_requirement` and
`manage.py run_executor`): each is one executor pass (tryjobs.passes), after which the other
runs it gave tryjob events to get their task (tryjobs.tasks).
"""

from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from tryjobs import tasks
from tryjobs.passes import PassResult, execute_pass
from tryjobs.requirements import check_requirement

__all__ = ["run_executor", "set_requirement"]


def set_requirement(run_id: str, requirement: tryjob_pb.Requirement, actor: str) -> PassResult:
    """Applies `requirement` to a RUNNING run as its next version, in one executor pass."""
    check_requirement(requirement)
    return _wake_others(execute_pass(run_id, actor, requirement=requirement))


def run_executor(run_id: str, actor: str) -> PassResult:
    """A pass over the latest stored state of every tryjob the run uses (and its events):
    what an operator runs to make a run catch up."""
    return _wake_others(execute_pass(run_id, actor, refresh_all=True))


def _wake_others(result: PassResult) -> PassResult:
    tasks.wake_runs(result.woken_runs)
    return result
