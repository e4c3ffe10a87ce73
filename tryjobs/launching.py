"""Giving each attempt the executor asks for a tryjob: adopt, reuse, or launch (§3.6, §3.7).

`Starter(run, view, now, versions, run_cls)` is the `start(plan) -> outcomes` of
`executor.drive`. Each call works in three steps, and holds the run's lock only in the first.
Before them, when some attempt may be a reuse, the backend is asked (no lock, no transaction)
for tryjobs of the run's CLs that someone else started (§3.6 finder 2); the fresh ones are
stored for step 1.

1. Under the run's lock, checked unchanged since the pass decided (else `StateChanged`, and
   the pass decides again), each requested attempt gets a tryjob, in this order:
   - this run's own tryjob of that definition that no saved pass recorded (no attempt, no log
     entry names it): a launch of a pass that lost its race, or died, after launching. It is
     adopted as launched (a PENDING one is launched again: the backend keys builds by tryjob
     ID, so that starts no second build);
   - a reusable tryjob (cvsite's store, §3.6 finder 1): the run joins its `reused_by`;
   - a new PENDING row (so its ID exists before the launch, as the backend's request ID).
   That transaction commits before anything is launched: a pass that runs meanwhile adopts
   these rows instead of launching its own.
2. Without any lock or transaction, the PENDING tryjobs are launched, failures retried with
   `LAUNCH_BACKOFF` (100 ms doubling to 10 s apart, giving up after 2 minutes); a
   non-retriable failure stops the retries of its round at once.
3. Each round's launched tryjobs are saved at once in their own short transaction, and what
   still fails at the end becomes UNTRIGGERED with its reason. A launched build is thus on
   its row whatever happens to the pass afterwards, and the next pass adopts it (step 1).

Steps 2 and 3 together are the launch that `LAUNCH_DURATION` times, per project.

Runs that watch a tryjob changed here (other than this run) get an event; `woken` collects
them for the caller to wake.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from django.conf import settings
from django.db import transaction
from django.db.models import prefetch_related_objects
from prometheus_client import Histogram

from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from cvproto.times import to_datetime
from cvproto.validation import InvalidMessage
from runs import serializers as run_serializers
from runs.models import Run, RunCL
from runs.submission import submission_order
from tryjobs import executor, rollups, serializers
from tryjobs.backend import (
    BackendError,
    LaunchCL,
    LaunchError,
    LaunchRequest,
    LaunchResult,
    ReuseCandidate,
    Started,
    TryjobBackend,
    get_backend,
)
from tryjobs.changes import REUSED_BY, footer_values, save_changed_tryjobs, views_with_watchers
from tryjobs.definitions import DefinitionKey, definition_key
from tryjobs.models import (
    ExecutionAttempt,
    ExecutionLogEntry,
    LogKind,
    Tryjob,
    TryjobCLPatchset,
    TryjobStatus,
)
from tryjobs.reuse import (
    REUSE_FRESHNESS,
    can_reuse,
    choose_reusable,
    footers_changed,
    mode_allowed,
)
from tryjobs.run_lock import Versions, relock_unchanged
from tryjobs.views import AttemptRequest, RunView, TryjobView

__all__ = ["LAUNCH_BACKOFF", "LAUNCH_DURATION", "Backoff", "Starter"]

logger = logging.getLogger(__name__)

Result = tryjob_pb.Result

# Its values tag the builds (cq_cl_tag), as upstream's run options collect them.
CL_TAG_FOOTER = "cq-cl-tag"

# The columns a launch (or its failure) changes.
_LAUNCH_COLUMNS = ("status", "external_id", *serializers.NO_RESULT_COLUMNS, "untriggered_reason")

# Statuses of an own tryjob that a pass may have launched without recording it: adopted.
_ADOPTABLE = [TryjobStatus.PENDING, TryjobStatus.TRIGGERED, TryjobStatus.ENDED]


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

LAUNCH_DURATION = Histogram(
    "cvsite_tryjob_launch_duration_seconds",
    "A pass's launch of its new tryjobs: from the backend's requests built to every launched "
    "(or finally failed) tryjob saved, all rounds and backoff included. The pass's decision, "
    "its reuse search and its PENDING rows come before it",
    ["project"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 180),
)


class Starter:
    """`start(plan) -> outcomes` for executor.drive (see the module docstring)."""

    def __init__(
        self,
        run: Run,
        view: RunView,
        now: datetime,
        versions: Versions,
        run_cls: Sequence[RunCL],
    ):
        """`run_cls`: the run's CLs in order, with their `cl`, as the pass read them."""
        self.run = run
        self.view = view
        self.now = now
        self.versions = versions
        self.run_cls = run_cls
        self.backend: TryjobBackend = get_backend()
        self.woken: set[str] = set()

    def __call__(self, plan: executor.Plan) -> list[executor.Outcome]:
        requests = plan.attempts
        if any(r.reuse_allowed for r in requests):
            self._store_found_elsewhere(requests)
        outcomes: list[executor.Outcome | None] = [None] * len(requests)
        with transaction.atomic():
            relock_unchanged(self.run.id, self.versions)
            to_launch, taken = self._adopt(requests, outcomes)
            unmet = [n for n in range(len(requests)) if outcomes[n] is None and n not in to_launch]
            if any(requests[n].reuse_allowed for n in unmet):
                self._reuse(requests, unmet, outcomes, taken)
            new = [n for n in unmet if outcomes[n] is None]
            for n, row in zip(new, self._create_pending([requests[n] for n in new]), strict=True):
                to_launch[n] = row
        if to_launch:
            self._launch(requests, to_launch, outcomes)
        return outcomes

    def _save(self, rows: Sequence[Tryjob], **kwargs) -> None:
        kwargs.setdefault("except_run", self.run.id)
        self.woken.update(save_changed_tryjobs(rows, self.now, **kwargs))

    # Adoption --------------------------------------------------------------------------------

    def _adopt(self, requests, outcomes) -> tuple[dict[int, Tryjob], set[int]]:
        """This run's own tryjobs that no saved pass recorded, each for the request of its
        definition: launched ones as they are, PENDING ones to launch again."""
        recorded = ExecutionAttempt.objects.filter(execution__state_id=self.run.id).values(
            "tryjob_id"
        )
        orphans = list(
            Tryjob.objects.launched_by_run(self.run.id)
            .filter(status__in=_ADOPTABLE)
            .exclude(id__in=recorded)
            .order_by("-id")
        )
        relaunch: dict[int, Tryjob] = {}
        taken: set[int] = set()
        if not orphans:
            return relaunch, taken
        # Attempts of a definition since removed are no longer in the state, but their saved
        # log entries name them: those are not launches to adopt if the definition comes back.
        logged = {
            snapshot.id
            for row in ExecutionLogEntry.objects.filter(
                run_id=self.run.id, kind__in=[LogKind.TRYJOBS_LAUNCHED, LogKind.TRYJOBS_REUSED]
            )
            for snapshot in _snapshots(serializers.log_entry_from_row(row))
        }
        adopted: dict[int, Tryjob] = {}
        for n, request in enumerate(requests):
            key = definition_key(request.definition)
            for row in orphans:
                if (
                    row.id in taken
                    or row.id in logged
                    or row.id in request.known_tryjob_ids
                    or definition_key(serializers.definition_from_row(row)) != key
                ):
                    continue
                taken.add(row.id)
                if row.status == TryjobStatus.PENDING:
                    relaunch[n] = row
                else:
                    adopted[n] = row
                break
        views = views_with_watchers(list(adopted.values()))
        for n, view in zip(adopted, views, strict=True):
            outcomes[n] = executor.Launched(view)
        return relaunch, taken

    # Reuse (§3.6 finder 1) -------------------------------------------------------------------

    def _reuse(self, requests, unmet: list[int], outcomes, taken: set[int]) -> None:
        # Never reusable, whatever choose_reusable would say: the run's own attempts and
        # tryjobs that never ran or were cancelled. Left out here, they cost no conversion.
        known = set().union(*(r.known_tryjob_ids for r in requests)) | taken
        # A request looks only at tryjobs stored under its own reuse key (definitions with
        # disable_reuse_footers have their own), so each key is searched for its requests.
        chosen: list[TryjobView | None] = [None] * len(requests)
        for key in sorted({requests[n].reuse_key for n in unmet}):
            rows = (
                Tryjob.objects.with_reuse_key(key)
                .exclude(status__in=[TryjobStatus.CANCELLED, TryjobStatus.UNTRIGGERED])
                .exclude(id__in=sorted(known))
            )
            # Requests already met (adopted tryjobs) or of another key take no candidate.
            open_requests = [
                r
                if n in unmet and r.reuse_key == key
                else dataclasses.replace(r, reuse_allowed=False)
                for n, r in enumerate(requests)
            ]
            found = choose_reusable(
                views_with_watchers(list(rows)), open_requests, self.view, self.now
            )
            for n, tryjob in enumerate(found):
                if tryjob is not None:
                    chosen[n] = tryjob
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
        fresh = {v.id: v for v in views_with_watchers(list(locked.values()))}
        joined = []
        for n, candidate in picked.items():
            view = fresh.get(candidate.id)
            if view is None or view.id in taken:
                continue
            if view.launched_by == self.run.id and view.status == TryjobStatus.PENDING:
                continue  # this run's own launch in progress, not a tryjob to reuse
            if not can_reuse(view, requests[n].definition, self.view.mode, self.now).reusable:
                continue  # changed since the search: launch a new one instead
            taken.add(view.id)
            if view.launched_by != self.run.id and self.run.id not in view.reused_by:
                REUSED_BY.objects.create(tryjob_id=view.id, run_id=self.run.id)
                joined.append(locked[view.id])
                view = dataclasses.replace(view, reused_by=(*view.reused_by, self.run.id))
            outcomes[n] = executor.Reused(view)
        # Another reuser is no news to the runs that watch the tryjob.
        self._save(joined, notify=False)

    # Reuse of tryjobs cvsite did not launch (§3.6 finder 2) -----------------------------------

    def _store_found_elsewhere(self, requests: Sequence[AttemptRequest]) -> None:
        """Asks the backend, outside any lock or transaction, for tryjobs of the run's CLs
        that someone else started (e.g. `git cl try`), and stores the newest fresh one of
        each definition under its request's reuse key: the store's finder (`_reuse`) then
        judges them like any other tryjob (this run joins their `reused_by` at once, as
        upstream: without a run they belong to no project). A tryjob of an earlier patchset
        whose disable_reuse_footers read otherwise than now is passed over. A failed search
        only means nothing is found."""
        wanted = [r.definition for r in requests if r.reuse_allowed]
        reuse_keys = {definition_key(r.definition): r.reuse_key for r in requests}
        known = set().union(*(r.known_external_ids for r in requests))
        found: dict[str, ReuseCandidate] = {}
        try:
            for candidate in self.backend.find_reusable(
                self._launch_cls, wanted, project=self.run.project
            ):
                result = candidate.result
                if not result.HasField("create_time") or (
                    self.now - to_datetime(result.create_time) >= REUSE_FRESHNESS
                ):
                    break  # newest first: the rest are older still
                key = definition_key(candidate.definition)
                if key in found or candidate.external_id in known:
                    continue
                if footers_changed(
                    candidate.definition.disable_reuse_footers,
                    candidate.tested,
                    self._cl_messages,
                ):
                    continue
                if candidate.status == TryjobStatus.ENDED and not (
                    result.status == Result.SUCCEEDED
                    and mode_allowed(
                        result.output if result.HasField("output") else None, self.run.mode
                    )
                ):
                    continue
                found[key] = candidate
                if len(found) == len(wanted):
                    break
        except BackendError as e:
            logger.warning("searching reusable tryjobs for %s failed: %s", self.run.id, e)
        if found:
            self._store_candidates(list(found.values()), reuse_keys)

    def _store_candidates(
        self, candidates: list[ReuseCandidate], reuse_keys: dict[DefinitionKey, str]
    ) -> None:
        with transaction.atomic():
            stored = set(
                Tryjob.objects.with_external_ids(c.external_id for c in candidates).values_list(
                    "external_id", flat=True
                )
            )
            rows = []
            for candidate in candidates:
                if candidate.external_id in stored:
                    continue
                try:
                    columns = serializers.tryjob_columns(
                        definition=candidate.definition,
                        status=candidate.status,
                        external_id=candidate.external_id,
                        result=candidate.result,
                    )
                except InvalidMessage as e:
                    logger.warning("backend's %s not stored: %s", candidate.external_id, e)
                    continue
                rows.append(
                    Tryjob(
                        **columns,
                        reuse_key=reuse_keys[definition_key(candidate.definition)],
                        create_time=self.now,
                        update_time=self.now,
                        eversion=1,
                    )
                )
            Tryjob.objects.bulk_create(rows)
            rollups.tryjobs_created(rows)
            TryjobCLPatchset.objects.bulk_create(
                [
                    TryjobCLPatchset(tryjob=row, cl_id=cl.clid, patchset=cl.patchset)
                    for row in rows
                    for cl in self.view.cls
                ]
            )
            # As upstream: the run that found them reuses them (which gives them its project).
            REUSED_BY.objects.bulk_create(
                [REUSED_BY(tryjob_id=row.id, run_id=self.run.id) for row in rows]
            )

    # Launch (§3.7) ---------------------------------------------------------------------------

    def _create_pending(self, requests: Sequence[AttemptRequest]) -> list[Tryjob]:
        if not requests:
            return []
        rows = [
            Tryjob(
                **serializers.tryjob_columns(
                    definition=r.definition, status=TryjobStatus.PENDING, field="definition"
                ),
                reuse_key=r.reuse_key,
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
        prefetch_related_objects(self.run_cls, "deps")  # what submission_order reads
        return tuple(
            LaunchCL(
                rc.cl.host,
                rc.cl.change,
                rc.patchset,
                rc.current_revision,
                rc.gerrit_project,
                min_equivalent_patchset=rc.min_equivalent_patchset,
                owner_email=rc.owner_email,
                trigger_email=rc.trigger_email,
            )
            for rc in submission_order(self.run_cls)
        )

    @cached_property
    def _cl_messages(self) -> dict[tuple[str, int], tuple[int, dict[int, str]]]:
        """Per (host, change): the run's patchset and the commit messages Gerrit gave."""
        messages = {}
        for rc in self.run_cls:
            info = run_serializers.change_info_from_row(rc)
            by_patchset = {r.number: r.commit.message for r in info.revisions.values()}
            messages[(rc.cl.host, rc.cl.change)] = (rc.patchset, by_patchset)
        return messages

    @cached_property
    def _cl_tags(self) -> tuple[str, ...]:
        """Values of the CLs' `Cq-Cl-Tag` footers, each once, in CL order."""
        return tuple(
            dict.fromkeys(v for rc in self.run_cls for v in footer_values(rc, CL_TAG_FOOTER))
        )

    def _launch(self, requests, rows: dict[int, Tryjob], outcomes) -> None:
        with LAUNCH_DURATION.labels(self.run.project).time():
            self._launch_rounds(requests, rows, outcomes)

    def _launch_rounds(self, requests, rows: dict[int, Tryjob], outcomes) -> None:
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
                owner_is_googler=_is_googler(self.run.owner),
                cl_tags=self._cl_tags,
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
            started = {
                n: r for n, r in zip(pending, results, strict=True) if isinstance(r, Started)
            }
            recorded = self._record_started(rows, started, round_) if started else {}
            failed = []
            for n, result in zip(pending, results, strict=True):
                result = recorded.get(n, result)
                if isinstance(result, LaunchError):
                    errors[n] = result
                    failed.append(n)
                else:
                    outcomes[n] = result
                    errors.pop(n, None)
            if not failed or any(not _retriable(errors[n]) for n in failed):
                break
            elapsed = max(slept, time.monotonic() - started_at)
            if elapsed + delay > backoff.deadline:
                break
            backoff.sleep(delay)
            slept += delay
            delay = min(delay * backoff.multiplier, backoff.max_delay)
            pending = failed
        if errors:
            for n, outcome in self._record_failed(rows, errors, round_).items():
                outcomes[n] = outcome

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

    def _locked(self, rows: dict[int, Tryjob], ns) -> dict[int, Tryjob]:
        by_id = {
            row.id: row
            for row in Tryjob.objects.select_for_update(no_key=True)
            .filter(id__in=sorted(rows[n].id for n in ns))
            .order_by("id")
        }
        return {n: by_id[rows[n].id] for n in ns}

    def _record_started(self, rows, started: dict[int, Started], round_: int) -> dict:
        """Saves one round's launched tryjobs together; per request, its outcome (or a
        LaunchError when the backend's answer cannot be stored)."""
        recorded = {}
        backing: dict[int, Tryjob] = {}
        with transaction.atomic():
            locked = self._locked(rows, started)
            stored_statuses = {row.status for row in locked.values()}
            # Who holds each external ID already (another tryjob, or this round's own). Its
            # own statement, after the rows' locks were granted: on PostgreSQL it then sees
            # what a pass that held them committed meanwhile.
            holders: dict[str, list[Tryjob]] = {}
            for known in (
                Tryjob.objects.select_for_update(no_key=True)
                .with_external_ids(s.external_id for s in started.values())
                .order_by("id")
            ):
                holders.setdefault(known.external_id, []).append(known)
            saved, saved_untriggered = [], []
            for n, row in locked.items():
                try:
                    columns = self._started_columns(started[n])
                except InvalidMessage as e:
                    logger.error("backend answered tryjob %s with %s", row.id, e)
                    recorded[n] = LaunchError(None, str(e))
                    continue
                others = [t for t in holders.get(columns["external_id"], []) if t.id != row.id]
                if others:
                    self._reconcile(row, others[0], columns)
                    backing[n] = others[0]
                    continue
                backing[n] = row
                if row.external_id is not None:
                    # Another pass launched this same tryjob (same request ID, same build)
                    # and saved it first: its row stands.
                    continue
                # PENDING; or UNTRIGGERED by a pass whose launch of the same tryjob failed
                # meanwhile, while this one started the build: the build wins, and this
                # run's recorded attempt must hear of it too.
                was_untriggered = row.status == TryjobStatus.UNTRIGGERED
                for name in ("status", "external_id", *serializers.NO_RESULT_COLUMNS):
                    setattr(row, name, columns[name])
                row.untriggered_reason = ""
                holders.setdefault(row.external_id, []).append(row)
                (saved_untriggered if was_untriggered else saved).append(row)
            self._save(saved, fields=_LAUNCH_COLUMNS, stored_statuses=stored_statuses)
            self._save(
                saved_untriggered,
                except_run=None,
                fields=_LAUNCH_COLUMNS,
                stored_statuses=stored_statuses,
            )
            views = views_with_watchers(list(backing.values()))
        for n, view in zip(backing, views, strict=True):
            recorded[n] = executor.Launched(view, round_)
        return recorded

    @staticmethod
    def _started_columns(started: Started) -> dict:
        columns = serializers.status_columns(started.status, started.external_id, started.result)
        if started.status not in (TryjobStatus.TRIGGERED, TryjobStatus.ENDED):
            raise InvalidMessage("status", "a launched tryjob is TRIGGERED or ENDED")
        return columns

    def _reconcile(self, row: Tryjob, existing: Tryjob, columns: dict) -> None:
        """The backend's tryjob is already known under another ID: that one wins (§3.7.6).

        QUIRK (fixed): upstream's reason names the dropped tryjob itself and ends with a
        space; here it names the tryjob the external ID maps to, which is what to look at.
        """
        changed = [existing]
        if row.status == TryjobStatus.PENDING:  # not already dropped by a concurrent pass
            _untrigger(
                row,
                f"launched {columns['external_id']}, but it already maps to tryjob {existing.id}",
            )
            changed.append(row)
        for name in ("status", *serializers.NO_RESULT_COLUMNS):
            setattr(existing, name, columns[name])
        if existing.launched_by_id != self.run.id:
            REUSED_BY.objects.get_or_create(tryjob_id=existing.id, run_id=self.run.id)
        self._save(changed)

    def _record_failed(self, rows, errors: dict[int, LaunchError], round_: int) -> dict:
        """UNTRIGGERED with its reason, each tryjob whose launch failed for good."""
        with transaction.atomic():
            locked = self._locked(rows, errors)
            failed = []
            for n, row in locked.items():
                # Not PENDING: a concurrent pass launched it meanwhile, and its record stands.
                if row.status == TryjobStatus.PENDING:
                    error = errors[n]
                    _untrigger(
                        row,
                        error.reason
                        or executor.launch_failure_reason(
                            error.code, error.message, self.backend.kind
                        ),
                    )
                    failed.append(row)
            self._save(failed, fields=_LAUNCH_COLUMNS)
            views = views_with_watchers(list(locked.values()))
        return {n: _launch_outcome(view, round_) for n, view in zip(locked, views, strict=True)}


def _is_googler(email: str) -> bool:
    return email.rpartition("@")[2].lower() in {d.lower() for d in settings.TRYJOB_GOOGLER_DOMAINS}


def _untrigger(row: Tryjob, reason: str) -> None:
    row.status = TryjobStatus.UNTRIGGERED
    row.external_id = None
    for name, value in serializers.NO_RESULT_COLUMNS.items():
        setattr(row, name, value)
    row.untriggered_reason = reason


def _snapshots(entry) -> list:
    return list(getattr(entry, entry.WhichOneof("kind")).tryjobs)


def _launch_outcome(view: TryjobView, round_: int) -> executor.Outcome:
    if view.status == TryjobStatus.UNTRIGGERED:
        return executor.LaunchFailed(view)
    return executor.Launched(view, round_)


def _retriable(error: LaunchError) -> bool:
    return (
        not error.reason
        and error.code is not None
        and executor.is_retriable_launch_code(error.code)
    )
