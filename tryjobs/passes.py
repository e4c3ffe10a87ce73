"""One executor pass over a stored run: decide under the run's lock, launch without it, save.

The executor (tryjobs/executor.py) is pure; a pass does its I/O. `execute_pass` is what the
run's task (`process_tryjob_events` here, run by tryjobs.tasks) and operators
(tryjobs.operations) call:

1. **Decide**, in a transaction holding the run's row lock (tryjobs.run_lock): read the run's
   pending `TryjobEvent` rows, load the execution state (tryjobs.serializers) and run the
   executor over the new requirement or the updated tryjobs. When the plan needs no new
   attempt (most passes), the pass ends in this same transaction: state saved with its log
   entries as `ExecutionLogEntry` rows (`state_version` = the saved state's `eversion`), the
   run moved on if the state ended (tryjobs.verdict), exactly the events read deleted.
2. **Start** the attempts the plan asks for (tryjobs.launching.Starter): found or created
   under the lock, which is then released; launched (with retries, up to two minutes)
   without it; each launch saved on its tryjob row at once.
3. **Save**, in a transaction taking the lock again, if neither the run (its `eversion`) nor
   its execution state (its `eversion`) changed since step 1; as in step 1 otherwise.
   If either changed, another pass (or a status change) won the race: this pass starts again
   from step 1 with what is stored now. Its launches are not lost: their rows are saved,
   launched by this run and named by no saved attempt or log entry, and the Starter adopts
   exactly such rows before it reuses or launches anything (a PENDING one is launched again
   under the same request ID, which starts no second build).

So no lock is held while the backend is called; on SQLite, where a transaction holds the
database's write lock, other writers go on meanwhile.

Runs of projects that CQDaemon verifies (`runs.models.ProjectVerifier`) are never touched:
operators' passes are refused (FAILED_PRECONDITION), tasks do nothing and leave the events.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from django.db import transaction
from prometheus_client import Counter

from cvproto.codes import Code
from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from projectconfig.footers import Metadata
from runs import clock
from runs import serializers as run_serializers
from runs.errors import ActionError
from runs.models import ProjectVerifier, Run, RunCL, RunStatus, Verifier
from tryjobs import executor, rollups, serializers
from tryjobs.launching import Starter
from tryjobs.models import ExecutionLogEntry, Tryjob, TryjobEvent
from tryjobs.run_lock import StateChanged, Versions, lock_run, relock_unchanged
from tryjobs.verdict import follow_state
from tryjobs.views import RunCL as ViewCL
from tryjobs.views import RunView

__all__ = ["MAX_TRIES", "PassResult", "execute_pass", "process_tryjob_events", "run_view"]

logger = logging.getLogger(__name__)

State = tryjob_pb.ExecutionState
LogEntry = tryjob_pb.ExecutionLogEntry
Requirement = tryjob_pb.Requirement

# Each try after the first follows another pass's save, so this many are a run under heavy
# contention; the caller (a task, an operator) tries again later.
MAX_TRIES = 10


@dataclass(frozen=True)
class PassResult:
    """What one executor pass did. `state` is the run's state after it (None: none yet);
    `woken_runs` are other runs given tryjob events by it, for the caller to wake."""

    run_id: str
    state: State | None
    state_version: int
    log_entries: tuple[LogEntry, ...]
    saved: bool
    run_status: int
    events: int
    woken_runs: tuple[str, ...] = ()

    @property
    def state_status(self) -> str:
        return "none" if self.state is None else State.Status.Name(self.state.status)

    def summary(self) -> str:
        """One line for operators: what the pass did and where the run stands."""
        if self.state is None:
            state = "no execution state"
        else:
            state = (
                f"execution state {self.state_status} (version {self.state_version}, "
                f"requirement version {self.state.requirement_version}, "
                f"{len(self.state.executions)} definitions)"
            )
        kinds = [e.WhichOneof("kind") for e in self.log_entries]
        logged = f"logged {', '.join(kinds)}" if kinds else "nothing logged"
        saved = "saved" if self.saved else "unchanged"
        events = f"; {self.events} tryjob events consumed" if self.events else ""
        return (
            f"run {self.run_id}: {state}, {saved}; {logged}{events}; "
            f"run {RunStatus(self.run_status).name}"
        )


def process_tryjob_events(run_id: str, actor: str) -> PassResult | None:
    """A pass over the run's pending tryjob events; None for a CQDaemon-verified project or a
    run deleted meanwhile (its events went with it)."""
    try:
        return execute_pass(run_id, actor, from_task=True)
    except ActionError as e:
        if e.code == Code.NOT_FOUND:
            return None
        raise


@dataclass
class _Decision:
    """What step 1 saw and decided; `step` is None when the run is not RUNNING."""

    run: Run
    versions: Versions
    state: State | None
    events: list[tuple[int, int]]
    now: datetime
    view: RunView | None = None
    run_cls: list[RunCL] = field(default_factory=list)
    step: executor.Step | None = None


class _NotVerifiedHere(Exception):
    pass


def execute_pass(
    run_id: str,
    actor: str,
    *,
    requirement: Requirement | None = None,
    refresh_all: bool = False,
    from_task: bool = False,
) -> PassResult | None:
    """One pass (module docstring): over the run's events, or applying `requirement` as the
    next version, or (`refresh_all`) over every tryjob its attempts use. None only
    `from_task`, for a run that CQDaemon verifies."""
    woken: set[str] = set()
    for _ in range(MAX_TRIES):
        try:
            with transaction.atomic():
                decision = _decide(run_id, requirement, refresh_all, from_task)
                if decision.step is None or not decision.step.plan.attempts:
                    return _save(decision, decision.step, actor, woken)
            starter = Starter(
                decision.run, decision.view, decision.now, decision.versions, decision.run_cls
            )
            try:
                step = executor.drive(decision.step, decision.view, decision.now, starter)
            finally:
                woken.update(starter.woken)
            with transaction.atomic():
                decision.run = relock_unchanged(run_id, decision.versions)
                return _save(decision, step, actor, woken)
        except StateChanged as e:
            logger.info("executor pass starts again: %s", e)
        except _NotVerifiedHere:
            return None
    raise ActionError(
        Code.UNAVAILABLE,
        f"run {run_id}: its execution state changed under {MAX_TRIES} passes in a row; try again",
    )


def _decide(
    run_id: str, requirement: Requirement | None, refresh_all: bool, from_task: bool
) -> _Decision:
    run = lock_run(run_id)
    verifier = ProjectVerifier.of(run.project)
    if verifier != Verifier.CVSITE:
        if from_task:
            logger.info("tryjob events of %s left alone: %s verifies it", run.id, verifier)
            raise _NotVerifiedHere
        raise ActionError(
            Code.FAILED_PRECONDITION,
            f"project {run.project!r} is verified by CQDaemon, so cvsite's tryjob executor "
            f"does not touch run {run.id}; switch the project to cvsite first "
            "(admin: Project verifiers)",
        )
    if requirement is not None and run.status != RunStatus.RUNNING:
        raise ActionError(
            Code.FAILED_PRECONDITION,
            f"run {run.id} is {RunStatus(run.status).name}: a requirement is only set on a "
            "RUNNING run",
        )
    events = list(TryjobEvent.objects.filter(run_id=run.id).values_list("id", "tryjob_id"))
    state, version = serializers.load_execution_state(run.id)
    if refresh_all and (state is None or not state.HasField("requirement")):
        raise ActionError(
            Code.FAILED_PRECONDITION,
            f"run {run.id} has no tryjob requirement yet: set one first (set_requirement)",
        )
    decision = _Decision(run, Versions(run.eversion, version), state, events, clock.now())
    if run.status != RunStatus.RUNNING:
        return decision
    # Read once, with their CLs: the view's, and the launch's if the plan asks for one.
    decision.run_cls = list(
        RunCL.objects.filter(run_id=run.id).select_related("cl").order_by("position")
    )
    decision.view = view = run_view(run, decision.run_cls)
    if requirement is not None:
        next_version = (state.requirement_version if state is not None else 0) + 1
        decision.step = executor.on_requirement(
            state, view, requirement, next_version, decision.now
        )
    else:
        ids = {tryjob_id for _, tryjob_id in events}
        if refresh_all:
            ids.update(a.tryjob_id for e in state.executions for a in e.attempts)
        rows = Tryjob.objects.filter(id__in=sorted(ids)) if ids else []
        views = [serializers.tryjob_view_from_row(row) for row in rows]
        decision.step = executor.on_tryjobs_updated(state, view, views, decision.now)
    return decision


def _save(
    decision: _Decision, step: executor.Step | None, actor: str, woken: set[str]
) -> PassResult:
    """Saves the step's state and log, moves the run on, consumes the events read."""
    run, state, version = decision.run, decision.state, decision.versions.state
    saved = False
    entries: tuple[LogEntry, ...] = ()
    if step is not None and not step.noop:
        entries = step.log_entries
        if entries or state is None or step.state != state:
            # The version the pass decided on is the stored one: it holds the run's lock
            # and checked it (step 1, or relock_unchanged).
            version = serializers.save_execution_state(
                run.id, step.state, stored_version=version
            ).eversion
            ExecutionLogEntry.objects.bulk_create(
                [
                    serializers.log_entry_row(run.id, version, entry, f"log_entries[{i}]")
                    for i, entry in enumerate(entries)
                ]
            )
            transaction.on_commit(partial(count_log_entries, run.project, entries))
            rollups.entries_logged(run.project, entries)
            if _ends(state, step.state):
                rollups.execution_ended(run.id)
            saved = True
        state = step.state
    follow_state(run, state, entries, version, actor)
    if decision.events:
        TryjobEvent.objects.filter(id__in=[event_id for event_id, _ in decision.events]).delete()
    return PassResult(
        run.id,
        state,
        version,
        entries,
        saved,
        run.status,
        len(decision.events),
        tuple(sorted(woken)),
    )


def _ends(before: State | None, after: State) -> bool:
    """Whether a pass moves the execution state from running (or none) to ended."""
    running = before is None or before.status in (State.RUNNING, State.STATUS_UNSPECIFIED)
    return running and after.status in (State.SUCCEEDED, State.FAILED)


LOGGED = Counter(
    "cvsite_executor_log_entries",
    "What executor passes logged (tryjobs launched, reused, ended, launch failures, retries "
    "denied, ...), by project and kind, counted when the pass commits",
    ["project", "kind"],
)
LOGGED_TRYJOBS = Counter(
    "cvsite_executor_tryjobs",
    "Tryjobs named by the executor's log entries (launched, launch_failed, reused, ended)",
    ["project", "kind"],
)


def count_log_entries(project: str, entries: Sequence[LogEntry]) -> None:
    for entry in entries:
        kind = entry.WhichOneof("kind")
        LOGGED.labels(project, kind).inc()
        named = getattr(getattr(entry, kind), "tryjobs", None)
        if named is not None:
            LOGGED_TRYJOBS.labels(project, kind.removeprefix("tryjobs_")).inc(len(named))


def run_view(run: Run, run_cls: Sequence[RunCL] | None = None) -> RunView:
    """What the executor reads of a run: its mode, owner, and CLs in order (with their
    current revision's metadata, which footer reuse keys read). `run_cls`: the run's CLs
    in order, when the caller read them already."""
    if run_cls is None:
        run_cls = RunCL.objects.filter(run_id=run.id).order_by("position")
    cls = []
    for row in run_cls:
        info = run_serializers.change_info_from_row(row)
        revision = info.revisions.get(row.current_revision) if row.current_revision else None
        message = revision.commit.message if revision is not None else ""
        cls.append(
            ViewCL(
                row.cl_id,
                row.patchset,
                row.min_equivalent_patchset,
                Metadata.of(message).pairs,
            )
        )
    return RunView(run.id, run.mode, tuple(cls), run.owner)
