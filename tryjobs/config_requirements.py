"""A run's tryjob requirement from its project's config (cv_config.md §8.9, §5.5).

``start_from_config(run_id, actor) -> ConfigOutcome``
    A RUNNING run of a cvsite-verified project that has no requirement yet gets the one
    computed (projectconfig) from the project's config version in force; the run records the
    version and config group, and an executor pass starts on the requirement
    (``tryjobs.passes.execute_pass``). A computation failure ends the run FAILED with
    upstream's "Failed to compute tryjob requirement" message posted on its CLs, and CLs that
    no single config group watches end it FAILED with the matcher's reason.
``follow_config(run_id, actor) -> ConfigOutcome``
    The same for a running run after a new config version (a run not started from a config
    starts now, unless an operator set its requirement by hand): an equal requirement changes
    nothing but the recorded version; a different one becomes the next requirement version
    (the executor's requirement-change path); a failure ends the run FAILED ("config has
    changed"), and CLs that no longer fall into the run's config group cancel it.
``follow_project_config(project, actor) -> list[ConfigOutcome]``
    ``follow_config`` for every running run of the project (the task behind a new version).

The run's CL snapshots (RunCL rows) give the computation its input. cvsite has no LUCI auth
service: owners belong to the groups `manage.py import_groups` loaded (projectconfig.groups)
and hold no Buildbucket permission, so naming an allowlisted builder in ``Cq-Include-Trybots``
fails the run of an owner outside its groups.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from projectconfig import actions as config_actions
from projectconfig.compiled import RunRequirement, requirement_for_run
from projectconfig.groups import groups_of
from projectconfig.matcher import DifferentGroupsError, NoGroupError, SeveralGroupsError
from projectconfig.models import ConfigVersion
from projectconfig.requirement import (
    ChangeList,
    ComputationFailure,
    Identities,
    RunInput,
    failure_message,
)
from runs import serializers as run_serializers
from runs.actions import announce_result
from runs.errors import ActionError, Code
from runs.lifecycle import lock_run, set_status
from runs.models import ProjectVerifier, Run, RunCL, RunStatus, Verifier
from tryjobs import serializers
from tryjobs.passes import execute_pass
from tryjobs.requirements import check_requirement

NO_GROUP_ERRORS = (NoGroupError, SeveralGroupsError, DifferentGroupsError)


@dataclass(frozen=True)
class ConfigOutcome:
    """What a run made of its project's config: ``kind`` is started, changed, unchanged,
    failed, cancelled, skipped (not running, or not verified by cvsite) or error;
    ``woken_runs`` are the other runs its executor pass gave tryjob events to, for the caller
    to wake (tryjobs.tasks.wake_runs)."""

    run_id: str
    kind: str
    detail: str = ""
    woken_runs: tuple[str, ...] = ()

    def summary(self) -> str:
        return f"run {self.run_id}: {self.kind}" + (f" ({self.detail})" if self.detail else "")


def run_input(run: Run) -> RunInput:
    """What the computation reads of a run: its mode and its CLs as snapshotted for it."""
    cls = []
    for run_cl in RunCL.objects.filter(run_id=run.id).select_related("cl").order_by("position"):
        info = run_serializers.change_info_from_row(run_cl)
        revision = info.revisions.get(run_cl.current_revision) if run_cl.current_revision else None
        commit = revision.commit if revision is not None else None
        cls.append(
            ChangeList(
                id=run_cl.cl_id,
                host=run_cl.cl.host,
                project=run_cl.gerrit_project,
                ref=run_cl.gerrit_ref,
                owner=run_cl.owner_email,
                trigger_time=run_cl.trigger_time,
                files=tuple(run_cl.files),
                parent_count=len(commit.parents) if commit is not None else 1,
                commit_message=commit.message if commit is not None else "",
            )
        )
    return RunInput(
        run.mode, tuple(cls), Identities(groups=groups_of(cl.owner for cl in cls if cl.owner))
    )


def _running_cvsite_run(run_id: str) -> Run | None:
    run = Run.objects.filter(id=run_id).first()
    if run is None:
        raise ActionError(Code.NOT_FOUND, f"run {run_id!r} not found")
    if ProjectVerifier.of(run.project) != Verifier.CVSITE or run.status != RunStatus.RUNNING:
        return None
    return run


def _compute(run: Run) -> tuple[ConfigVersion, RunRequirement | str]:
    current = config_actions.current_config(run.project)
    if current is None:
        raise ActionError(
            Code.FAILED_PRECONDITION,
            f"project {run.project!r} has no config: import one first "
            "(manage.py import_config PROJECT FILE)",
        )
    version, compiled = current
    try:
        return version, requirement_for_run(compiled, run_input(run))
    except NO_GROUP_ERRORS as e:
        return version, str(e)


def _end(run_id: str, status: RunStatus, message: str, actor: str, kind: str) -> ConfigOutcome:
    """Ends the run with `message` posted on its CLs, unless it ended meanwhile."""
    with transaction.atomic():
        run = lock_run(run_id)
        if run.status != RunStatus.RUNNING:
            return ConfigOutcome(run_id, "skipped", f"{RunStatus(run.status).name} meanwhile")
        set_status(run, status, actor, message)
        announce_result(run, message)
    return ConfigOutcome(run_id, kind, message)


def _apply(
    run_id: str, version: ConfigVersion, computed: RunRequirement, actor: str, kind: str
) -> ConfigOutcome:
    """Hands the requirement to the executor, then records the version and group on the run.

    In that order: the pass launches outside any transaction (tryjobs.passes), and a run
    that recorded a version it never got would never be offered that version again.
    """
    check_requirement(computed.outcome)
    result = execute_pass(run_id, actor, requirement=computed.outcome)
    Run.objects.filter(id=run_id).update(config_version=version, config_group=computed.group_name)
    return ConfigOutcome(run_id, kind, result.summary(), result.woken_runs)


def start_from_config(run_id: str, actor: str) -> ConfigOutcome:
    run = _running_cvsite_run(run_id)
    if run is None:
        return ConfigOutcome(run_id, "skipped", "not a running run of a cvsite-verified project")
    version, computed = _compute(run)
    if isinstance(computed, str):
        return _end(
            run_id, RunStatus.FAILED, f"CV cannot verify this run: {computed}.", actor, "failed"
        )
    if isinstance(computed.outcome, ComputationFailure):
        return _end(run_id, RunStatus.FAILED, failure_message(computed.outcome), actor, "failed")
    return _apply(run_id, version, computed, actor, "started")


def follow_config(run_id: str, actor: str) -> ConfigOutcome:
    run = _running_cvsite_run(run_id)
    if run is None:
        return ConfigOutcome(run_id, "skipped", "not a running run of a cvsite-verified project")
    if run.config_version_id is None:
        state, _ = serializers.load_execution_state(run_id)
        if state is not None and state.HasField("requirement"):
            return ConfigOutcome(run_id, "skipped", "its requirement was set by hand")
        return start_from_config(run_id, actor)
    version, computed = _compute(run)
    if run.config_version_id == version.id:
        return ConfigOutcome(run_id, "unchanged", f"already on version {version.version}")
    changed = f"The project config has changed (version {version.version})"
    if isinstance(computed, str) or computed.group_name != run.config_group:
        reason = (
            computed
            if isinstance(computed, str)
            else (
                f'its CLs now belong to config group "{computed.group_name}", '
                f'not "{run.config_group}"'
            )
        )
        message = f"{changed} and this run no longer fits it: {reason}."
        return _end(run_id, RunStatus.CANCELLED, message, actor, "cancelled")
    if isinstance(computed.outcome, ComputationFailure):
        message = (
            f"{changed} and the tryjob requirement of this run became invalid. "
            f"Reason:\n\n{computed.outcome.reason}"
        )
        return _end(run_id, RunStatus.FAILED, message, actor, "failed")
    state, _ = serializers.load_execution_state(run_id)
    if state is not None and state.requirement == computed.outcome:
        Run.objects.filter(id=run_id).update(config_version=version)
        return ConfigOutcome(
            run_id, "unchanged", f"same requirement under version {version.version}"
        )
    return _apply(run_id, version, computed, actor, "changed")


def follow_project_config(project: str, actor: str) -> list[ConfigOutcome]:
    """One outcome per running run; a run that cannot follow does not stop the others."""
    outcomes = []
    running = Run.objects.filter(project=project, status=RunStatus.RUNNING).order_by("id")
    for run_id in running.values_list("id", flat=True):
        try:
            outcomes.append(follow_config(run_id, actor))
        except ActionError as e:
            outcomes.append(ConfigOutcome(run_id, "error", e.message))
    return outcomes
