"""Driving the tryjob executor over stored runs and tryjobs: every state change, one function.

The executor (tryjobs/executor.py) is pure; this module does its I/O. Public entry points:

``set_requirement(run_id, requirement, actor) -> PassResult``
    Applies a new ``Requirement`` (version = the stored one + 1) in one executor pass.
``run_executor(run_id, actor) -> PassResult``
    A pass over the latest stored state of every tryjob the run's attempts use (plus any
    pending events): what an operator runs to make a run catch up.
``process_tryjob_events(run_id, actor) -> PassResult | None``
    A pass over the run's pending ``TryjobEvent`` rows (the ``tryjobs.tasks`` task body).
``record_tryjob_update(external_id, status, result)`` / ``record_tryjob_updates(updates)``
    A backend reports a tryjob's new status and result (§7.4): stored, then every run that
    watches the tryjob (launched or reused it, not ended) is woken.
``schedule_stale_tryjob_cancellation(cl_id, previous, current)`` / ``cancel_stale_tryjobs``
    §5: tryjobs of a CL's superseded patchsets that no running run watches are cancelled.
``parse_requirement(text, fmt, source)``, ``failure_message(state, denials)``.

One pass, one transaction. The run's row is locked (``SELECT ... FOR NO KEY UPDATE`` on
PostgreSQL, so writers of events, which only take a key-share lock through their foreign
key, never wait for a pass; SQLite serializes writers anyway). In that transaction the pass
loads the state (tryjobs.serializers), runs the executor, reuses tryjobs (the run joins
their ``reused_by``), creates and launches new ones through the ``TryjobBackend``, saves the
state with its log entries as ``ExecutionLogEntry`` rows (``state_version`` = the saved
state's ``eversion``), moves the run on when the state ended (§3.2), and deletes exactly the
events it read. Backend calls therefore happen while the run is locked: a pass that fails
after launching rolls back its tryjob rows, and the next pass launches again (a backend
that keys builds by request ID, as Buildbucket does, is asked with new tryjob IDs then).

Launch retries (§3.7): retriable gRPC codes are retried within the pass with exponential
backoff (``LAUNCH_BACKOFF``: 100 ms, doubling, at most 10 s apart, giving up after 2 min);
a non-retriable failure stops the retries of that round at once. What still fails is
UNTRIGGERED with its reason and logged as ``tryjobs_launch_failed``.

Runs of projects that CQDaemon verifies (``runs.models.ProjectVerifier``) are never touched:
operators' actions are refused (FAILED_PRECONDITION), tasks do nothing and leave the events.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from django.db import transaction
from django.utils import timezone
from google.protobuf import json_format, text_format

from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from cvproto.validation import InvalidMessage, enum_name
from runs import serializers as run_serializers
from runs.actions import announce_result
from runs.errors import ActionError, Code
from runs.lifecycle import set_status
from runs.models import CL, ProjectVerifier, Run, RunCL, RunMode, RunStatus, Verifier
from runs.posts import VERIFIED_OK_MESSAGE
from runs.submission import submission_order
from tryjobs import executor, serializers, views
from tryjobs.backend import (
    BackendError,
    LaunchCL,
    LaunchError,
    LaunchRequest,
    LaunchResult,
    Started,
    TryjobBackend,
    get_backend,
)
from tryjobs.definitions import DuplicateDefinitionError, keyed_definitions
from tryjobs.external_id import ExternalIDError, external_id_url
from tryjobs.models import (
    ExecutionLogEntry,
    LogKind,
    Tryjob,
    TryjobCLPatchset,
    TryjobEvent,
    TryjobStatus,
)
from tryjobs.reuse import can_reuse, choose_reusable

__all__ = [
    "LAUNCH_BACKOFF",
    "STALE_SUMMARY",
    "Backoff",
    "PassResult",
    "StaleCancellation",
    "TryjobUpdate",
    "cancel_stale_tryjobs",
    "check_requirement",
    "failure_message",
    "parse_requirement",
    "process_tryjob_events",
    "record_tryjob_update",
    "record_tryjob_updates",
    "run_executor",
    "schedule_stale_tryjob_cancellation",
    "set_requirement",
]

logger = logging.getLogger(__name__)

State = tryjob_pb.ExecutionState
LogEntry = tryjob_pb.ExecutionLogEntry
Requirement = tryjob_pb.Requirement
Result = tryjob_pb.Result

_ENDED_RUN = RunStatus.ended()
_THROUGH = Tryjob.reused_by.through


@dataclass(frozen=True)
class Backoff:
    """Delays between launch rounds: `initial`, times `multiplier`, at most `max_delay`; no
    new round once `deadline` seconds would have passed. `sleep` is replaceable in tests."""

    initial: float = 0.1
    multiplier: float = 2.0
    max_delay: float = 10.0
    deadline: float = 120.0
    sleep: Callable[[float], None] = time.sleep


LAUNCH_BACKOFF = Backoff()


@dataclass(frozen=True)
class PassResult:
    """What one executor pass did. `state` is the run's state after it (None: none yet)."""

    run_id: str
    state: State | None
    state_version: int
    log_entries: tuple[LogEntry, ...]
    saved: bool
    run_status: int
    events: int

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


# Requirements ----------------------------------------------------------------------------------

_TEXT_SUFFIXES = (".txtpb", ".textpb", ".textproto", ".pbtxt", ".prototxt")


def format_of(path: str) -> str | None:
    """ "json" or "text" by a file name's extension; None when it does not say."""
    lowered = path.lower()
    if lowered.endswith(".json"):
        return "json"
    if lowered.endswith(_TEXT_SUFFIXES):
        return "text"
    return None


def parse_requirement(
    data: str | bytes, fmt: str | None = None, source: str = "requirement"
) -> Requirement:
    """A Requirement from protobuf text format or JSON (`fmt` None: JSON iff it starts with
    "{"), checked with `check_requirement`; ActionError(INVALID_ARGUMENT) names the problem."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ActionError(Code.INVALID_ARGUMENT, f"{source}: not UTF-8 text ({e})") from e
    if fmt is None:
        fmt = "json" if data.lstrip().startswith("{") else "text"
    requirement = Requirement()
    try:
        if fmt == "json":
            json_format.Parse(data, requirement)
        elif fmt == "text":
            text_format.Parse(data, requirement)
        else:
            raise ActionError(
                Code.INVALID_ARGUMENT, f"{source}: unknown format {fmt!r}; use json or text"
            )
    except (json_format.ParseError, text_format.ParseError) as e:
        name = "JSON" if fmt == "json" else "protobuf text format"
        raise ActionError(
            Code.INVALID_ARGUMENT,
            f"{source}: not a cv.internal.tryjob.Requirement in {name}: {e}",
        ) from e
    check_requirement(requirement, source)
    return requirement


def check_requirement(requirement: Requirement, source: str = "requirement") -> None:
    """Refuses a requirement cvsite cannot execute or store, naming the field."""
    try:
        keyed_definitions(requirement, source)
    except DuplicateDefinitionError as e:
        raise ActionError(Code.INVALID_ARGUMENT, str(e)) from e
    for i, definition in enumerate(requirement.definitions):
        try:
            serializers.definition_columns(definition, f"{source}.definitions[{i}]")
        except InvalidMessage as e:
            raise ActionError(Code.INVALID_ARGUMENT, str(e)) from e
    if requirement.HasField("retry_config"):
        for name, value in requirement.retry_config.ListFields():
            if value < 0:
                raise ActionError(
                    Code.INVALID_ARGUMENT,
                    f"{source}.retry_config.{name.name}: must not be negative, got {value}",
                )


# Executor passes -------------------------------------------------------------------------------


def set_requirement(run_id: str, requirement: Requirement, actor: str) -> PassResult:
    """Applies `requirement` to a RUNNING run as its next version, in one executor pass."""
    check_requirement(requirement)
    return _pass(run_id, actor, requirement=requirement)


def run_executor(run_id: str, actor: str) -> PassResult:
    """A pass over the latest stored state of every tryjob the run uses (and its events)."""
    return _pass(run_id, actor, refresh_all=True)


def process_tryjob_events(run_id: str, actor: str) -> PassResult | None:
    """A pass over the run's pending tryjob events; None for a CQDaemon-verified project."""
    try:
        return _pass(run_id, actor, from_task=True)
    except ActionError as e:
        if e.code == Code.NOT_FOUND:
            return None  # the run was deleted; its events went with it
        raise


def _lock_run(run_id: str) -> Run:
    run = Run.objects.select_for_update(no_key=True).filter(id=run_id).first()
    if run is None:
        raise ActionError(Code.NOT_FOUND, f"run {run_id!r} not found")
    return run


class _NotVerifiedHere(Exception):
    pass


def _pass(
    run_id: str,
    actor: str,
    *,
    requirement: Requirement | None = None,
    refresh_all: bool = False,
    from_task: bool = False,
) -> PassResult | None:
    try:
        with transaction.atomic():
            return _locked_pass(run_id, actor, requirement, refresh_all, from_task)
    except _NotVerifiedHere:
        return None


def _locked_pass(
    run_id: str,
    actor: str,
    requirement: Requirement | None,
    refresh_all: bool,
    from_task: bool,
) -> PassResult:
    run = _lock_run(run_id)
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

    step = None
    if run.status == RunStatus.RUNNING:
        now = timezone.now()
        view = _run_view(run)
        if requirement is not None:
            next_version = (state.requirement_version if state is not None else 0) + 1
            step = executor.on_requirement(state, view, requirement, next_version, now)
        else:
            ids = {tryjob_id for _, tryjob_id in events}
            if refresh_all:
                ids.update(a.tryjob_id for e in state.executions for a in e.attempts)
            rows = Tryjob.objects.filter(id__in=sorted(ids)) if ids else []
            views = [serializers.tryjob_view_from_row(row) for row in rows]
            step = executor.on_tryjobs_updated(state, view, views, now)
        starter = _Starter(run, view, now)
        step = executor.drive(step, view, now, starter)

    saved = False
    entries: tuple[LogEntry, ...] = ()
    if step is not None and not step.noop:
        entries = step.log_entries
        if entries or state is None or step.state != state:
            version = serializers.save_execution_state(run.id, step.state).eversion
            ExecutionLogEntry.objects.bulk_create(
                [
                    serializers.log_entry_row(run.id, version, entry, f"log_entries[{i}]")
                    for i, entry in enumerate(entries)
                ]
            )
            saved = True
        state = step.state
        starter.notify_others()
    _follow(run, state, entries, version, actor)
    if events:
        TryjobEvent.objects.filter(id__in=[event_id for event_id, _ in events]).delete()
    return PassResult(run.id, state, version, entries, saved, run.status, len(events))


def _run_view(run: Run) -> views.RunView:
    cls = tuple(
        views.RunCL(clid, patchset, min_equivalent)
        for clid, patchset, min_equivalent in RunCL.objects.filter(run_id=run.id)
        .order_by("position")
        .values_list("cl_id", "patchset", "min_equivalent_patchset")
    )
    return views.RunView(run.id, run.mode, cls, run.owner)


def _with_watchers(rows: Sequence[Tryjob]) -> list[views.TryjobView]:
    """Views of tryjob rows with their `reused_by` runs, oldest first."""
    watchers: dict[int, list[str]] = defaultdict(list)
    for tryjob_id, run_id in (
        _THROUGH.objects.filter(tryjob_id__in=[r.id for r in rows])
        .order_by("id")
        .values_list("tryjob_id", "run_id")
    ):
        watchers[tryjob_id].append(run_id)
    return [serializers.tryjob_view_from_row(r, watchers.get(r.id, ())) for r in rows]


# Reuse and launch ------------------------------------------------------------------------------


class _Starter:
    """`start(plan) -> outcomes` for executor.drive: reuse from cvsite's store, else launch."""

    def __init__(self, run: Run, view: views.RunView, now: datetime):
        self.run = run
        self.view = view
        self.now = now
        self.backend: TryjobBackend = get_backend()
        # Tryjobs changed here that other runs may watch: they hear of it after the pass.
        self.touched: set[int] = set()

    def __call__(self, plan: executor.Plan) -> list[executor.Outcome]:
        requests = plan.attempts
        outcomes: list[executor.Outcome | None] = [None] * len(requests)
        relaunch: dict[int, tuple[Tryjob, views.TryjobView]] = {}
        if any(r.reuse_allowed for r in requests):
            self._reuse(requests, outcomes, relaunch)
        to_launch = [n for n in range(len(requests)) if outcomes[n] is None]
        if to_launch:
            rows = {n: relaunch[n][0] for n in to_launch if n in relaunch}
            new = [n for n in to_launch if n not in relaunch]
            for n, row in zip(new, self._create_pending([requests[n] for n in new]), strict=True):
                rows[n] = row
            watchers = {n: relaunch[n][1].reused_by for n in relaunch}
            self._launch(requests, rows, watchers, outcomes)
        return outcomes

    # Reuse (§3.6 finder 1) -----------------------------------------------------------------

    def _reuse(self, requests, outcomes, relaunch) -> None:
        # Never reusable, whatever choose_reusable would say: the run's own attempts and
        # tryjobs that never ran or were cancelled. Left out here, they cost no conversion.
        known = set().union(*(r.known_tryjob_ids for r in requests))
        rows = (
            Tryjob.objects.filter(reuse_key=self.view.reuse_key)
            .exclude(status__in=[TryjobStatus.CANCELLED, TryjobStatus.UNTRIGGERED])
            .exclude(id__in=sorted(known))
        )
        candidates = _with_watchers(list(rows))
        chosen = choose_reusable(candidates, requests, self.view, self.now)
        picked = {n: tj for n, tj in enumerate(chosen) if tj is not None}
        if not picked:
            return
        # Lock in ID order (no deadlock with another pass), then judge the rows as they are now.
        locked = {
            row.id: row
            for row in Tryjob.objects.select_for_update(no_key=True)
            .filter(id__in=sorted({tj.id for tj in picked.values()}))
            .order_by("id")
        }
        fresh = {v.id: v for v in _with_watchers(list(locked.values()))}
        taken: set[int] = set()
        for n, candidate in picked.items():
            view = fresh.get(candidate.id)
            request = requests[n]
            if view is None or view.id in taken:
                continue
            if view.launched_by == self.run.id and view.status == TryjobStatus.PENDING:
                # This run's own tryjob, never launched (an earlier pass died): launch it now.
                relaunch[n] = (locked[view.id], view)
                taken.add(view.id)
                continue
            if not can_reuse(view, request.definition, self.view.mode, self.now).reusable:
                continue  # changed since the search: launch a new one instead
            taken.add(view.id)
            if view.launched_by != self.run.id and self.run.id not in view.reused_by:
                row = locked[view.id]
                _THROUGH.objects.create(tryjob_id=row.id, run_id=self.run.id)
                row.eversion += 1
                row.update_time = self.now
                row.save(update_fields=["eversion", "update_time"])
                view = dataclasses.replace(view, reused_by=(*view.reused_by, self.run.id))
            outcomes[n] = executor.Reused(view)

    # Launch (§3.7) -------------------------------------------------------------------------

    def _create_pending(self, requests: Sequence[views.AttemptRequest]) -> list[Tryjob]:
        if not requests:
            return []
        rows = [
            Tryjob(
                **serializers.tryjob_columns(
                    definition=r.definition, status=TryjobStatus.PENDING, field="definition"
                ),
                reuse_key=self.view.reuse_key,
                launched_by_id=self.run.id,
                create_time=self.now,
                update_time=self.now,
                eversion=1,
            )
            for r in requests
        ]
        Tryjob.objects.bulk_create(rows)
        TryjobCLPatchset.objects.bulk_create(
            [
                TryjobCLPatchset(tryjob=row, cl_id=cl.clid, patchset=cl.patchset)
                for row in rows
                for cl in self.view.cls
            ]
        )
        return rows

    @cached_property
    def _launch_cls(self) -> tuple[LaunchCL, ...]:
        run_cls = list(
            RunCL.objects.filter(run_id=self.run.id).select_related("cl").prefetch_related("deps")
        )
        return tuple(
            LaunchCL(rc.cl.host, rc.cl.change, rc.patchset, rc.current_revision, rc.gerrit_project)
            for rc in submission_order(run_cls)
        )

    def _launch(self, requests, rows: dict[int, Tryjob], watchers, outcomes) -> None:
        backoff = LAUNCH_BACKOFF
        pending = sorted(rows)
        errors: dict[int, LaunchError] = {}
        launch_requests = {
            n: LaunchRequest(
                tryjob_id=rows[n].id,
                definition=requests[n].definition,
                run_id=self.run.id,
                mode=self.run.mode,
                owner=self.run.owner,
                attempt_key=self.run.cqd_attempt_key,
                cls=self._launch_cls,
                is_retry=requests[n].is_retry,
            )
            for n in pending
        }
        started_at = time.monotonic()
        slept = 0.0
        delay = backoff.initial
        round_ = 0
        while pending:
            round_ += 1
            results = self._call(
                [launch_requests[n] for n in pending], [rows[n].id for n in pending]
            )
            failed = []
            for n, result in zip(pending, results, strict=True):
                if isinstance(result, Started):
                    try:
                        outcomes[n] = self._started(rows[n], watchers.get(n, ()), result, round_)
                        errors.pop(n, None)
                        continue
                    except InvalidMessage as e:
                        logger.error("backend answered tryjob %s with %s", rows[n].id, e)
                        result = LaunchError(None, str(e))
                errors[n] = result
                failed.append(n)
            if not failed or any(not _retriable(errors[n]) for n in failed):
                break
            elapsed = max(slept, time.monotonic() - started_at)
            if elapsed + delay > backoff.deadline:
                break
            backoff.sleep(delay)
            slept += delay
            delay = min(delay * backoff.multiplier, backoff.max_delay)
            pending = failed
        for n, error in errors.items():
            outcomes[n] = self._failed(rows[n], watchers.get(n, ()), error)

    def _call(self, batch: list[LaunchRequest], ids: list[int]) -> list[LaunchResult]:
        try:
            results = list(self.backend.launch(batch))
        except BackendError as e:
            return [LaunchError(e.code, e.message)] * len(batch)
        except Exception:
            # Anything but a status from the backend: upstream's "unexpected internal error".
            logger.exception("launching tryjobs %s failed unexpectedly", ids)
            return [LaunchError(None)] * len(batch)
        if len(results) != len(batch):
            logger.error("backend answered %d launches with %d results", len(batch), len(results))
            return [LaunchError(None)] * len(batch)
        return results

    def _started(self, row: Tryjob, reused_by, started: Started, round_: int):
        columns = serializers.tryjob_columns(
            definition=serializers.definition_from_row(row),
            status=started.status,
            external_id=started.external_id,
            result=started.result,
        )
        if started.status not in (TryjobStatus.TRIGGERED, TryjobStatus.ENDED):
            raise InvalidMessage("status", "a launched tryjob is TRIGGERED or ENDED")
        existing = (
            Tryjob.objects.select_for_update(no_key=True)
            .filter(external_id=started.external_id)
            .exclude(id=row.id)
            .first()
        )
        if existing is not None:
            return self._reconcile(row, existing, columns, round_)
        for name in ("status", "external_id", *serializers.NO_RESULT_COLUMNS):
            setattr(row, name, columns[name])
        row.eversion += 1
        row.update_time = self.now
        row.save()
        if reused_by:
            self.touched.add(row.id)
        return executor.Launched(serializers.tryjob_view_from_row(row, reused_by), round_)

    def _reconcile(self, row: Tryjob, existing: Tryjob, columns: dict, round_: int):
        """The backend's tryjob is already known under another ID: that one wins (§3.7.6).

        QUIRK (fixed): upstream's reason names the dropped tryjob itself and ends with a
        space; here it names the tryjob the external ID maps to, which is what to look at.
        """
        self._untrigger(
            row, f"launched {columns['external_id']}, but it already maps to tryjob {existing.id}"
        )
        for name in ("status", *serializers.NO_RESULT_COLUMNS):
            setattr(existing, name, columns[name])
        existing.eversion += 1
        existing.update_time = self.now
        existing.save()
        watchers = list(
            _THROUGH.objects.filter(tryjob_id=existing.id)
            .order_by("id")
            .values_list("run_id", flat=True)
        )
        if existing.launched_by_id != self.run.id and self.run.id not in watchers:
            _THROUGH.objects.create(tryjob_id=existing.id, run_id=self.run.id)
            watchers.append(self.run.id)
        self.touched.add(existing.id)
        return executor.Launched(serializers.tryjob_view_from_row(existing, watchers), round_)

    def _failed(self, row: Tryjob, reused_by, error: LaunchError):
        reason = error.reason or executor.launch_failure_reason(
            error.code, error.message, self.backend.kind
        )
        self._untrigger(row, reason)
        if reused_by:
            self.touched.add(row.id)
        return executor.LaunchFailed(serializers.tryjob_view_from_row(row, reused_by))

    def _untrigger(self, row: Tryjob, reason: str) -> None:
        row.status = TryjobStatus.UNTRIGGERED
        row.external_id = None
        for name, value in serializers.NO_RESULT_COLUMNS.items():
            setattr(row, name, value)
        row.untriggered_reason = reason
        row.eversion += 1
        row.update_time = self.now
        row.save()

    def notify_others(self) -> None:
        if self.touched:
            _notify(self.touched, self.now, exclude_run=self.run.id)


def _retriable(error: LaunchError) -> bool:
    return (
        not error.reason
        and error.code is not None
        and executor.is_retriable_launch_code(error.code)
    )


# The run follows its state (§3.2) --------------------------------------------------------------

SUCCEEDED_REASON = "all required tryjobs succeeded"


def _follow(run: Run, state: State | None, entries, version: int, actor: str) -> None:
    if state is None or run.status != RunStatus.RUNNING:
        return
    if state.status == State.SUCCEEDED:
        if run.mode == RunMode.FULL_RUN:
            from runs import tasks as run_tasks

            set_status(run, RunStatus.WAITING_FOR_SUBMISSION, actor, SUCCEEDED_REASON)
            run_tasks.submit_run.enqueue(run.id)
        else:
            set_status(run, RunStatus.SUCCEEDED, actor, SUCCEEDED_REASON)
            announce_result(run, VERIFIED_OK_MESSAGE)
    elif state.status == State.FAILED:
        denials = [e.retry_denied for e in entries if e.WhichOneof("kind") == "retry_denied"]
        if not entries:  # a repair pass: the pass that failed the state logged the denials
            denials = [
                serializers.log_entry_from_row(row).retry_denied
                for row in ExecutionLogEntry.objects.filter(
                    run_id=run.id, state_version=version, kind=LogKind.RETRY_DENIED
                )
            ]
        message = failure_message(state, denials)
        set_status(run, RunStatus.FAILED, actor, message)
        announce_result(run, message)


_RESULT_WORDS = {
    Result.FAILED_PERMANENTLY: "failed",
    Result.FAILED_TRANSIENTLY: "failed (infra or transient failure)",
    Result.TIMEOUT: "timed out",
}
_SUMMARY_LINES = 10


def failure_message(state: State, denials: Iterable[LogEntry.RetryDenied] = ()) -> str:
    """Why a FAILED state failed, for the run's end reason (and so for people).

    Unsuccessful tryjobs are preferred over launch failures (§3.2). Each failed tryjob is
    named by the builder that ran (or its definition's), with its link and the start of its
    summary; a definition with RESTRICTED result visibility shows only the link. The reasons
    retries were denied follow.
    """
    failures = state.failures
    latest: dict[int, tuple[tryjob_pb.Definition, State.Execution.Attempt]] = {}
    for definition, execution in zip(state.requirement.definitions, state.executions, strict=True):
        for attempt in execution.attempts:
            latest[attempt.tryjob_id] = (definition, attempt)
    lines: list[str] = []
    if failures.unsuccessful_results:
        count = len(failures.unsuccessful_results)
        lines.append(f"{count} tryjob{'s' if count > 1 else ''} failed:")
        for unsuccessful in failures.unsuccessful_results:
            lines.extend(_describe_unsuccessful(unsuccessful.tryjob_id, latest))
        reasons = list(dict.fromkeys(d.reason for d in denials if d.reason))
        if reasons:
            lines.append(f"Not retried: {'; '.join(reasons)}.")
    elif failures.launch_failures:
        count = len(failures.launch_failures)
        lines.append(f"Failed to launch {count} tryjob{'s' if count > 1 else ''}:")
        for failure in failures.launch_failures:
            name = (
                "a tryjob"
                if _restricted(failure.definition)
                else _builder_name(failure.definition.buildbucket.builder)
            )
            lines.append(f"* {name}: {failure.reason}")
    else:
        lines.append("The tryjobs failed (no details were recorded).")
    return "\n".join(lines)


def _restricted(definition: tryjob_pb.Definition) -> bool:
    return definition.result_visibility == 2  # cv.config.COMMENT_LEVEL_RESTRICTED


def _builder_name(builder) -> str:
    return f"{builder.project}/{builder.bucket}/{builder.builder}"


def _describe_unsuccessful(tryjob_id: int, latest) -> list[str]:
    if tryjob_id not in latest:
        return [f"* tryjob {tryjob_id} failed"]
    definition, attempt = latest[tryjob_id]
    try:
        link = external_id_url(attempt.external_id) if attempt.external_id else ""
    except ExternalIDError:
        link = attempt.external_id
    where = f": {link}" if link else ""
    if _restricted(definition):
        return [f"* a tryjob failed{where}"]
    result = attempt.result if attempt.HasField("result") else None
    if result is not None and result.buildbucket.HasField("builder"):
        name = _builder_name(result.buildbucket.builder)
    else:
        name = _builder_name(definition.buildbucket.builder)
    if attempt.status == TryjobStatus.CANCELLED:
        verdict = "was cancelled"
    else:
        status = result.status if result is not None else 0
        verdict = _RESULT_WORDS.get(status, f"ended {enum_name(Result.Status, status)}")
    lines = [f"* {name} {verdict}{where}"]
    summary = result.buildbucket.summary_markdown.strip() if result is not None else ""
    if summary:
        summary_lines = summary.splitlines()
        lines.extend(f"  {line}" for line in summary_lines[:_SUMMARY_LINES])
        if len(summary_lines) > _SUMMARY_LINES:
            lines.append("  ...")
    return lines


# Tryjob updates (§7.4) and waking the runs that watch them -------------------------------------


@dataclass(frozen=True)
class TryjobUpdate:
    """A backend's news about the tryjob with `external_id`."""

    external_id: str
    status: int
    result: Result | None = None


def record_tryjob_update(external_id: str, status: int, result: Result | None = None) -> bool:
    """Stores one tryjob's new status and result; True if it changed (runs are woken)."""
    return bool(record_tryjob_updates([TryjobUpdate(external_id, status, result)]))


def record_tryjob_updates(updates: Sequence[TryjobUpdate]) -> list[int]:
    """Stores tryjobs' new statuses and results in one transaction; returns the changed IDs.

    An update older than what is stored (both `result.update_time`s set, the stored one
    later) or equal to it changes nothing. Like upstream, a final status is not protected: a
    tryjob mirrors what its backend says last. Every run that watches a changed tryjob and
    has not ended gets one event per tryjob and one task (per run, for the whole batch).
    """
    for i, update in enumerate(updates):
        try:
            serializers.check_tryjob_status(
                update.status, update.external_id, update.result, f"updates[{i}]"
            )
            serializers.result_columns(update.result, f"updates[{i}].result")
        except InvalidMessage as e:
            raise ActionError(Code.INVALID_ARGUMENT, str(e)) from e
    now = timezone.now()
    changed: list[int] = []
    with transaction.atomic():
        rows = {
            row.external_id: row
            for row in Tryjob.objects.select_for_update(no_key=True)
            .filter(external_id__in=sorted({u.external_id for u in updates}))
            .order_by("id")
        }
        for update in updates:
            row = rows.get(update.external_id)
            if row is None:
                raise ActionError(
                    Code.NOT_FOUND, f"unknown Tryjob with ExternalID {update.external_id}"
                )
            stored = serializers.result_from_row(row)
            if (
                stored is not None
                and update.result is not None
                and stored.HasField("update_time")
                and update.result.HasField("update_time")
                and stored.update_time.ToDatetime() > update.result.update_time.ToDatetime()
            ):
                continue  # older news than what is stored
            if row.status == update.status and stored == update.result:
                continue
            row.status = update.status
            for name, value in serializers.result_columns(update.result).items():
                setattr(row, name, value)
            row.untriggered_reason = ""
            row.eversion += 1
            row.update_time = now
            row.save()
            if row.id not in changed:
                changed.append(row.id)
        if changed:
            _notify(changed, now)
    return changed


def _notify(tryjob_ids: Iterable[int], now: datetime, exclude_run: str | None = None) -> None:
    """Inbox events for the runs watching these tryjobs (not ended), and a task per run."""
    ids = sorted(set(tryjob_ids))
    pairs = set(
        Tryjob.objects.filter(id__in=ids, launched_by__isnull=False)
        .exclude(launched_by__status__in=_ENDED_RUN)
        .values_list("launched_by_id", "id")
    )
    pairs.update(
        _THROUGH.objects.filter(tryjob_id__in=ids)
        .exclude(run__status__in=_ENDED_RUN)
        .values_list("run_id", "tryjob_id")
    )
    pairs = sorted(p for p in pairs if p[0] != exclude_run)
    if not pairs:
        return
    TryjobEvent.objects.bulk_create(
        [TryjobEvent(run_id=run_id, tryjob_id=tj, created_at=now) for run_id, tj in pairs]
    )
    from tryjobs import tasks

    for run_id in sorted({run_id for run_id, _ in pairs}):
        tasks.process_tryjob_events.enqueue(run_id)


# Stale tryjobs (§5) ----------------------------------------------------------------------------

STALE_SUMMARY = "cvsite no longer needs this tryjob: its CL has a newer patchset"
DO_NOT_CANCEL_FOOTER = "cq-do-not-cancel-tryjobs"
STALE_DELAY = timedelta(seconds=1)
_FOOTER_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*)\s*:\s*(.*)$")


@dataclass
class StaleCancellation:
    """What one stale-tryjob pass did; `retry_in` set when it must run again."""

    cancelled: list[int] = field(default_factory=list)
    still_watched: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    kept_by_footer: bool = False
    retry_in: timedelta | None = None


def schedule_stale_tryjob_cancellation(cl_id: int, previous: int, current: int) -> bool:
    """Call when a CL's min_equivalent_patchset went from `previous` to `current`.

    Enqueues the cancellation (in the caller's transaction, due in 1 s) unless `previous` is
    0 (a CL seen for the first time); returns whether it did.
    """
    if previous >= current:
        raise ValueError(
            f"CL {cl_id}: patchset numbers expected to increase monotonically, "
            f"got {previous} -> {current}"
        )
    if previous == 0:
        return False
    from tryjobs import tasks

    tasks.cancel_stale_tryjobs.using(run_after=timezone.now() + STALE_DELAY).enqueue(
        cl_id, previous, current
    )
    return True


def _footer_values(message: str, key: str) -> list[str]:
    paragraphs = [p for p in re.split(r"\n\s*\n", message.strip()) if p.strip()]
    if not paragraphs:
        return []
    values = []
    for line in paragraphs[-1].splitlines():
        match = _FOOTER_RE.match(line.strip())
        if match and match.group(1).lower() == key:
            values.append(match.group(2).strip())
    return values


def _keeps_tryjobs(cl: CL) -> bool:
    info = run_serializers.change_info_from_row(cl)
    revision = info.revisions.get(info.current_revision)
    if revision is None:
        return False
    return any(
        v.lower() == "true" for v in _footer_values(revision.commit.message, DO_NOT_CANCEL_FOOTER)
    )


def _watched(tryjob_id: int) -> bool:
    return (
        Tryjob.objects.filter(id=tryjob_id, launched_by__isnull=False)
        .exclude(launched_by__status__in=_ENDED_RUN)
        .exists()
        or _THROUGH.objects.filter(tryjob_id=tryjob_id).exclude(run__status__in=_ENDED_RUN).exists()
    )


def cancel_stale_tryjobs(cl_id: int, previous: int, current: int) -> StaleCancellation:
    """Cancels the tryjobs cvsite launched for patchsets [previous, current) of the CL.

    Kept: tryjobs without an external ID, already ended, not launched by cvsite, of a
    definition with skip_stale_check, or still watched by a run that has not ended (those
    are tried again later, `retry_in`); all of them when the CL's current revision has the
    footer `Cq-Do-Not-Cancel-Tryjobs: true`. Each cancellation is its own transaction: the
    tryjob is locked and checked again, the backend asked, then the tryjob CANCELLED (its
    result dropped: the rows keep none for a CANCELLED tryjob). Runs are not woken: none
    watches it.
    """
    report = StaleCancellation()
    cl = CL.objects.filter(id=cl_id).first()
    if cl is None or _keeps_tryjobs(cl):
        report.kept_by_footer = cl is not None
        return report
    candidates = list(
        Tryjob.objects.filter(
            cl_patchsets__cl_id=cl_id,
            cl_patchsets__patchset__gte=previous,
            cl_patchsets__patchset__lt=current,
            external_id__isnull=False,
            launched_by__isnull=False,
            skip_stale_check=False,
            status__in=[TryjobStatus.PENDING, TryjobStatus.TRIGGERED],
        )
        .order_by("id")
        .values_list("id", flat=True)
        .distinct()
    )
    backend = get_backend()
    retriable_failure = False
    for tryjob_id in candidates:
        with transaction.atomic():
            row = (
                Tryjob.objects.select_for_update(no_key=True)
                .filter(id=tryjob_id, status__in=[TryjobStatus.PENDING, TryjobStatus.TRIGGERED])
                .first()
            )
            if row is None:
                continue  # ended meanwhile
            if _watched(tryjob_id):
                report.still_watched.append(tryjob_id)
                continue
            try:
                backend.cancel(row.external_id, STALE_SUMMARY)
            except BackendError as e:
                report.failed[tryjob_id] = executor.launch_failure_reason(
                    e.code, e.message, backend.kind
                )
                retriable_failure |= e.code is not None and executor.is_retriable_launch_code(
                    e.code
                )
                continue
            row.status = TryjobStatus.CANCELLED
            for name, value in serializers.NO_RESULT_COLUMNS.items():
                setattr(row, name, value)
            row.eversion += 1
            row.update_time = timezone.now()
            row.save()
            report.cancelled.append(tryjob_id)
    if report.still_watched or retriable_failure:
        report.retry_in = timedelta(seconds=10)
    return report
