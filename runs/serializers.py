"""Run-side rows <-> messages (migration, bigquery, gerrit); the only place in runs/ that converts.

Writing validates first and raises InvalidMessage naming the field, before any row is touched.
Verbatim parts (bigquery.Attempt, gerrit.ChangeInfo) are stored as binary encodings next to the
columns extracted from them, so fields cvsite does not know survive a round trip.

Entry points:
  change_snapshot_columns(info, ...) / change_info_from_row(row)   gerrit.ChangeInfo snapshots
  attempt_columns(attempt, field) / attempt_from_row(row)          bigquery.Attempt
  reported_run_columns(msg, field) / reported_run_from_row(row)    migration.ReportedRun
  verified_run_row(run_id, msg) / verified_run_request_from_row(row)  ReportVerifiedRunRequest
  run_cl_rows(run_id, position, msg, cl, run_clids) / run_cl_message(run_cl)   migration.RunCL
  set_served_message(run_cl, deps)   RunCL.served_message, for writers that skip run_cl_rows
"""

import functools
from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple

from django.db.backends.base.operations import BaseDatabaseOperations

from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.gerrit import gerrit_pb2
from cvproto.migration import migration_pb2 as migration_pb
from cvproto.times import to_datetime, write_timestamp
from cvproto.validation import InvalidMessage, ensure_stored_whole, enum_name
from cvproto.wire import LENGTH_DELIMITED, length_delimited, tag, varint
from runs.models import (
    CL,
    DepKind,
    FinishedCQDRun,
    RunCL,
    RunCLDep,
    VerifiedCQDRun,
    VerifyAction,
)


@functools.cache
def _column_limits(model, name: str) -> tuple[int | None, int | None, int | None]:
    """(max_length, lowest, highest) of a model's column; None where there is no limit.
    Cached: checks run for every column of every row written."""
    column = model._meta.get_field(name)
    low, high = BaseDatabaseOperations.integer_field_ranges.get(
        column.get_internal_type(), (None, None)
    )
    return column.max_length, low, high


def check_columns_fit(model, values: dict, field: str) -> None:
    """Refuses values the database would reject: too long, NUL characters, integer overflow.

    PostgreSQL and SQLite differ here (SQLite stores anything), so the rule is checked in
    Python, the same for both, and named for the client instead of failing as a 500.
    """
    for name, value in values.items():
        max_length, low, high = _column_limits(model, name)
        if isinstance(value, str):
            if max_length is not None and len(value) > max_length:
                raise InvalidMessage(
                    f"{field}.{name}",
                    f"is {len(value)} characters long; at most {max_length} are stored",
                )
            if "\x00" in value:
                raise InvalidMessage(f"{field}.{name}", "contains a NUL character")
        elif isinstance(value, list):
            if any("\x00" in item for item in value if isinstance(item, str)):
                raise InvalidMessage(f"{field}.{name}", "contains a NUL character")
        elif isinstance(value, int) and not isinstance(value, bool):
            if low is not None and not low <= value <= high:
                raise InvalidMessage(f"{field}.{name}", f"{value} is outside {low}..{high}")


def check_row_fits(row, field: str) -> None:
    values = {f.name: getattr(row, f.attname) for f in row._meta.concrete_fields}
    check_columns_fit(type(row), {k: v for k, v in values.items() if v is not None}, field)


# Run modes that bigquery.Mode can express; other (project-defined) modes map to UNSPECIFIED.
MODE_BY_NAME = {
    name: number for name, number in bq_pb.Mode.items() if number != bq_pb.MODE_UNSPECIFIED
}


def mode_to_bigquery(mode: str) -> int:
    return MODE_BY_NAME.get(mode, bq_pb.MODE_UNSPECIFIED)


# gerrit.ChangeInfo snapshots -------------------------------------------------------------------


def change_snapshot_columns(
    info: gerrit_pb2.ChangeInfo,
    *,
    patchset: int,
    min_equivalent_patchset: int,
    files: Collection[str],
    field: str = "info",
    patchset_field: str | None = None,
    min_equivalent_field: str | None = None,
) -> dict:
    """Columns of runs.models.ChangeSnapshot for a Gerrit change at one patchset.

    `field` names `info` in errors; the patchset arguments are named `<field>.patchset` and
    `<field>.min_equivalent_patchset` unless the caller took them from elsewhere and says where.
    """
    if patchset < 1:
        raise InvalidMessage(
            patchset_field or f"{field}.patchset", f"must be at least 1, got {patchset}"
        )
    if not 1 <= min_equivalent_patchset <= patchset:
        raise InvalidMessage(
            min_equivalent_field or f"{field}.min_equivalent_patchset",
            f"must be in 1..{patchset} (the patchset), got {min_equivalent_patchset}",
        )
    revision = info.revisions.get(info.current_revision) if info.current_revision else None
    if revision is not None and revision.number != patchset:
        raise InvalidMessage(
            f"{field}.revisions[{info.current_revision}].number",
            f"the current revision is patchset {revision.number}, not {patchset}",
        )
    return {
        "patchset": patchset,
        "min_equivalent_patchset": min_equivalent_patchset,
        "external_update_time": to_datetime(info.updated) if info.HasField("updated") else None,
        "gerrit_project": info.project,
        "gerrit_ref": info.ref,
        "owner_email": info.owner.email,
        "current_revision": info.current_revision,
        "change_status": info.status,
        "info": info.SerializeToString(deterministic=True),
        "files": list(files),
    }


def change_info_from_row(row) -> gerrit_pb2.ChangeInfo:
    return gerrit_pb2.ChangeInfo.FromString(bytes(row.info))


# bigquery.Attempt and what CQDaemon reported ---------------------------------------------------


def attempt_columns(attempt: bq_pb.Attempt, field: str = "attempt") -> dict:
    """Columns of runs.models.CQDAttempt; the attempt itself is kept verbatim."""
    if not attempt.key:
        raise InvalidMessage(f"{field}.key", "the attempt key must be set")
    columns = {
        "attempt_key": attempt.key,
        "attempt_project": attempt.luci_project,
        "attempt_status": attempt.status,
        "attempt_substatus": attempt.substatus,
        "attempt_start_time": (
            to_datetime(attempt.start_time) if attempt.HasField("start_time") else None
        ),
        "attempt_end_time": to_datetime(attempt.end_time) if attempt.HasField("end_time") else None,
        "attempt_config_group": attempt.config_group,
        "attempt": attempt.SerializeToString(deterministic=True),
    }
    check_columns_fit(FinishedCQDRun, columns, field)
    return columns


def attempt_from_row(row) -> bq_pb.Attempt:
    return bq_pb.Attempt.FromString(bytes(row.attempt))


def reported_run_columns(msg: migration_pb.ReportedRun, field: str = "run") -> dict:
    """Columns for a row holding a ReportedRun (ReportedRun, FinishedCQDRun)."""
    if not msg.HasField("attempt"):
        raise InvalidMessage(f"{field}.attempt", "must be set")
    ensure_stored_whole(msg, migration_pb.ReportedRun(id=msg.id, attempt=msg.attempt), field)
    try:
        check_columns_fit(FinishedCQDRun, {"reported_id": msg.id}, field)
    except InvalidMessage as e:
        raise InvalidMessage(f"{field}.id", e.reason) from None
    return {"reported_id": msg.id, **attempt_columns(msg.attempt, f"{field}.attempt")}


def reported_run_from_row(row) -> migration_pb.ReportedRun:
    return migration_pb.ReportedRun(id=row.reported_id, attempt=attempt_from_row(row))


def verified_run_row(run_id: str, msg: migration_pb.ReportVerifiedRunRequest) -> VerifiedCQDRun:
    """An unsaved VerifiedCQDRun for run `run_id`; `update_time` is the caller's to set."""
    if msg.action not in VerifyAction.values:
        raise InvalidMessage(
            "action",
            f"{enum_name(migration_pb.ReportVerifiedRunRequest.Action, msg.action)} is not "
            "an action; use ACTION_SUBMIT, ACTION_DRY_RUN_OK or ACTION_FAIL",
        )
    if msg.action == VerifyAction.FAIL and not msg.final_message:
        raise InvalidMessage("final_message", "ACTION_FAIL needs a final message")
    if len(msg.final_message) > VerifiedCQDRun.MAX_FINAL_MESSAGE_LENGTH:
        raise InvalidMessage(
            "final_message",
            f"is longer than {VerifiedCQDRun.MAX_FINAL_MESSAGE_LENGTH} characters",
        )
    if not msg.HasField("run") or not msg.run.HasField("attempt"):
        raise InvalidMessage("run.attempt", "must be set")
    if msg.run.id and msg.run.id != run_id:
        raise InvalidMessage("run.id", f"names run {msg.run.id!r}, not {run_id!r}")
    row = VerifiedCQDRun(
        run_id=run_id,
        action=msg.action,
        final_message=msg.final_message,
        **attempt_columns(msg.run.attempt, "run.attempt"),
    )
    rebuilt = verified_run_request_from_row(row)
    if not msg.run.id:
        rebuilt.run.ClearField("id")
    ensure_stored_whole(msg, rebuilt, "request")
    check_row_fits(row, "request")
    return row


def verified_run_request_from_row(row: VerifiedCQDRun) -> migration_pb.ReportVerifiedRunRequest:
    return migration_pb.ReportVerifiedRunRequest(
        run=migration_pb.ReportedRun(id=row.run_id, attempt=attempt_from_row(row)),
        action=row.action,
        final_message=row.final_message,
    )


# migration.RunCL -------------------------------------------------------------------------------


def run_cl_rows(
    run_id: str,
    position: int,
    msg: migration_pb.RunCL,
    cl: CL,
    run_clids: Collection[int],
    field: str = "cl",
) -> tuple[RunCL, list[RunCLDep]]:
    """Unsaved RunCL and RunCLDep rows for `msg`, whose CL is `cl`, in a run of `run_clids`."""
    gc = msg.gc
    if msg.id != cl.id:
        raise InvalidMessage(f"{field}.id", f"is {msg.id}, but the CL {cl} has CLID {cl.id}")
    if (gc.host, gc.change) != (cl.host, cl.change):
        raise InvalidMessage(
            f"{field}.gc", f"names {gc.host}/{gc.change}, but CL {cl.id} is {cl.host}/{cl.change}"
        )
    if gc.mode not in MODE_BY_NAME.values():
        raise InvalidMessage(
            f"{field}.gc.mode", f"{enum_name(bq_pb.Mode, gc.mode)} is not a trigger mode"
        )
    if not msg.HasField("trigger") or not msg.trigger.HasField("time"):
        raise InvalidMessage(f"{field}.trigger.time", "a run CL needs a trigger time")
    if gc.HasField("trigger_time") and gc.trigger_time != msg.trigger.time:
        raise InvalidMessage(f"{field}.gc.trigger_time", "must be unset or equal trigger.time")
    if msg.info.project and msg.info.project != gc.project:
        raise InvalidMessage(
            f"{field}.info.project", f"is {msg.info.project!r}, but gc.project is {gc.project!r}"
        )
    run_cl = RunCL(
        run_id=run_id,
        cl=cl,
        position=position,
        trigger_time=to_datetime(msg.trigger.time),
        trigger_mode=bq_pb.Mode.Name(gc.mode),
        trigger_account_id=msg.trigger.account_id,
        trigger_email=msg.trigger.email,
        **change_snapshot_columns(
            msg.info,
            patchset=gc.patchset,
            min_equivalent_patchset=gc.earliest_equivalent_patchset,
            files=msg.files,
            field=f"{field}.info",
            patchset_field=f"{field}.gc.patchset",
            min_equivalent_field=f"{field}.gc.earliest_equivalent_patchset",
        ),
    )
    run_cl.gerrit_project = gc.project
    deps = []
    for i, dep in enumerate(msg.deps):
        if dep.id == cl.id or dep.id not in run_clids:
            raise InvalidMessage(
                f"{field}.deps[{i}].id", f"CL {dep.id} is not another CL of this run"
            )
        deps.append(
            RunCLDep(
                run_cl=run_cl,
                depends_on_id=dep.id,
                kind=DepKind.HARD if dep.hard else DepKind.SOFT,
                position=i,
            )
        )
    if len({d.depends_on_id for d in deps}) != len(deps):
        raise InvalidMessage(f"{field}.deps", "lists a CL twice")
    # Served as upstream did: gc.trigger_time unset (it is trigger.time, checked above) and an
    # empty info omitted.
    served = type(msg)()
    served.CopyFrom(msg)
    served.gc.ClearField("trigger_time")
    if not msg.info.ByteSize():
        served.ClearField("info")
    rebuilt = run_cl_message(run_cl, deps)
    ensure_stored_whole(served, rebuilt, field)
    check_row_fits(run_cl, field)
    run_cl.served_message = _encode_served(rebuilt)
    return run_cl, deps


class RunCLView(NamedTuple):
    """What migration.RunCL is built from: a RunCL row with its CL's host and change, from a
    row (`of`) or from the values of a writer that bypasses the model."""

    cl_id: int
    host: str
    change: int
    gerrit_project: str
    patchset: int
    min_equivalent_patchset: int
    trigger_time: datetime
    trigger_mode: str
    trigger_account_id: int
    trigger_email: str
    info: bytes
    files: list[str]

    @classmethod
    def of(cls, run_cl: RunCL) -> "RunCLView":
        return cls(
            run_cl.cl_id,
            run_cl.cl.host,
            run_cl.cl.change,
            run_cl.gerrit_project,
            run_cl.patchset,
            run_cl.min_equivalent_patchset,
            run_cl.trigger_time,
            run_cl.trigger_mode,
            run_cl.trigger_account_id,
            run_cl.trigger_email,
            run_cl.info,
            run_cl.files,
        )


# A CL's latest snapshot, for fyi_deps: CL rows and values_list(*CL_VIEW_COLUMNS) both fit.
CL_VIEW_COLUMNS = (
    "id",
    "host",
    "change",
    "gerrit_project",
    "patchset",
    "min_equivalent_patchset",
    "info",
    "files",
)


def run_cl_message(run_cl: RunCL, deps: list[RunCLDep] | None = None) -> migration_pb.RunCL:
    """migration.RunCL of a stored RunCL; pass `deps` or prefetch `deps` and `cl`."""
    if deps is None:
        deps = run_cl.deps.all()
    return run_cl_view_message(RunCLView.of(run_cl), [(d.depends_on_id, d.kind) for d in deps])


def run_cl_view_message(view: RunCLView, deps: list[tuple[int, int]]) -> migration_pb.RunCL:
    """migration.RunCL from a view and its (CLID, DepKind) dependencies.

    Like upstream's FetchActiveRuns, gc.trigger_time and gc.submit_status stay unset (the
    trigger time is in `trigger`), and so does info when nothing is known of the change.
    """
    msg = migration_pb.RunCL()
    _write_snapshot(msg, view.cl_id, view)
    msg.gc.mode = mode_to_bigquery(view.trigger_mode)
    trigger = msg.trigger
    write_timestamp(trigger.time, view.trigger_time)
    trigger.account_id = view.trigger_account_id
    trigger.email = view.trigger_email
    for clid, kind in deps:
        msg.deps.add(id=clid, hard=kind == DepKind.HARD)
    return msg


def served_run_cl(view: RunCLView, deps: list[tuple[int, int]]) -> bytes:
    """RunCL.served_message of a run CL and its (CLID, DepKind) deps in stored order."""
    return _encode_served(run_cl_view_message(view, deps))


def _encode_served(message: migration_pb.RunCL) -> bytes:
    # Deterministic: equal run CLs (maps included) are stored as equal bytes.
    return message.SerializeToString(deterministic=True)


def set_served_message(run_cl: RunCL, deps: list[RunCLDep] = ()) -> RunCL:
    """Every writer of a RunCL row calls this (or run_cl_rows, which does) before inserting it,
    with the deps it will insert along: the row and its deps never change afterwards."""
    run_cl.served_message = served_run_cl(
        RunCLView.of(run_cl), [(d.depends_on_id, d.kind) for d in deps]
    )
    return run_cl


# Field numbers of the messages FetchActiveRuns writes around stored encodings.
_ACTIVE_RUNS = migration_pb.FetchActiveRunsResponse.DESCRIPTOR.fields_by_name["active_runs"].number
_ACTIVE_RUN_FIELDS = migration_pb.ActiveRun.DESCRIPTOR.fields_by_name
_RUN_CL_INFO = migration_pb.RunCL.DESCRIPTOR.fields_by_name["info"].number
_RUN_CL_FILES = migration_pb.RunCL.DESCRIPTOR.fields_by_name["files"].number
# Their tags, as written before each field's length: thousands of fields per answer.
_ACTIVE_RUNS_TAG = tag(_ACTIVE_RUNS, LENGTH_DELIMITED)
_ACTIVE_RUN_ID_TAG = tag(_ACTIVE_RUN_FIELDS["id"].number, LENGTH_DELIMITED)
_ACTIVE_RUN_CLS_TAG = tag(_ACTIVE_RUN_FIELDS["cls"].number, LENGTH_DELIMITED)
_ACTIVE_RUN_FYI_DEPS_TAG = tag(_ACTIVE_RUN_FIELDS["fyi_deps"].number, LENGTH_DELIMITED)


def fyi_dep_encoding(cl) -> bytes:
    """A CL a run's CLs depend on without being in the run, encoded as a migration.RunCL: its
    latest snapshot, as upstream served `fyi_deps` (no trigger, no deps, no mode). `cl` is a
    CL row or a CL_VIEW_COLUMNS tuple with the same names.

    The stored ChangeInfo encoding is copied in, not decoded: `info` and `files` follow `id`
    and `gc` in field order, so the result is what encoding the message would give.
    """
    head = migration_pb.RunCL(id=cl.id)
    _write_gerrit_change(head.gc, cl)
    parts = [head.SerializeToString()]
    if cl.info:
        parts.append(length_delimited(_RUN_CL_INFO, bytes(cl.info)))
    parts.extend(length_delimited(_RUN_CL_FILES, name.encode()) for name in cl.files)
    return b"".join(parts)


def _write_snapshot(msg: migration_pb.RunCL, clid: int, cl) -> None:
    """The parts of a RunCL a CL snapshot gives: `cl` has host, change, gerrit_project,
    patchset, min_equivalent_patchset, info and files (a CL or RunCL view or row)."""
    msg.id = clid
    msg.files.extend(cl.files)
    _write_gerrit_change(msg.gc, cl)
    if cl.info:
        msg.info.ParseFromString(bytes(cl.info))


def _write_gerrit_change(gc: bq_pb.GerritChange, cl) -> None:
    gc.host = cl.host
    gc.project = cl.gerrit_project
    gc.change = cl.change
    gc.patchset = cl.patchset
    gc.earliest_equivalent_patchset = cl.min_equivalent_patchset


def active_runs_response(
    run_ids: list[str],
    cls: dict[str, list[bytes]],
    fyi_deps: dict[str, list[int]],
    outside_cls: dict,
) -> bytes:
    """FetchActiveRunsResponse, encoded: each run's CLs in order (RunCL.served_message by run
    ID), and as fyi_deps the latest snapshots of the CLs they depend on outside the run (CLIDs
    by run ID, snapshots by CLID).

    Written around the stored encodings without decoding them, byte for byte what encoding
    the whole message would give.
    """
    fyi_encoded = {}  # by CLID: a CL many runs depend on is encoded once
    # Every field's tag, length and payload go to one list joined once at the end: each run's
    # length is the sum of its parts', so no run is joined (copied) on its own first.
    parts = []
    for run_id in run_ids:
        encoded_id = run_id.encode()
        run = [_ACTIVE_RUN_ID_TAG, varint(len(encoded_id)), encoded_id]
        for served in cls.get(run_id, ()):
            run += (_ACTIVE_RUN_CLS_TAG, varint(len(served)), served)
        for clid in fyi_deps.get(run_id, ()):
            encoded = fyi_encoded.get(clid)
            if encoded is None:
                encoded = fyi_encoded[clid] = fyi_dep_encoding(outside_cls[clid])
            run += (_ACTIVE_RUN_FYI_DEPS_TAG, varint(len(encoded)), encoded)
        parts += (_ACTIVE_RUNS_TAG, varint(sum(map(len, run))))
        parts += run
    return b"".join(parts)


def excluded_cl_message(cl: CL) -> bq_pb.GerritChange:
    """Only host and change, as FetchExcludedCLs promises."""
    return bq_pb.GerritChange(host=cl.host, change=cl.change)
