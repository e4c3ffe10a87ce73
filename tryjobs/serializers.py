"""Tryjob rows <-> cv.internal.tryjob messages; the only place in tryjobs/ that converts.

Writing validates first: a message that breaks a seed invariant, or carries content the rows
cannot hold, raises InvalidMessage naming the field, before any row is touched. Times are kept
to the microsecond (see cvproto.times).

Entry points:
  tryjob_columns(definition=, status=, external_id=, result=)    a Tryjob row's columns
  status_columns(status, external_id, result)                     ... all but the definition's
  definition_columns(msg, field) / definition_from_row(row)      Definition
  result_columns(msg, field) / result_from_row(row)               Result (None = no result)
  attempt_row(msg, field) / attempt_from_row(row)                 ExecutionState...Attempt
  execution_state_rows(run_id, msg) / execution_state_from_rows(rows)
  save_execution_state(run_id, msg) / load_execution_state(run_id)
  log_entry_row(run_id, state_version, msg, field) / log_entry_from_row(row)
  tryjob_view_from_row(row, reused_by)                            tryjobs.views.TryjobView
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction

from cvproto.cv.config import config_pb2
from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from cvproto.times import to_datetime, to_timestamp, write_timestamp
from cvproto.validation import InvalidMessage, ensure_stored_whole, enum_name
from runs.serializers import check_columns_fit, check_row_fits
from tryjobs.models import (
    RETRY_CONFIG_FIELDS,
    Execution,
    ExecutionAttempt,
    ExecutionLogEntry,
    ExecutionState,
    ExecutionStatus,
    LaunchFailure,
    LogKind,
    ResultStatus,
    Tryjob,
    TryjobStatus,
    UnsuccessfulResult,
)
from tryjobs.views import TryjobView

Definition = tryjob_pb.Definition
Result = tryjob_pb.Result
State = tryjob_pb.ExecutionState
LogEntry = tryjob_pb.ExecutionLogEntry
RetryConfig = config_pb2.Verifiers.Tryjob.RetryConfig

# The values each check accepts, as sets: the enums build a new list on every `.values`.
_COMMENT_LEVELS = frozenset(config_pb2.CommentLevel.values())
_RESULT_STATUSES = frozenset(ResultStatus.values)
_TRYJOB_STATUSES = frozenset(TryjobStatus.values)
_EXECUTION_STATUSES = frozenset(ExecutionStatus.values)


# Definition ------------------------------------------------------------------------------------


def _builder_columns(bb: Definition.Buildbucket, field: str) -> tuple[str, str, str, str]:
    for name, value in (
        ("host", bb.host),
        ("builder.project", bb.builder.project),
        ("builder.bucket", bb.builder.bucket),
        ("builder.builder", bb.builder.builder),
    ):
        if not value:
            raise InvalidMessage(f"{field}.buildbucket.{name}", "must be set")
    return bb.host, bb.builder.project, bb.builder.bucket, bb.builder.builder


def definition_columns(msg: Definition, field: str = "definition") -> dict:
    """Columns of DefinitionColumns for a Definition; refuses what the columns cannot hold."""
    if msg.WhichOneof("backend") != "buildbucket":
        raise InvalidMessage(field, "a definition needs a buildbucket backend")
    host, project, bucket, builder = _builder_columns(msg.buildbucket, field)
    columns = {
        "buildbucket_host": host,
        "builder_project": project,
        "builder_bucket": bucket,
        "builder_name": builder,
        "equivalent_host": "",
        "equivalent_project": "",
        "equivalent_bucket": "",
        "equivalent_name": "",
        "disable_reuse": msg.disable_reuse,
        "skip_stale_check": msg.skip_stale_check,
        "critical": msg.critical,
        "optional": msg.optional,
        "result_visibility": msg.result_visibility,
        "experiments": list(msg.experiments),
        "disable_reuse_footers": list(msg.disable_reuse_footers),
        "reuse_max_commit_distance": (
            msg.reuse_window.max_commit_distance if msg.HasField("reuse_window") else None
        ),
    }
    if msg.result_visibility not in _COMMENT_LEVELS:
        raise InvalidMessage(
            f"{field}.result_visibility", f"{msg.result_visibility} is not a CommentLevel"
        )
    if msg.HasField("equivalent_to"):
        equivalent = msg.equivalent_to
        if equivalent.WhichOneof("backend") != "buildbucket":
            raise InvalidMessage(f"{field}.equivalent_to", "needs a buildbucket backend")
        (
            columns["equivalent_host"],
            columns["equivalent_project"],
            columns["equivalent_bucket"],
            columns["equivalent_name"],
        ) = _builder_columns(equivalent.buildbucket, f"{field}.equivalent_to")
    if msg.equivalent_to.HasField("equivalent_to") or any(
        f.name != "buildbucket" for f, _ in msg.equivalent_to.ListFields()
    ):
        raise InvalidMessage(
            f"{field}.equivalent_to",
            "may only name a builder: no flags and no nested equivalent_to",
        )
    ensure_stored_whole(msg, _write_definition(Definition(), columns), field)
    return columns


def _write_definition(msg: Definition, c: dict) -> Definition:
    """Fills an empty Definition from DefinitionColumns values (in place: no copies)."""
    bb = msg.buildbucket
    bb.host = c["buildbucket_host"]
    bb.builder.project = c["builder_project"]
    bb.builder.bucket = c["builder_bucket"]
    bb.builder.builder = c["builder_name"]
    if c["equivalent_name"]:
        equivalent = msg.equivalent_to.buildbucket
        equivalent.host = c["equivalent_host"]
        equivalent.builder.project = c["equivalent_project"]
        equivalent.builder.bucket = c["equivalent_bucket"]
        equivalent.builder.builder = c["equivalent_name"]
    msg.disable_reuse = c["disable_reuse"]
    msg.skip_stale_check = c["skip_stale_check"]
    msg.critical = c["critical"]
    msg.optional = c["optional"]
    msg.result_visibility = c["result_visibility"]
    msg.experiments.extend(c["experiments"])
    msg.disable_reuse_footers.extend(c["disable_reuse_footers"])
    if c["reuse_max_commit_distance"] is not None:
        msg.reuse_window.max_commit_distance = c["reuse_max_commit_distance"]
    return msg


def definition_from_row(row) -> Definition:
    return _write_definition(Definition(), row.__dict__)


# Result ----------------------------------------------------------------------------------------

NO_RESULT_COLUMNS = {
    "result_status": None,
    "result_create_time": None,
    "result_update_time": None,
    "result_output": None,
    "build_id": None,
    "build_status": 0,
    "build_builder_project": None,
    "build_builder_bucket": None,
    "build_builder_name": None,
    "build_summary_markdown": "",
    "build_infra": None,
}


def result_columns(msg: Result | None, field: str = "result") -> dict:
    """Columns of ResultColumns; None (no result) gives all-empty columns."""
    if msg is None:
        return dict(NO_RESULT_COLUMNS)
    if msg.status not in _RESULT_STATUSES:
        raise InvalidMessage(
            f"{field}.status", f"{enum_name(Result.Status, msg.status)} is not a result status"
        )
    columns = dict(NO_RESULT_COLUMNS)
    columns["result_status"] = msg.status
    if msg.HasField("create_time"):
        columns["result_create_time"] = to_datetime(msg.create_time)
    if msg.HasField("update_time"):
        columns["result_update_time"] = to_datetime(msg.update_time)
    if msg.HasField("output"):
        columns["result_output"] = msg.output.SerializeToString(deterministic=True)
    if msg.WhichOneof("backend") == "buildbucket":
        bb = msg.buildbucket
        columns["build_id"] = bb.id
        columns["build_status"] = bb.status
        columns["build_summary_markdown"] = bb.summary_markdown
        if bb.HasField("builder"):
            columns["build_builder_project"] = bb.builder.project
            columns["build_builder_bucket"] = bb.builder.bucket
            columns["build_builder_name"] = bb.builder.builder
        if bb.HasField("infra"):
            columns["build_infra"] = bb.infra.SerializeToString(deterministic=True)
    return columns


def _write_result(msg: Result, c: dict) -> None:
    """Fills an empty Result from ResultColumns values whose result_status is set."""
    msg.status = c["result_status"]
    if c["result_create_time"] is not None:
        write_timestamp(msg.create_time, c["result_create_time"])
    if c["result_update_time"] is not None:
        write_timestamp(msg.update_time, c["result_update_time"])
    if c["result_output"] is not None:
        msg.output.ParseFromString(bytes(c["result_output"]))
    if c["build_id"] is not None:
        bb = msg.buildbucket
        bb.id = c["build_id"]
        bb.status = c["build_status"]
        bb.summary_markdown = c["build_summary_markdown"]
        if c["build_builder_project"] is not None:
            bb.builder.project = c["build_builder_project"]
            bb.builder.bucket = c["build_builder_bucket"]
            bb.builder.builder = c["build_builder_name"]
        if c["build_infra"] is not None:
            bb.infra.ParseFromString(bytes(c["build_infra"]))


def result_from_row(row) -> Result | None:
    if row.result_status is None:
        return None
    msg = Result()
    _write_result(msg, row.__dict__)
    return msg


# Status invariants -----------------------------------------------------------------------------


def check_tryjob_status(
    status: int, external_id: str, result: Result | None, field: str = "tryjob"
) -> None:
    """The seed's Status invariants, checked before the database's constraints would refuse."""
    if status not in _TRYJOB_STATUSES:
        raise InvalidMessage(
            f"{field}.status", f"{enum_name(tryjob_pb.Status, status)} is not a tryjob status"
        )
    name = TryjobStatus(status).name
    if status in (TryjobStatus.TRIGGERED, TryjobStatus.ENDED, TryjobStatus.CANCELLED):
        if not external_id:
            raise InvalidMessage(f"{field}.external_id", f"a {name} tryjob needs an external ID")
    elif external_id:
        raise InvalidMessage(
            f"{field}.external_id", f"a {name} tryjob has no external ID, got {external_id!r}"
        )
    if status == TryjobStatus.ENDED:
        if result is None or result.status == Result.UNKNOWN:
            raise InvalidMessage(
                f"{field}.result", "an ENDED tryjob needs a result whose status is not UNKNOWN"
            )
    elif status != TryjobStatus.TRIGGERED and result is not None:
        raise InvalidMessage(f"{field}.result", f"a {name} tryjob has no result")


def tryjob_columns(
    *,
    definition: Definition,
    status: int,
    external_id: str = "",
    result: Result | None = None,
    field: str = "tryjob",
) -> dict:
    """Columns of a Tryjob row for its definition, status, external ID and result."""
    columns = status_columns(status, external_id, result, field)
    definition_part = definition_columns(definition, f"{field}.definition")
    check_columns_fit(Tryjob, {k: v for k, v in definition_part.items() if v is not None}, field)
    return {**columns, **definition_part}


def status_columns(
    status: int, external_id: str = "", result: Result | None = None, field: str = "tryjob"
) -> dict:
    """The status, external ID and result columns of a Tryjob row: what a launch or an
    update changes, the definition staying as it is."""
    check_tryjob_status(status, external_id, result, field)
    columns = {
        "status": status,
        "external_id": external_id or None,
        **result_columns(result, f"{field}.result"),
    }
    check_columns_fit(Tryjob, {k: v for k, v in columns.items() if v is not None}, field)
    return columns


# ExecutionState --------------------------------------------------------------------------------


def attempt_row(msg: State.Execution.Attempt, field: str = "attempt") -> ExecutionAttempt:
    result = msg.result if msg.HasField("result") else None
    if msg.tryjob_id <= 0:
        raise InvalidMessage(f"{field}.tryjob_id", f"must be a tryjob ID, got {msg.tryjob_id}")
    check_tryjob_status(msg.status, msg.external_id, result, field)
    return ExecutionAttempt(
        tryjob_id=msg.tryjob_id,
        external_id=msg.external_id or None,
        status=msg.status,
        reused=msg.reused,
        **result_columns(result, f"{field}.result"),
    )


def _write_attempt(msg: State.Execution.Attempt, row: ExecutionAttempt) -> None:
    c = row.__dict__
    msg.tryjob_id = c["tryjob_id"]
    msg.external_id = c["external_id"] or ""
    msg.status = c["status"]
    msg.reused = c["reused"]
    if c["result_status"] is not None:
        _write_result(msg.result, c)


def attempt_from_row(row: ExecutionAttempt) -> State.Execution.Attempt:
    msg = State.Execution.Attempt()
    _write_attempt(msg, row)
    return msg


@dataclass
class ExecutionStateRows:
    """An ExecutionState as unsaved rows; children are ordered by their `position`."""

    state: ExecutionState
    executions: list[Execution] = field(default_factory=list)
    attempts: list[list[ExecutionAttempt]] = field(default_factory=list)
    launch_failures: list[LaunchFailure] = field(default_factory=list)
    unsuccessful_results: list[UnsuccessfulResult] = field(default_factory=list)


def execution_state_rows(run_id: str, msg: State) -> ExecutionStateRows:
    """Validates an ExecutionState and turns it into unsaved rows for run `run_id`."""
    if msg.status not in _EXECUTION_STATUSES:
        raise InvalidMessage(
            "status", f"{enum_name(State.Status, msg.status)} is not an execution status"
        )
    terminal = msg.status != ExecutionStatus.RUNNING
    if terminal != msg.HasField("end_time"):
        raise InvalidMessage(
            "end_time", "set exactly when the status is terminal (FAILED or SUCCEEDED)"
        )
    if msg.status == ExecutionStatus.FAILED and not msg.HasField("failures"):
        raise InvalidMessage("failures", "a FAILED execution state must say why")
    definitions = msg.requirement.definitions if msg.HasField("requirement") else []
    if len(definitions) != len(msg.executions):
        raise InvalidMessage(
            "executions",
            f"{len(msg.executions)} executions for {len(definitions)} requirement definitions; "
            "they map one to one",
        )
    state = ExecutionState(
        run_id=run_id,
        has_requirement=msg.HasField("requirement"),
        requirement_version=msg.requirement_version,
        status=msg.status,
        has_failures=msg.HasField("failures"),
        end_time=to_datetime(msg.end_time) if msg.HasField("end_time") else None,
    )
    if msg.requirement.HasField("retry_config"):
        retry = msg.requirement.retry_config
        for column in RETRY_CONFIG_FIELDS:
            setattr(state, column, getattr(retry, column.removeprefix("retry_")))
    rows = ExecutionStateRows(state=state)
    for i, (definition, execution) in enumerate(zip(definitions, msg.executions, strict=True)):
        rows.executions.append(
            Execution(
                position=i,
                used_quota=execution.used_quota,
                **definition_columns(definition, f"requirement.definitions[{i}]"),
            )
        )
        attempts = []
        for j, attempt in enumerate(execution.attempts):
            row = attempt_row(attempt, f"executions[{i}].attempts[{j}]")
            row.position = j
            attempts.append(row)
        rows.attempts.append(attempts)
    for i, failure in enumerate(msg.failures.launch_failures):
        rows.launch_failures.append(
            LaunchFailure(
                position=i,
                reason=failure.reason,
                **definition_columns(
                    failure.definition, f"failures.launch_failures[{i}].definition"
                ),
            )
        )
    for i, unsuccessful in enumerate(msg.failures.unsuccessful_results):
        if unsuccessful.tryjob_id <= 0:
            raise InvalidMessage(
                f"failures.unsuccessful_results[{i}].tryjob_id",
                f"must be a tryjob ID, got {unsuccessful.tryjob_id}",
            )
        rows.unsuccessful_results.append(
            UnsuccessfulResult(position=i, tryjob_id=unsuccessful.tryjob_id)
        )
    ensure_stored_whole(msg, execution_state_from_rows(rows), "execution state")
    check_row_fits(rows.state, "execution state")
    for i, execution in enumerate(rows.executions):
        check_row_fits(execution, f"executions[{i}]")
        for j, attempt in enumerate(rows.attempts[i]):
            check_row_fits(attempt, f"executions[{i}].attempts[{j}]")
    for i, failure in enumerate(rows.launch_failures):
        check_row_fits(failure, f"failures.launch_failures[{i}]")
    for i, unsuccessful in enumerate(rows.unsuccessful_results):
        check_row_fits(unsuccessful, f"failures.unsuccessful_results[{i}]")
    return rows


def execution_state_from_rows(rows: ExecutionStateRows) -> State:
    state = rows.state
    msg = State(status=state.status, requirement_version=state.requirement_version)
    if state.has_requirement:
        requirement = msg.requirement
        requirement.SetInParent()
        if state.retry_single_quota is not None:
            requirement.retry_config.CopyFrom(
                RetryConfig(
                    **{c.removeprefix("retry_"): getattr(state, c) for c in RETRY_CONFIG_FIELDS}
                )
            )
        for execution, attempts in zip(rows.executions, rows.attempts, strict=True):
            _write_definition(requirement.definitions.add(), execution.__dict__)
            execution_msg = msg.executions.add(used_quota=execution.used_quota)
            for attempt in attempts:
                _write_attempt(execution_msg.attempts.add(), attempt)
    if state.has_failures:
        failures = msg.failures
        failures.SetInParent()
        for failure in rows.launch_failures:
            launch_failure = failures.launch_failures.add(reason=failure.reason)
            _write_definition(launch_failure.definition, failure.__dict__)
        for unsuccessful in rows.unsuccessful_results:
            failures.unsuccessful_results.add(tryjob_id=unsuccessful.tryjob_id)
    if state.end_time is not None:
        write_timestamp(msg.end_time, state.end_time)
    return msg


def save_execution_state(
    run_id: str, msg: State, *, stored_version: int | None = None
) -> ExecutionState:
    """Replaces the run's stored execution state with `msg`, all or nothing; bumps eversion.

    `stored_version`: the eversion the caller knows is stored (0: none), as an executor pass
    does under the run's lock, which every writer of the state holds; read here otherwise.
    """
    rows = execution_state_rows(run_id, msg)
    # No savepoint of its own: inside a caller's transaction, a failure here fails it all.
    with transaction.atomic(savepoint=False):
        if stored_version is None:
            current = (
                ExecutionState.objects.select_for_update()
                .filter(run_id=run_id)
                .values_list("eversion", flat=True)
                .first()
            )
        else:
            current = stored_version or None
        rows.state.eversion = (current or 0) + 1
        if current is not None:
            Execution.objects.filter(state_id=run_id).delete()
            LaunchFailure.objects.filter(state_id=run_id).delete()
            UnsuccessfulResult.objects.filter(state_id=run_id).delete()
        rows.state.save(force_insert=current is None, force_update=current is not None)
        for execution in rows.executions:
            execution.state = rows.state
        Execution.objects.bulk_create(rows.executions)
        all_attempts = []
        for execution, attempts in zip(rows.executions, rows.attempts, strict=True):
            for attempt in attempts:
                attempt.execution = execution
                all_attempts.append(attempt)
        ExecutionAttempt.objects.bulk_create(all_attempts)
        for child in (*rows.launch_failures, *rows.unsuccessful_results):
            child.state = rows.state
        LaunchFailure.objects.bulk_create(rows.launch_failures)
        UnsuccessfulResult.objects.bulk_create(rows.unsuccessful_results)
    return rows.state


def load_execution_state_rows(run_id: str) -> ExecutionStateRows | None:
    """The stored rows of the run's execution state, in a constant number of queries."""
    state = (
        ExecutionState.objects.filter(run_id=run_id)
        .prefetch_related("executions__attempts", "launch_failures", "unsuccessful_results")
        .first()
    )
    if state is None:
        return None
    executions = list(state.executions.all())
    return ExecutionStateRows(
        state=state,
        executions=executions,
        attempts=[list(e.attempts.all()) for e in executions],
        launch_failures=list(state.launch_failures.all()),
        unsuccessful_results=list(state.unsuccessful_results.all()),
    )


def load_execution_state(run_id: str) -> tuple[State | None, int]:
    """(state, eversion) of the run, or (None, 0) when it has none yet."""
    rows = load_execution_state_rows(run_id)
    if rows is None:
        return None, 0
    return execution_state_from_rows(rows), rows.state.eversion


# Execution log ---------------------------------------------------------------------------------


def log_entry_row(
    run_id: str, state_version: int, msg: LogEntry, field: str = "entry"
) -> ExecutionLogEntry:
    kind = msg.WhichOneof("kind")
    if kind is None:
        raise InvalidMessage(f"{field}.kind", "a log entry needs a kind")
    if not msg.HasField("time"):
        raise InvalidMessage(f"{field}.time", "a log entry needs a time")
    stripped = LogEntry()
    stripped.CopyFrom(msg)
    stripped.ClearField("time")
    stripped.ClearField(kind)
    if stripped.ByteSize():
        raise InvalidMessage(field, "carries unknown fields cvsite cannot store")
    row = ExecutionLogEntry(
        run_id=run_id,
        state_version=state_version,
        time=to_datetime(msg.time),
        kind=LogKind(kind),
        detail=getattr(msg, kind).SerializeToString(deterministic=True),
    )
    check_row_fits(row, field)
    return row


def log_entry_from_row(row: ExecutionLogEntry) -> LogEntry:
    msg = LogEntry(time=to_timestamp(row.time))
    detail = getattr(msg, row.kind)
    detail.SetInParent()  # an empty detail (RequirementChanged) still selects the kind
    detail.ParseFromString(bytes(row.detail))
    return msg


def log_entries_from_rows(rows: Iterable[ExecutionLogEntry]) -> tryjob_pb.ExecutionLogEntries:
    return tryjob_pb.ExecutionLogEntries(entries=[log_entry_from_row(r) for r in rows])


# Executor views --------------------------------------------------------------------------------


def tryjob_view_from_row(row: Tryjob, reused_by: Iterable[str] = ()) -> TryjobView:
    """The executor's read-only view of a Tryjob row; `reused_by` run IDs, oldest first."""
    return TryjobView(
        id=row.id,
        status=row.status,
        external_id=row.external_id or "",
        definition=definition_from_row(row),
        result=result_from_row(row),
        launched_by=row.launched_by_id or "",
        reused_by=tuple(reused_by),
        untriggered_reason=row.untriggered_reason,
        entity_create_time=row.create_time,
    )
