"""import_attempts: CQDaemon attempts (bigquery.Attempt, one JSON object per line) -> runs.

For each attempt (see issue 5 and migration_behaviour.md §3.1):
  * its run: project, attempt key, run ID `<project>/<inverted create time>-1-<key>` whose
    create time is the latest trigger time among its changes (its start time when none has
    one); mode from its changes; start and end time; status STARTED -> RUNNING, SUCCESS ->
    SUCCEEDED, FAILURE and INFRA_FAILURE -> FAILED, ABORTED -> CANCELLED (ended runs are
    marked finalized by CQDaemon);
  * its CLs (host + change, with patchset, earliest equivalent patchset and Gerrit project;
    no Gerrit snapshot yet: `refresh_cls` fetches those) and the run's CLs with their trigger
    time and mode; a CL CQDaemon reported submitted gets the attempt's end as submit time;
  * its builds as tryjobs of the run: external ID from host and build ID, critical,
    TRIGGERED until `import_builds` says more, launched by the run, or reused by it when the
    build's origin is REUSED. An attempt does not name builders, so until a build import
    fills it in the definition reads `<project>/unknown/unknown`;
  * the attempt itself, verbatim (runs.models.ImportedAttempt, one per attempt key).

Records are matched to what exists by attempt key, as the Migration API finds runs. A record
of an attempt already imported replaces it only if it is newer: an ended record beats a
STARTED one, a later end (or start) beats an earlier one, more builds beat fewer; anything
else is "unchanged", so importing a file twice changes nothing the second time. A run the
import did not create is never moved back: its status only goes from active to ended.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from django.db.models.functions import Length
from django.utils import timezone

from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from cvproto.gerrit import gerrit_pb2
from cvproto.times import to_datetime
from cvproto.validation import InvalidMessage
from importers.backfill import writer
from importers.backfill.core import Handler, Outcome, Record, Reject
from importers.backfill.jsonpb import JSONRecordError, parse_message
from importers.backfill.lookups import chunks, cls_by_key
from runs.actions import FINAL_STATUS_BY_ATTEMPT
from runs.ids import IDError, RunID, gerrit_cl_external_id, validate_project
from runs.models import (
    CL,
    RUN_ENDED_MASK,
    ImportedAttempt,
    Project,
    Run,
    RunCL,
    RunEvent,
    RunEventKind,
    RunStatus,
)
from runs.serializers import (
    MODE_BY_NAME,
    RunCLView,
    attempt_columns,
    change_snapshot_columns,
    check_columns_fit,
    served_run_cl,
)
from tryjobs.external_id import ExternalIDError, buildbucket_external_id, reuse_key
from tryjobs.models import Tryjob, TryjobCLPatchset, TryjobStatus
from tryjobs.serializers import Definition, tryjob_columns

__all__ = ["AttemptHandler", "ParsedAttempt", "UNKNOWN_BUILDER", "parse_attempt"]

UNKNOWN_BUILDER = "unknown"
ACTOR = "backfill:import_attempts"
_MODE_NAMES = {number: name for name, number in MODE_BY_NAME.items()}
_NO_INFO = gerrit_pb2.ChangeInfo()


@dataclass(slots=True)
class ChangeRef:
    host: str
    change: int
    gerrit_project: str
    patchset: int
    min_equivalent_patchset: int
    trigger_time: datetime
    submitted: bool


@dataclass(slots=True)
class BuildRef:
    external_id: str
    critical: bool
    reused: bool


@dataclass(slots=True)
class ParsedAttempt:
    """An attempt record, validated and turned into what the rows need."""

    key: str
    project: str
    run_id: str
    status: int
    mode: str
    create_time: datetime
    start_time: datetime | None
    end_time: datetime | None
    rank: tuple
    columns: dict  # runs.serializers.attempt_columns
    changes: list[ChangeRef]
    builds: list[BuildRef]

    @property
    def ended(self) -> bool:
        return bool(self.status & RUN_ENDED_MASK)


def parse_attempt(raw: bytes) -> ParsedAttempt:
    """One input line -> ParsedAttempt; raises Reject naming the field and the problem."""
    try:
        data = json.loads(raw)
    except ValueError as e:  # UnicodeDecodeError is a ValueError too
        raise Reject(f"not JSON: {e}") from None
    if not isinstance(data, dict):
        raise Reject(f"not a JSON object but {type(data).__name__}")
    try:
        attempt = parse_message(data, bq_pb.Attempt())
    except JSONRecordError as e:
        raise Reject(str(e)) from None
    return attempt_record(attempt)


def attempt_record(attempt: bq_pb.Attempt) -> ParsedAttempt:
    """A bigquery.Attempt -> ParsedAttempt; raises Reject."""
    if not attempt.key:
        raise Reject("key: the attempt key is missing")
    try:
        validate_project(attempt.luci_project)
    except IDError as e:
        raise Reject(f"luci_project: {e}") from None
    if attempt.status == bq_pb.STARTED:
        status = RunStatus.RUNNING
    elif attempt.status in FINAL_STATUS_BY_ATTEMPT:
        status = FINAL_STATUS_BY_ATTEMPT[attempt.status]
    else:
        raise Reject(
            "status: ATTEMPT_STATUS_UNSPECIFIED says nothing about the attempt; expected "
            "STARTED, SUCCESS, FAILURE, INFRA_FAILURE or ABORTED"
        )
    start_time = to_datetime(attempt.start_time) if attempt.HasField("start_time") else None
    end_time = None
    if status & RUN_ENDED_MASK:
        if not attempt.HasField("end_time"):
            name = bq_pb.AttemptStatus.Name(attempt.status)
            raise Reject(f"end_time: a {name} attempt has ended, so it needs an end time")
        end_time = to_datetime(attempt.end_time)
    if not attempt.gerrit_changes:
        raise Reject("gerrit_changes: an attempt needs at least one change")
    changes, mode, create_time = _changes(attempt, start_time, end_time)
    try:
        run_id = str(RunID.new(attempt.luci_project, create_time, attempt.key))
    except IDError as e:
        where = "gerrit_changes[].trigger_time" if create_time != start_time else "start_time"
        what = "key" if "attempt key" in str(e) else where
        raise Reject(f"{what}: {e}") from None
    try:
        columns = attempt_columns(attempt)  # also checks the project fits (as long as Run's)
    except InvalidMessage as e:
        raise Reject(str(e)) from None
    builds = _builds(attempt)
    ended = bool(status & RUN_ENDED_MASK)
    rank = (ended, end_time if ended else (start_time or create_time), len(builds))
    return ParsedAttempt(
        key=attempt.key,
        project=attempt.luci_project,
        run_id=run_id,
        status=status,
        mode=mode,
        create_time=create_time,
        start_time=start_time,
        end_time=end_time,
        rank=rank,
        columns=columns,
        changes=changes,
        builds=builds,
    )


def _changes(attempt: bq_pb.Attempt, start_time, end_time) -> tuple[list[ChangeRef], str, datetime]:
    changes = []
    seen = set()
    mode = None
    latest_trigger = None
    for i, gc in enumerate(attempt.gerrit_changes):
        where = f"gerrit_changes[{i}]"
        try:
            gerrit_cl_external_id(gc.host, gc.change)
        except IDError as e:
            raise Reject(f"{where}: {e}") from None
        if (gc.host, gc.change) in seen:
            raise Reject(f"{where}: {gc.host}/{gc.change} is listed twice")
        seen.add((gc.host, gc.change))
        if gc.mode not in _MODE_NAMES:
            raise Reject(
                f"{where}.mode: {bq_pb.Mode.Name(gc.mode)} is not a run mode; expected "
                "DRY_RUN, FULL_RUN or QUICK_DRY_RUN"
            )
        if mode is None:
            mode = gc.mode
        elif gc.mode != mode:
            raise Reject(
                f"{where}.mode: {bq_pb.Mode.Name(gc.mode)} differs from the first change's "
                f"{bq_pb.Mode.Name(mode)}; a run has one mode"
            )
        patchset = gc.patchset
        # 0: CQDaemon did not know; only the patchset itself is surely equivalent to itself.
        min_equivalent = gc.earliest_equivalent_patchset or patchset
        try:
            check_columns_fit(
                CL, {"host": gc.host, "gerrit_project": gc.project, "patchset": patchset}, where
            )
            change_snapshot_columns(
                _NO_INFO,
                patchset=patchset,
                min_equivalent_patchset=min_equivalent,
                files=(),
                patchset_field=f"{where}.patchset",
                min_equivalent_field=f"{where}.earliest_equivalent_patchset",
            )
        except InvalidMessage as e:
            raise Reject(str(e)) from None
        trigger_time = to_datetime(gc.trigger_time) if gc.HasField("trigger_time") else None
        if trigger_time is not None and (latest_trigger is None or trigger_time > latest_trigger):
            latest_trigger = trigger_time
        changes.append(
            ChangeRef(
                host=gc.host,
                change=gc.change,
                gerrit_project=gc.project,
                patchset=patchset,
                min_equivalent_patchset=min_equivalent,
                trigger_time=trigger_time,
                submitted=gc.submit_status == bq_pb.GerritChange.SUCCESS and end_time is not None,
            )
        )
    create_time = latest_trigger or start_time
    if create_time is None:
        raise Reject(
            "gerrit_changes[].trigger_time: no change has a trigger time and the attempt has "
            "no start_time, so nothing dates its run"
        )
    for change in changes:
        if change.trigger_time is None:
            change.trigger_time = start_time or create_time
    return changes, _MODE_NAMES[mode], create_time


def _builds(attempt: bq_pb.Attempt) -> list[BuildRef]:
    builds = []
    seen = set()
    for i, build in enumerate(attempt.builds):
        if build.id <= 0:
            raise Reject(f"builds[{i}].id: a build ID is a positive number, got {build.id}")
        try:
            external_id = buildbucket_external_id(build.host, build.id)
        except ExternalIDError as e:
            raise Reject(f"builds[{i}].host: {e}") from None
        if len(external_id) > Tryjob._meta.get_field("external_id").max_length:
            raise Reject(f"builds[{i}].host: too long for a tryjob external ID")
        if external_id in seen:
            continue  # listed twice: the same build
        seen.add(external_id)
        builds.append(
            BuildRef(
                external_id=external_id,
                critical=build.critical,
                reused=build.origin == bq_pb.Build.REUSED,
            )
        )
    return builds


@lru_cache(maxsize=1024)
def _tryjob_template(host: str, project: str, critical: bool) -> tuple[tuple[str, object], ...]:
    """Columns of a TRIGGERED tryjob known only from an attempt (memoized: pure and costly)."""
    definition = Definition(critical=critical)
    definition.buildbucket.host = host
    definition.buildbucket.builder.project = project
    definition.buildbucket.builder.bucket = UNKNOWN_BUILDER
    definition.buildbucket.builder.builder = UNKNOWN_BUILDER
    columns = tryjob_columns(
        definition=definition,
        status=tryjob_pb.TRIGGERED,
        external_id=f"buildbucket/{host}/1",
    )
    del columns["external_id"]
    return tuple(columns.items())


# Writing ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class _RunState:
    """What the batch knows of a run: from the database, then as the batch changes it."""

    run_id: str
    project: str
    status: int
    end_time: datetime | None
    eversion: int
    cls: list[tuple[str, int]]  # (host, change) in run order
    rank: tuple | None  # of the imported attempt; None when none was imported
    attempt_id: int | None  # the ImportedAttempt row, when it exists in the database
    create_time: datetime | None = None
    new: bool = False  # created by this batch
    run_cls: dict[tuple[str, int], tuple[int, datetime | None]] = field(default_factory=dict)


@dataclass
class _Plan:
    """Everything a batch writes, gathered first so that each table gets one bulk write."""

    now: datetime
    runs: dict[str, dict] = field(default_factory=dict)  # new runs by ID
    run_updates: dict[str, dict] = field(default_factory=dict)
    run_cls: list[tuple[str, int, ChangeRef, str]] = field(default_factory=list)
    submitted: dict[tuple[str, str, int], datetime] = field(default_factory=dict)
    submit_updates: dict[int, datetime] = field(default_factory=dict)  # by RunCL ID
    events: list[dict] = field(default_factory=list)
    attempts: dict[str, dict] = field(default_factory=dict)  # new ImportedAttempt by key
    attempt_updates: dict[int, dict] = field(default_factory=dict)  # by ImportedAttempt ID
    cls: dict[tuple[str, int], tuple[ChangeRef, str]] = field(default_factory=dict)
    links: list[tuple[BuildRef, str, ParsedAttempt]] = field(default_factory=list)


class AttemptHandler(Handler):
    command = "import_attempts"
    unit = "attempts"
    default_batch_size = 1000

    def __init__(self, source_label: str = ""):
        self.source_label = source_label
        self.created = {"runs": 0, "CLs": 0, "tryjobs": 0}

    def parse(self, record: Record) -> ParsedAttempt:
        return parse_attempt(record.raw)

    def projects(self, item: ParsedAttempt) -> tuple[str]:
        return (item.project,)

    def counters(self) -> dict[str, int]:
        return {f"{name} created": count for name, count in self.created.items()}

    def write(self, records: list[Record]) -> list:
        plan = _Plan(now=timezone.now())
        states = self._load_states([r.item for r in records])
        results = [self._plan(record, states, plan) for record in records]
        cl_ids = self._write_cls(plan)
        self._write_runs(plan, cl_ids)
        self._write_attempts(plan)
        self._write_tryjobs(plan, cl_ids)
        self.note_touched(
            [row.get("end_time") for row in plan.runs.values()]
            + [row.get("end_time") for row in plan.run_updates.values()]
            + [states[run_id].end_time for run_id in plan.run_updates if run_id in states]
            + ([plan.now] if plan.links else [])
        )
        return results

    # --- reading what exists -------------------------------------------------------------------

    def _load_states(self, items: list[ParsedAttempt]) -> dict[str, _RunState]:
        keys = sorted({item.key for item in items})
        states: dict[str, _RunState] = {}
        for chunk in chunks(keys):
            rows = (
                Run.objects.filter(cqd_attempt_key__in=chunk)
                .order_by("id")
                .values_list(
                    "id",
                    "cqd_attempt_key",
                    "project",
                    "status",
                    "end_time",
                    "eversion",
                    "create_time",
                )
            )
            for run_id, key, project, status, end_time, eversion, created in rows:
                if key not in states:  # the first by ID: the newest, as find_run picks
                    states[key] = _RunState(
                        run_id, project, status, end_time, eversion, [], None, None, created
                    )
        if not states:
            return states
        by_run = {state.run_id: state for state in states.values()}
        for chunk in chunks(sorted(by_run)):
            for run_cl_id, run_id, host, change, submit_time in (
                RunCL.objects.filter(run_id__in=chunk)
                .order_by("run_id", "position")
                .values_list("id", "run_id", "cl__host", "cl__change", "submit_time")
            ):
                state = by_run[run_id]
                state.cls.append((host, change))
                state.run_cls[(host, change)] = (run_cl_id, submit_time)
            for attempt_id, run_id, status, start, end, attempt in ImportedAttempt.objects.filter(
                run_id__in=chunk
            ).values_list(
                "id",
                "run_id",
                "attempt_status",
                "attempt_start_time",
                "attempt_end_time",
                "attempt",
            ):
                state = by_run[run_id]
                ended = status != bq_pb.STARTED
                builds = len(bq_pb.Attempt.FromString(bytes(attempt)).builds)
                # As ParsedAttempt.rank: an attempt with no start time is dated by its run.
                state.rank = (ended, end if ended else (start or state.create_time), builds)
                state.attempt_id = attempt_id
        return states

    # --- deciding, record by record, in input order ---------------------------------------------

    def _plan(self, record: Record, states: dict[str, _RunState], plan: _Plan):
        item: ParsedAttempt = record.item
        source = f"{self.source_label}:{record.position}"
        state = states.get(item.key)
        if state is None:
            states[item.key] = self._plan_new_run(item, source, plan)
            return Outcome.CREATED
        if state.project != item.project:
            return Reject(
                f"key: attempt {item.key} is run {state.run_id} of project {state.project}, "
                f"not of {item.project}"
            )
        cls = [(c.host, c.change) for c in item.changes]
        if state.cls and sorted(cls) != sorted(state.cls):
            return Reject(
                f"gerrit_changes: {_names(cls)} are not the CLs of run {state.run_id} "
                f"({_names(state.cls)}) that attempt {item.key} was imported as"
            )
        if state.rank is not None and item.rank <= state.rank:
            return Outcome.UNCHANGED
        self._plan_update(item, state, source, plan)
        return Outcome.UPDATED

    def _plan_new_run(self, item: ParsedAttempt, source: str, plan: _Plan) -> _RunState:
        ended = item.ended
        plan.runs[item.run_id] = {
            "id": item.run_id,
            "project": item.project,
            "status": item.status,
            "mode": item.mode,
            "cqd_attempt_key": item.key,
            "config_group": item.columns["attempt_config_group"],
            "create_time": item.create_time,
            "start_time": item.start_time,
            "end_time": item.end_time,
            "update_time": plan.now,
            "finalized_by_cqd": ended,
            "end_reason": _end_reason(item) if ended else "",
            "eversion": 1,
        }
        for position, change in enumerate(item.changes):
            plan.run_cls.append((item.run_id, position, change, item.mode))
            if change.submitted:
                plan.submitted[(item.run_id, change.host, change.change)] = item.end_time
        self._note_cls(item, plan)
        plan.events.append(
            _event(
                item.run_id,
                plan.now,
                RunEventKind.CREATED,
                None,
                item.status,
                f"imported from {source}: attempt {item.key} "
                f"{bq_pb.AttemptStatus.Name(item.columns['attempt_status'])}",
            )
        )
        plan.attempts[item.key] = {
            **item.columns,
            "run_id": item.run_id,
            "source": source[-1024:],
            "imported_at": plan.now,
        }
        plan.links.extend((build, item.run_id, item) for build in item.builds)
        self.created["runs"] += 1
        return _RunState(
            item.run_id,
            item.project,
            item.status,
            item.end_time,
            1,
            [(c.host, c.change) for c in item.changes],
            item.rank,
            None,
            item.create_time,
            new=True,
        )

    def _plan_update(self, item: ParsedAttempt, state: _RunState, source: str, plan: _Plan):
        run_ended = bool(state.status & RUN_ENDED_MASK)
        # The import owns a run it imported; any other run only moves from active to ended.
        owns = state.rank is not None
        if (owns or (item.ended and not run_ended)) and (
            item.status != state.status or item.end_time != state.end_time
        ):
            columns = {
                "status": item.status,
                "end_time": item.end_time,
                "finalized_by_cqd": item.ended,
                "end_reason": _end_reason(item) if item.ended else "",
                "update_time": plan.now,
            }
            if item.status != state.status:
                plan.events.append(
                    _event(
                        state.run_id,
                        plan.now,
                        RunEventKind.STATUS_CHANGED,
                        state.status,
                        item.status,
                        f"imported from {source}: attempt {item.key} "
                        f"{bq_pb.AttemptStatus.Name(item.columns['attempt_status'])}",
                    )
                )
            # Bumped per change, wherever batch boundaries fall.
            state.eversion += 1
            columns["eversion"] = state.eversion
            if state.new:
                plan.runs[state.run_id].update(columns)
            else:
                plan.run_updates.setdefault(state.run_id, {}).update(columns)
            state.status, state.end_time = item.status, item.end_time
        for change in item.changes:
            if not change.submitted:
                continue
            if state.new:
                plan.submitted[(state.run_id, change.host, change.change)] = item.end_time
                continue
            run_cl = state.run_cls.get((change.host, change.change))
            if run_cl is not None and run_cl[1] != item.end_time:
                plan.submit_updates[run_cl[0]] = item.end_time
                state.run_cls[(change.host, change.change)] = (run_cl[0], item.end_time)
        row = {**item.columns, "source": source[-1024:], "imported_at": plan.now}
        if item.key in plan.attempts:
            plan.attempts[item.key].update(row)
        elif state.attempt_id is not None:
            plan.attempt_updates[state.attempt_id] = row
        else:
            plan.attempts[item.key] = {**row, "run_id": state.run_id}
        state.rank = item.rank
        self._note_cls(item, plan)
        plan.links.extend((build, state.run_id, item) for build in item.builds)

    @staticmethod
    def _note_cls(item: ParsedAttempt, plan: _Plan) -> None:
        """The CLs the batch needs; of several patchsets of one CL the latest is kept."""
        for change in item.changes:
            key = (change.host, change.change)
            known = plan.cls.get(key)
            if known is None or change.patchset > known[0].patchset:
                plan.cls[key] = (change, item.project)

    # --- writing ---------------------------------------------------------------------------------

    def _write_cls(self, plan: _Plan) -> dict[tuple[str, int], int]:
        """CL IDs by (host, change): existing CLs (brought up to newer patchsets while cvsite
        has no Gerrit snapshot of them) and new ones."""
        ids: dict[tuple[str, int], int] = {}
        bumps = []
        for host, change, clid, patchset, info_length in cls_by_key(
            plan.cls, "id", "patchset", "info_length", annotate={"info_length": Length("info")}
        ):
            ids[(host, change)] = clid
            ref, _ = plan.cls[(host, change)]
            if ref.patchset > patchset and not info_length:
                bumps.append(
                    (
                        ref.patchset,
                        ref.min_equivalent_patchset,
                        ref.gerrit_project,
                        plan.now,
                        clid,
                        ref.patchset,
                    )
                )
        writer.update_rows(
            CL,
            ["patchset", "min_equivalent_patchset", "gerrit_project", "update_time"],
            bumps,
            where="patchset < %s",
        )
        missing = [key for key in plan.cls if key not in ids]
        rows = []
        for key, clid in zip(missing, writer.allocate_ids(CL, len(missing)), strict=True):
            ids[key] = clid
            ref, project = plan.cls[key]
            rows.append(
                {
                    "id": clid,
                    "host": ref.host,
                    "change": ref.change,
                    "luci_project": project,
                    "update_time": plan.now,
                    **_snapshot(ref),
                }
            )
        writer.insert(CL, rows)
        self.created["CLs"] += len(rows)
        return ids

    def _write_runs(self, plan: _Plan, cl_ids: dict[tuple[str, int], int]) -> None:
        writer.insert(Run, list(plan.runs.values()))
        Project.note({row["project"] for row in plan.runs.values()})
        names = ["status", "end_time", "finalized_by_cqd", "end_reason", "update_time", "eversion"]
        writer.update_rows(
            Run,
            names,
            [[row[n] for n in names] + [run_id] for run_id, row in plan.run_updates.items()],
        )
        run_cls = []
        for run_id, position, change, mode in plan.run_cls:
            row = {
                "run_id": run_id,
                "cl_id": cl_ids[(change.host, change.change)],
                "position": position,
                "trigger_time": change.trigger_time,
                "trigger_mode": mode,
                "trigger_account_id": 0,
                "trigger_email": "",
                "submit_time": plan.submitted.pop((run_id, change.host, change.change), None),
                **_snapshot(change),
            }
            row["served_message"] = served_run_cl(
                RunCLView(
                    row["cl_id"],
                    change.host,
                    change.change,
                    **{name: row[name] for name in RunCLView._fields[3:]},
                ),
                deps=[],  # CQDaemon's attempts do not say how their CLs depend on each other
            )
            run_cls.append(row)
        writer.insert(RunCL, run_cls, with_pk=False)
        writer.update_rows(
            RunCL, ["submit_time"], [(time, pk) for pk, time in plan.submit_updates.items()]
        )
        writer.insert(RunEvent, plan.events, with_pk=False)

    def _write_attempts(self, plan: _Plan) -> None:
        writer.insert(ImportedAttempt, list(plan.attempts.values()), with_pk=False)
        if plan.attempt_updates:
            names = list(next(iter(plan.attempt_updates.values())))
            writer.update_rows(
                ImportedAttempt,
                names,
                [[row[n] for n in names] + [pk] for pk, row in plan.attempt_updates.items()],
            )

    def _write_tryjobs(self, plan: _Plan, cl_ids: dict[tuple[str, int], int]) -> None:
        if not plan.links:
            return
        eids = sorted({build.external_id for build, _, _ in plan.links})
        # external ID -> [id, launched_by, critical, reuse_key, eversion]
        known: dict[str, list] = {}
        for chunk in chunks(eids):
            for eid, *tryjob in Tryjob.objects.with_external_ids(chunk).values_list(
                "external_id", "id", "launched_by_id", "critical", "reuse_key", "eversion"
            ):
                known[eid] = tryjob
        new: dict[str, dict] = {}
        changed: set[str] = set()
        reused_by: set[tuple[str, str]] = set()
        patchsets: list[tuple[str, ParsedAttempt]] = []
        for build, run_id, item in plan.links:
            eid = build.external_id
            if eid not in new and eid not in known:
                host = eid.split("/", 2)[1]
                new[eid] = {
                    **dict(_tryjob_template(host, item.project, build.critical)),
                    "external_id": eid,
                    "status": TryjobStatus.TRIGGERED,
                    "launched_by_id": None if build.reused else run_id,
                    "reuse_key": _reuse_key(item, cl_ids),
                    "create_time": plan.now,
                    "update_time": plan.now,
                    "eversion": 1,
                }
                patchsets.append((eid, item))
                if build.reused:
                    reused_by.add((eid, run_id))
                continue
            if eid in new:
                row = new[eid]
                tryjob = [None, row["launched_by_id"], row["critical"], row["reuse_key"], 0]
            else:
                tryjob = known[eid]
            launched_by = tryjob[1]
            if build.reused or launched_by not in (None, run_id):
                if launched_by != run_id:
                    reused_by.add((eid, run_id))
                continue
            # This run launched the build, and says whether it is critical.
            update = [None, run_id, build.critical, tryjob[3] or _reuse_key(item, cl_ids)]
            reused_by.discard((eid, run_id))
            if update[1:4] == tryjob[1:4]:
                continue
            if eid in new:
                row = new[eid]
                row.update(launched_by_id=run_id, critical=build.critical, reuse_key=update[3])
                row["eversion"] += 1
            else:
                known[eid][1:4] = update[1:4]
                known[eid][4] += 1
                changed.add(eid)
        ids = writer.allocate_ids(Tryjob, len(new))
        for (eid, row), tid in zip(new.items(), ids, strict=True):
            row["id"] = tid
            known[eid] = [tid]
        writer.insert(Tryjob, list(new.values()))
        self.created["tryjobs"] += len(new)
        writer.update_rows(
            Tryjob,
            ["launched_by_id", "critical", "reuse_key", "eversion", "update_time"],
            [[*known[eid][1:5], plan.now, known[eid][0]] for eid in sorted(changed)],
        )
        through = Tryjob.reused_by.through
        writer.insert(
            through,
            [{"tryjob_id": known[eid][0], "run_id": run_id} for eid, run_id in sorted(reused_by)],
            with_pk=False,
            ignore_conflicts=True,
        )
        writer.insert(
            TryjobCLPatchset,
            [
                {
                    "tryjob_id": known[eid][0],
                    "cl_id": cl_ids[(c.host, c.change)],
                    "patchset": c.patchset,
                }
                for eid, item in patchsets
                for c in item.changes
            ],
            with_pk=False,
        )


def _snapshot(change: ChangeRef) -> dict:
    """Snapshot columns of a change cvsite knows no Gerrit data of, only what CQDaemon said."""
    columns = dict(_snapshot_of(change.patchset, change.min_equivalent_patchset))
    columns["gerrit_project"] = change.gerrit_project
    return columns


@lru_cache(maxsize=1024)
def _snapshot_of(patchset: int, min_equivalent_patchset: int) -> tuple[tuple[str, object], ...]:
    columns = change_snapshot_columns(
        _NO_INFO, patchset=patchset, min_equivalent_patchset=min_equivalent_patchset, files=()
    )
    return tuple(columns.items())


def _reuse_key(item: ParsedAttempt, cl_ids: dict[tuple[str, int], int]) -> str:
    pairs = tuple((cl_ids[(c.host, c.change)], c.min_equivalent_patchset) for c in item.changes)
    return _reuse_key_of(pairs)


@lru_cache(maxsize=4096)
def _reuse_key_of(pairs: tuple[tuple[int, int], ...]) -> str:
    return reuse_key(list(pairs))


def _end_reason(item: ParsedAttempt) -> str:
    status = bq_pb.AttemptStatus.Name(item.columns["attempt_status"])
    substatus = item.columns["attempt_substatus"]
    text = f"CQDaemon finished the attempt: {status}"
    if substatus:
        text += f" ({bq_pb.AttemptSubstatus.Name(substatus)})"
    return text


def _event(run_id, now, kind, from_status, to_status, detail) -> dict:
    return {
        "run_id": run_id,
        "time": now,
        "actor": ACTOR,
        "kind": kind,
        "from_status": from_status,
        "to_status": to_status,
        "detail": detail,
    }


def _names(cls: list[tuple[str, int]]) -> str:
    return ", ".join(f"{host}/{change}" for host, change in sorted(cls))
