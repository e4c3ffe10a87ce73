"""What operators do to a run's executor (the admin's actions, `manage.py set_requirement`,
`manage.py run_executor`, `manage.py follow_config`): each is one executor pass
(tryjobs.passes), after which the other runs it gave tryjob events to get their task
(tryjobs.tasks). `start_run_from_config` is how a run of a cvsite-verified project starts:
RUNNING, with the requirement of its project's config (tryjobs.config_requirements).
"""

from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from runs import actions as run_actions
from tryjobs import config_requirements, tasks
from tryjobs.config_requirements import ConfigOutcome
from tryjobs.passes import PassResult, execute_pass
from tryjobs.requirements import check_requirement

__all__ = ["follow_config", "run_executor", "set_requirement", "start_run_from_config"]


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


def start_run_from_config(run_id: str, actor: str) -> ConfigOutcome:
    """Starts a PENDING run; one of a cvsite-verified project gets its config's requirement."""
    run_actions.start_run(run_id, actor)
    return _wake_for(config_requirements.start_from_config(run_id, actor))


def follow_config(run_ids: list[str], actor: str) -> list[ConfigOutcome]:
    """Each running run starts on, or follows, its project's config version in force."""
    return [_wake_for(config_requirements.follow_config(run_id, actor)) for run_id in run_ids]


def _wake_for(outcome: ConfigOutcome) -> ConfigOutcome:
    tasks.wake_runs(outcome.woken_runs)
    return outcome
