"""The tryjob executor: a run's ExecutionState as a pure state machine.

Spec: tryjob_semantics.md §3-§6 (messages of seed 000, cv.internal.tryjob). Nothing here
touches the database, the clock or the network: callers pass `now` (an aware datetime) and
read-only views of the run and its tryjobs, then do the I/O that the returned plan asks for
and hand the outcomes back. Every returned state is storable as is by
`tryjobs.serializers.execution_state_rows` (and the inputs are never modified).

Inputs (tryjobs/views.py)
------------------------
``RunView(id, mode, cls, owner="")``
    The run: its ID (``"<project>/<...>"``; ``luci_project`` is the text before the first
    ``/``), its mode (``"DRY_RUN"``, ``"FULL_RUN"``, ...) and its CLs,
    ``RunCL(clid, patchset, min_equivalent_patchset, metadata=())``. Derived: ``reuse_key``
    (``reuse_key_for(definition)`` adds the CLs' ``disable_reuse_footers`` footers) and
    ``cl_patchsets`` (tryjobs/external_id.py).
``TryjobView(id=, status=, external_id="", definition=None, result=None, launched_by="",
reused_by=(), untriggered_reason="", entity_create_time=None)``
    A tryjob as stored: ``status`` is a ``cv.internal.tryjob.Status``, ``result`` a
    ``Result`` or None, ``launched_by``/``reused_by`` are run IDs.

Entry points
------------
Each returns a ``Step(state, log_entries, plan, noop)``: the new ``ExecutionState``, the
``ExecutionLogEntry`` messages of this pass (all with ``time=now``, oldest first), the I/O
to do, and ``noop=True`` when nothing changed and nothing needs saving (a terminal state, a
stale requirement version, an update before any requirement).

``on_requirement(state, run, requirement, requirement_version, now) -> Step``
    Applies a (new) ``Requirement``. ``state`` may be None (the run just started).
    Executions are matched to definitions by main builder: added ones start empty and are
    planned at once, changed and unchanged ones keep their attempts and ``used_quota``,
    removed ones are dropped with a ``tryjob_discarded`` entry (their tryjobs keep running;
    ``plan.discards`` lists them for information, there is nothing to do). Logs
    ``requirement_changed`` when the state already had a requirement. An empty requirement
    SUCCEEDS. A version not above ``state.requirement_version`` is a no-op.
``on_tryjobs_updated(state, run, tryjobs, now) -> Step``
    Copies the tryjobs' external ID, status and result into the attempts they back (others
    are ignored, e.g. tryjobs of removed definitions), logs ``tryjobs_ended`` for latest
    attempts that changed and are now ENDED or CANCELLED, then decides (below).
``apply_outcomes(state, run, plan, outcomes, now) -> Step``
    After the I/O: one outcome per ``plan.attempts`` item, in the same order, each
    ``Reused(tryjob)``, ``Launched(tryjob, round=1)`` or ``LaunchFailed(tryjob)`` (an
    UNTRIGGERED tryjob whose ``untriggered_reason`` says why). Appends the attempts and logs
    ``tryjobs_reused``, one ``tryjobs_launched`` per launch round, ``tryjobs_launch_failed``.
    A critical launch failure FAILS the state (``failures.launch_failures``); otherwise it
    decides again, so the returned plan may ask for more attempts (a launched tryjob that had
    already failed): call it again until ``plan.attempts`` is empty.
``drive(step, run, now, start) -> Step``
    That loop: ``start(plan) -> outcomes`` does the I/O; returns the final step with the log
    entries of every pass. Save the state (with all the entries) only once the plan is done:
    a state whose plan is still open has its retry quota charged but not its new attempts.

Deciding (every pass on a RUNNING state, over all executions): a critical execution whose
latest attempt ended without success (ENDED and not SUCCEEDED, or CANCELLED) goes to
``tryjobs.retry.can_retry_all``; denied: FAILED with every such tryjob in
``failures.unsuccessful_results`` and no new attempts; allowed: a new attempt each. New
attempts are also planned for executions without attempts, for reused attempts that ran in a
mode their recipe does not allow for reuse (TRIGGERED or critical SUCCEEDED), and for
UNTRIGGERED attempts that were reused or are critical. With nothing failed or planned, the
state SUCCEEDS once every critical execution's latest attempt is ENDED and SUCCEEDED. A
terminal state gets ``end_time = now`` once and never changes again.

Plan
----
``Plan(attempts, discards)``. ``AttemptRequest(index, definition, reuse_allowed, reuse_key,
cl_patchsets, known_tryjob_ids, known_external_ids, attempt_number)``: find a tryjob to reuse
(unless ``reuse_allowed`` is False; never one in ``known_*``, see
``tryjobs.reuse.choose_reusable``) or create and launch one with the main builder.
``Discard(definition, tryjob_id, external_id, reason)``: informational.

Other pure entry points
-----------------------
``tryjobs.definitions``: ``definition_key``, ``tryjob_matches``, ``find_matching_definition``,
``build_matches``, ``diff_requirements(old, new) -> RequirementDiff(added, removed, changed,
unchanged, retry_config_changed)``.
``tryjobs.reuse``: ``can_reuse(tryjob, definition, mode, now) -> ReuseVerdict`` (the §3.6 table,
24-hour freshness, mode allowlist), ``reuse_verdict``, ``mode_allowed``,
``choose_reusable(candidates, requests, run, now)`` (which stored tryjob each request reuses).
``tryjobs.retry``: ``can_retry_all(config, used_quota, failed) -> RetryDecision(allowed,
used_quota, denials)``, ``retry_enabled``, ``failure_weight``.
Here: ``launch_failure_reason(code, message)`` and ``is_retriable_launch_code(code)`` (§3.7).

Upstream QUIRKs, decided (each is also noted where the code does it)
--------------------------------------------------------------------
* CANCELLED critical attempt counts as ended: FIXED (a run could pass without it); it is a
  failure, retried at the transient weight.
* Removing the last running critical definition leaves RUNNING: FIXED (the run could hang);
  every pass decides over all executions.
* Changed definitions are not re-evaluated, and attempts recorded already ended are never
  evaluated: FIXED by the same (a definition made critical, or a launch that had already
  failed, could pass).
* A zero weight retries forever: FIXED (builders would be occupied forever); a counted
  failure costs at least 1 (``tryjobs.retry.MIN_WEIGHT``).
* ``requirement_version`` never written: FIXED, written, so stale or repeated requirement
  events are ignored (upstream's own guard then works).
* A run's own PENDING tryjob found by reuse is marked reused: FIXED (its failures would be
  free); an attempt is reused only if another run launched its tryjob.
* The cancellator keeps a CANCELLED tryjob's result: an attempt never keeps it (the seed
  says CANCELLED has no result, and the rows refuse one).
* An update before any requirement SUCCEEDS upstream: FIXED, a no-op.
* Kept: the updater's missing finality (attempts mirror their tryjob; ENDED->ENDED refreshes
  are logged again), reused failures retried free ignoring their recipe's denial, quota
  charged when denied, failures listing all failed critical tryjobs, planned attempts dropped
  when the state fails, a terminal state ignoring later updates, removed tryjobs left
  running, a critical failure failing the run while others still run.

Example
-------
>>> from datetime import UTC, datetime
>>> from cvproto.cv.internal.tryjob import storage_pb2 as pb
>>> from tryjobs.views import RunCL, RunView, TryjobView
>>> now = datetime(2024, 3, 9, 12, 0, tzinfo=UTC)
>>> run = RunView("chromium/8290000000000-1-aaaaaaaaaaaaaaaa", "DRY_RUN", (RunCL(1, 2, 2),))
>>> linux = pb.Definition(critical=True)
>>> linux.buildbucket.host = "cr-buildbucket.appspot.com"
>>> linux.buildbucket.builder.project, linux.buildbucket.builder.bucket = "chromium", "try"
>>> linux.buildbucket.builder.builder = "linux-rel"
>>> step = on_requirement(None, run, pb.Requirement(definitions=[linux]), 1, now)
>>> [(a.index, a.reuse_allowed, a.attempt_number) for a in step.plan.attempts]
[(0, True, 1)]
>>> launched = TryjobView(id=7, status=pb.TRIGGERED, external_id="buildbucket/bb/70",
...                       definition=linux, launched_by=run.id)
>>> step = drive(step, run, now, lambda plan: [Launched(launched)])
>>> [e.WhichOneof("kind") for e in step.log_entries], pb.ExecutionState.Status.Name(
...     step.state.status)
(['tryjobs_launched'], 'RUNNING')
>>> done = pb.Result(status=pb.Result.SUCCEEDED)
>>> ended = TryjobView(id=7, status=pb.ENDED, external_id="buildbucket/bb/70",
...                    definition=linux, result=done, launched_by=run.id)
>>> step = on_tryjobs_updated(step.state, run, [ended], now)
>>> pb.ExecutionState.Status.Name(step.state.status), step.state.HasField("end_time")
('SUCCEEDED', True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cvproto.codes import Code
from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from cvproto.times import to_timestamp
from tryjobs.definitions import definition_key, keyed_definitions
from tryjobs.retry import FailedAttempt, attempt_snapshot, can_retry_all
from tryjobs.reuse import mode_allowed
from tryjobs.views import AttemptRequest, RunView, TryjobView

__all__ = [
    "DISCARD_REASON",
    "RETRIABLE_LAUNCH_CODES",
    "UNEXPECTED_LAUNCH_ERROR",
    "Discard",
    "Launched",
    "LaunchFailed",
    "Outcome",
    "Plan",
    "Reused",
    "Step",
    "apply_outcomes",
    "drive",
    "is_retriable_launch_code",
    "launch_failure_reason",
    "on_requirement",
    "on_tryjobs_updated",
]

State = tryjob_pb.ExecutionState
Execution = State.Execution
Attempt = Execution.Attempt
LogEntry = tryjob_pb.ExecutionLogEntry
Definition = tryjob_pb.Definition
Requirement = tryjob_pb.Requirement
Result = tryjob_pb.Result

DISCARD_REASON = "Tryjob is no longer required in Project Config"

_TERMINAL = (State.SUCCEEDED, State.FAILED)
_FINAL_TRYJOB = (tryjob_pb.ENDED, tryjob_pb.CANCELLED, tryjob_pb.UNTRIGGERED)
_WITH_RESULT = (tryjob_pb.TRIGGERED, tryjob_pb.ENDED)


# Outputs ---------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Discard:
    """A removed definition's latest tryjob; already logged, left running (nothing to do)."""

    definition: Definition
    tryjob_id: int
    external_id: str
    reason: str = DISCARD_REASON


@dataclass(frozen=True)
class Plan:
    attempts: tuple[AttemptRequest, ...] = ()
    discards: tuple[Discard, ...] = ()


@dataclass(frozen=True)
class Step:
    state: State
    log_entries: tuple[LogEntry, ...] = ()
    plan: Plan = field(default_factory=Plan)
    noop: bool = False


@dataclass(frozen=True)
class Reused:
    """An existing tryjob now backs the attempt."""

    tryjob: TryjobView


@dataclass(frozen=True)
class Launched:
    """A tryjob launched for the attempt (TRIGGERED, or ENDED if the build already ended).

    `round` is the launch round it succeeded in: one `tryjobs_launched` entry per round.
    """

    tryjob: TryjobView
    round: int = 1


@dataclass(frozen=True)
class LaunchFailed:
    """The launch failed for good: `tryjob` is UNTRIGGERED with its `untriggered_reason`."""

    tryjob: TryjobView


Outcome = Reused | Launched | LaunchFailed


# Launch failures (§3.7) ------------------------------------------------------------------------

# gRPC status codes by number, named as the upstream reasons name them.
_CODE_NAMES = (
    "OK Canceled Unknown InvalidArgument DeadlineExceeded NotFound AlreadyExists "
    "PermissionDenied ResourceExhausted FailedPrecondition Aborted OutOfRange Unimplemented "
    "Internal Unavailable DataLoss Unauthenticated"
).split()
RETRIABLE_LAUNCH_CODES = frozenset(
    {
        Code.UNKNOWN,
        Code.DEADLINE_EXCEEDED,
        Code.NOT_FOUND,
        Code.RESOURCE_EXHAUSTED,
        Code.INTERNAL,
        Code.UNAVAILABLE,
    }
)
UNEXPECTED_LAUNCH_ERROR = "unexpected internal error"


def is_retriable_launch_code(code: int) -> bool:
    """Whether a launch that failed with gRPC status `code` should be tried again (backoff)."""
    return code in RETRIABLE_LAUNCH_CODES


def launch_failure_reason(code: int | None, message: str = "", backend: str = "buildbucket") -> str:
    """`untriggered_reason` of a failed launch; `code` None for an error without a gRPC status."""
    if code is None:
        return UNEXPECTED_LAUNCH_ERROR
    name = _CODE_NAMES[code] if 0 <= code < len(_CODE_NAMES) else f"Code({code})"
    reason = f"received {name} from {backend}"
    return f"{reason}. message: {message}" if message else reason


# One pass --------------------------------------------------------------------------------------


def _status_name(status: int) -> str:
    value = tryjob_pb.Status.DESCRIPTOR.values_by_number.get(status)
    return value.name if value else str(status)


def _check_tryjob(tryjob: TryjobView) -> None:
    if tryjob.status not in (
        tryjob_pb.PENDING,
        tryjob_pb.TRIGGERED,
        *_FINAL_TRYJOB,
    ):
        raise ValueError(f"tryjob {tryjob.id}: status {_status_name(tryjob.status)} is not usable")
    if tryjob.id <= 0:
        raise ValueError(f"tryjob {tryjob.id}: needs a saved tryjob's ID")


def _is_reused(tryjob: TryjobView, run: RunView) -> bool:
    # QUIRK (fixed): upstream marks a run's own PENDING tryjob found again by reuse as
    # reused, which makes its failures free; an attempt is reused only if another run (or
    # no run) launched it.
    return run.id in tryjob.reused_by and tryjob.launched_by != run.id


def _copy_tryjob(attempt: Attempt, tryjob: TryjobView) -> bool:
    """Mirrors the tryjob's external ID, status and result in `attempt`; True if they changed.

    QUIRK (kept): the upstream updater does not enforce finality, and an attempt mirrors its
    tryjob whatever it says; the deciding step judges the latest attempt as it now is.
    """
    result = tryjob.result if tryjob.status in _WITH_RESULT else None
    # QUIRK (fixed): the cancellator keeps a CANCELLED tryjob's result; the seed says
    # CANCELLED has none, so the attempt drops it (only TRIGGERED/ENDED keep one).
    changed = (
        attempt.status != tryjob.status
        or attempt.external_id != tryjob.external_id
        or attempt.HasField("result") != (result is not None)
        or (result is not None and attempt.result != result)
    )
    if changed:
        attempt.status = tryjob.status
        attempt.external_id = tryjob.external_id
        if result is None:
            attempt.ClearField("result")
        else:
            attempt.result.CopyFrom(result)
    return changed


class _Pass:
    """A copy of the state being changed, and the log entries of this pass."""

    def __init__(self, state: State, run: RunView, now: datetime):
        self.state = State()
        self.state.CopyFrom(state)
        self.run = run
        self.now = now
        self.time = to_timestamp(now)
        self.entries: list[LogEntry] = []

    def log(self, kind: str, detail) -> None:
        entry = LogEntry()
        entry.time.CopyFrom(self.time)
        target = getattr(entry, kind)
        target.SetInParent()
        target.MergeFrom(detail)
        self.entries.append(entry)

    def decide(self) -> list[int]:
        """Judges every execution of a RUNNING state; returns the indices needing an attempt."""
        state = self.state
        if state.status != State.RUNNING:
            return []
        definitions = state.requirement.definitions
        failed: list[int] = []
        planned: list[int] = []
        critical_all_succeeded = True
        for i, (definition, execution) in enumerate(
            zip(definitions, state.executions, strict=True)
        ):
            critical = definition.critical
            if not execution.attempts:
                planned.append(i)
                critical_all_succeeded &= not critical
                continue
            latest = execution.attempts[-1]
            status = latest.status
            output = (
                latest.result.output
                if latest.HasField("result") and latest.result.HasField("output")
                else None
            )
            succeeded = status == tryjob_pb.ENDED and latest.result.status == Result.SUCCEEDED
            if critical and not succeeded:
                critical_all_succeeded = False
            if status == tryjob_pb.PENDING:
                pass
            elif status == tryjob_pb.TRIGGERED:
                if latest.reused and output is not None and not mode_allowed(output, self.run.mode):
                    planned.append(i)
            elif status == tryjob_pb.ENDED:
                if not succeeded:
                    if critical:
                        failed.append(i)
                elif critical and latest.reused and not mode_allowed(output, self.run.mode):
                    planned.append(i)
            elif status == tryjob_pb.CANCELLED:
                # QUIRK (fixed): upstream counts a CANCELLED critical attempt as ended, so the
                # run could pass without it; here it is a failure, retried like a transient one.
                if critical:
                    failed.append(i)
            elif status == tryjob_pb.UNTRIGGERED:
                # Upstream treats a critical, not reused one as impossible; it happens when a
                # definition became critical, and a new attempt is the useful answer.
                if latest.reused or critical:
                    planned.append(i)
            else:
                raise ValueError(
                    f"executions[{i}]: latest attempt has status {_status_name(status)}"
                )

        # Kept: one unretryable critical failure fails the state even while others still run;
        # waiting for them cannot change the verdict.
        if failed:
            decision = can_retry_all(
                state.requirement.retry_config
                if state.requirement.HasField("retry_config")
                else None,
                [e.used_quota for e in state.executions],
                [
                    FailedAttempt(i, definitions[i], state.executions[i].attempts[-1])
                    for i in failed
                ],
            )
            for execution, quota in zip(state.executions, decision.used_quota, strict=True):
                # Kept: charged even when denied; the failures did happen, and a FAILED state
                # is never judged again.
                execution.used_quota = quota
            for denial in decision.denials:
                self.log("retry_denied", denial)
            if not decision.allowed:
                # Kept: every failed critical tryjob of the pass is listed (each explains the
                # verdict) and planned attempts are dropped (nothing is worth launching now).
                state.status = State.FAILED
                for i in failed:
                    state.failures.unsuccessful_results.add(
                        tryjob_id=state.executions[i].attempts[-1].tryjob_id
                    )
                return []
            return sorted(set(planned) | set(failed))
        if not planned and critical_all_succeeded:
            state.status = State.SUCCEEDED
        return planned

    def finish(self, planned: Iterable[int], discards: Sequence[Discard] = ()) -> Step:
        state = self.state
        if state.status in _TERMINAL and not state.HasField("end_time"):
            state.end_time.CopyFrom(self.time)
        planned = list(planned)
        requests: tuple[AttemptRequest, ...] = ()
        if planned:
            known_ids = frozenset(
                a.tryjob_id for e in state.executions for a in e.attempts if a.tryjob_id
            )
            known_eids = frozenset(
                a.external_id for e in state.executions for a in e.attempts if a.external_id
            )
            requests = tuple(
                AttemptRequest(
                    index=i,
                    definition=_copied(Definition, state.requirement.definitions[i]),
                    reuse_allowed=not state.requirement.definitions[i].disable_reuse,
                    reuse_key=self.run.reuse_key_for(state.requirement.definitions[i]),
                    cl_patchsets=self.run.cl_patchsets,
                    known_tryjob_ids=known_ids,
                    known_external_ids=known_eids,
                    attempt_number=len(state.executions[i].attempts) + 1,
                )
                for i in planned
            )
        return Step(state, tuple(self.entries), Plan(requests, tuple(discards)))


def _copied(cls, msg):
    copy = cls()
    copy.CopyFrom(msg)
    return copy


def _noop(state: State | None) -> Step:
    copy = State(status=State.RUNNING)
    if state is not None:
        copy.CopyFrom(state)
    return Step(copy, (), Plan(), noop=True)


# Entry points ----------------------------------------------------------------------------------


def on_requirement(
    state: State | None,
    run: RunView,
    requirement: Requirement,
    requirement_version: int,
    now: datetime,
) -> Step:
    """Applies `requirement` (version `requirement_version` >= 1) to the run's state."""
    if requirement_version < 1:
        raise ValueError(f"requirement_version must be at least 1, got {requirement_version}")
    if state is None:
        state = State(status=State.RUNNING)
    if state.status in _TERMINAL or requirement_version <= state.requirement_version:
        return _noop(state)
    new_keys = keyed_definitions(requirement, "requirement")
    p = _Pass(state, run, now)
    had_requirement = p.state.HasField("requirement")
    if had_requirement:
        p.log("requirement_changed", LogEntry.RequirementChanged())
    # Copies: the state's own messages are about to be replaced.
    old_definitions = [_copied(Definition, d) for d in p.state.requirement.definitions]
    old_executions = [_copied(Execution, e) for e in p.state.executions]
    old_keys = keyed_definitions(p.state.requirement if had_requirement else None, "state")

    discards = []
    for definition, execution in zip(old_definitions, old_executions, strict=True):
        if definition_key(definition) in new_keys or not execution.attempts:
            continue
        # Kept: the tryjob is not cancelled; another run may still reuse it.
        latest = execution.attempts[-1]
        p.log(
            "tryjob_discarded",
            LogEntry.TryjobDiscarded(
                snapshot=attempt_snapshot(latest, definition), reason=DISCARD_REASON
            ),
        )
        discards.append(
            Discard(
                definition=definition,
                tryjob_id=latest.tryjob_id,
                external_id=latest.external_id,
            )
        )

    executions = []
    for definition in requirement.definitions:
        old = old_keys.get(definition_key(definition))
        executions.append(old_executions[old] if old is not None else Execution())
    del p.state.executions[:]
    p.state.executions.extend(executions)
    p.state.requirement.SetInParent()
    p.state.requirement.CopyFrom(requirement)
    # QUIRK (fixed): upstream never writes requirement_version, so its guard against stale or
    # repeated requirement events never fires; writing it makes those a no-op.
    p.state.requirement_version = requirement_version
    # QUIRK (fixed): upstream does not decide here, so removing the last running critical
    # definition (or making a failed one critical) waits for an update that may never come.
    return p.finish(p.decide(), discards)


def on_tryjobs_updated(
    state: State | None, run: RunView, tryjobs: Iterable[TryjobView], now: datetime
) -> Step:
    """Takes in the latest views of updated tryjobs and decides what happens next."""
    tryjobs = list(tryjobs)
    for tryjob in tryjobs:
        _check_tryjob(tryjob)
    # Fixed: upstream would SUCCEED a state without requirement (nothing critical runs); here
    # there is nothing to judge until a requirement arrives.
    if state is None or state.status in _TERMINAL or not state.HasField("requirement"):
        # Kept: a terminal state no longer records tryjob updates; the run has already acted
        # on its verdict (submitted or failed) and the state must keep saying why.
        return _noop(state)
    by_id = {t.id: t for t in tryjobs}
    p = _Pass(state, run, now)
    ended = []
    for definition, execution in zip(
        p.state.requirement.definitions, p.state.executions, strict=True
    ):
        last = len(execution.attempts) - 1
        for j, attempt in enumerate(execution.attempts):
            tryjob = by_id.get(attempt.tryjob_id)
            if tryjob is None:
                continue
            changed = _copy_tryjob(attempt, tryjob)
            # Kept: an ENDED tryjob whose result is refreshed is logged again (the log then
            # shows every result the run saw).
            if changed and j == last and attempt.status in (tryjob_pb.ENDED, tryjob_pb.CANCELLED):
                ended.append(attempt_snapshot(attempt, definition))
    if ended:
        p.log("tryjobs_ended", LogEntry.TryjobsEnded(tryjobs=ended))
    return p.finish(p.decide())


def apply_outcomes(
    state: State, run: RunView, plan: Plan, outcomes: Sequence[Outcome], now: datetime
) -> Step:
    """Records the outcome of each `plan.attempts` item (same order) and decides again."""
    if len(outcomes) != len(plan.attempts):
        raise ValueError(
            f"{len(outcomes)} outcomes for {len(plan.attempts)} planned attempts; "
            "one outcome per item, in plan order"
        )
    if not plan.attempts:
        return _noop(state)
    if state.status != State.RUNNING:
        raise ValueError("a plan is only made for a RUNNING state")
    p = _Pass(state, run, now)
    definitions = p.state.requirement.definitions
    reused: list[LogEntry.TryjobSnapshot] = []
    launched: dict[int, list[LogEntry.TryjobSnapshot]] = {}
    launch_failed: list[LogEntry.TryjobLaunchFailed] = []
    for n, (request, outcome) in enumerate(zip(plan.attempts, outcomes, strict=True)):
        i = request.index
        if not 0 <= i < len(definitions) or definitions[i] != request.definition:
            raise ValueError(f"plan.attempts[{n}] does not match the state's executions[{i}]")
        if not isinstance(outcome, Reused | Launched | LaunchFailed):
            raise TypeError(f"outcomes[{n}]: {outcome!r} is not Reused, Launched or LaunchFailed")
        tryjob = outcome.tryjob
        _check_tryjob(tryjob)
        if isinstance(outcome, Reused):
            if tryjob.status == tryjob_pb.PENDING and tryjob.launched_by == run.id:
                raise ValueError(
                    f"outcomes[{n}]: tryjob {tryjob.id} is this run's own PENDING tryjob; "
                    "launch it and report Launched or LaunchFailed"
                )
        elif isinstance(outcome, Launched):
            if tryjob.status not in _WITH_RESULT:
                raise ValueError(
                    f"outcomes[{n}]: a launched tryjob is TRIGGERED or ENDED, "
                    f"not {_status_name(tryjob.status)}"
                )
        elif tryjob.status != tryjob_pb.UNTRIGGERED:
            raise ValueError(
                f"outcomes[{n}]: a failed launch leaves the tryjob UNTRIGGERED, "
                f"not {_status_name(tryjob.status)}"
            )

        attempt = p.state.executions[i].attempts.add(tryjob_id=tryjob.id)
        _copy_tryjob(attempt, tryjob)
        attempt.reused = _is_reused(tryjob, run)
        # A snapshot's `reused` is the attempt's, so the log and the state never disagree.
        if isinstance(outcome, Reused):
            reused.append(attempt_snapshot(attempt, request.definition))
        elif isinstance(outcome, Launched):
            launched.setdefault(outcome.round, []).append(
                attempt_snapshot(attempt, tryjob.definition or request.definition)
            )
        else:
            reason = tryjob.untriggered_reason
            launch_failed.append(
                LogEntry.TryjobLaunchFailed(definition=request.definition, reason=reason)
            )
            if request.definition.critical:
                p.state.failures.launch_failures.add(definition=request.definition, reason=reason)

    # Upstream leaves the order of reused snapshots open: plan (execution) order here.
    if reused:
        p.log("tryjobs_reused", LogEntry.TryjobsReused(tryjobs=reused))
    for round_ in sorted(launched):
        p.log("tryjobs_launched", LogEntry.TryjobsLaunched(tryjobs=launched[round_]))
    if launch_failed:
        p.log("tryjobs_launch_failed", LogEntry.TryjobsLaunchFailed(tryjobs=launch_failed))
    if p.state.failures.launch_failures:
        p.state.status = State.FAILED
        return p.finish(())
    # Fixed: upstream never judges an attempt that was already ENDED when recorded (no later
    # update changes it), so a launch that had already failed counted as ended-not-failed.
    return p.finish(p.decide())


def drive(
    step: Step,
    run: RunView,
    now: datetime,
    start: Callable[[Plan], Sequence[Outcome]],
    max_rounds: int = 100,
) -> Step:
    """Carries out `step.plan` with `start` until nothing is left; one Step for all passes."""
    entries = list(step.log_entries)
    discards = step.plan.discards
    noop = step.noop
    rounds = 0
    while step.plan.attempts:
        rounds += 1
        if rounds > max_rounds:
            raise RuntimeError(f"the plan still asks for attempts after {max_rounds} rounds")
        step = apply_outcomes(step.state, run, step.plan, start(step.plan), now)
        entries.extend(step.log_entries)
    return Step(step.state, tuple(entries), Plan(discards=discards), noop)
