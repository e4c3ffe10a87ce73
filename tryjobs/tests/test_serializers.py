"""Rows <-> cv.internal.tryjob messages: round trips, validation, query counts."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from cvproto.times import truncated_to_micros
from cvproto.validation import InvalidMessage
from runs.tests.factories import make_run
from tryjobs import serializers
from tryjobs.models import ExecutionLogEntry, Tryjob
from tryjobs.tests import strategies

db_examples = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def definition(builder="linux-rel", **kwargs) -> tryjob_pb.Definition:
    msg = tryjob_pb.Definition(**kwargs)
    msg.buildbucket.host = "cr-buildbucket.appspot.com"
    msg.buildbucket.builder.project = "chromium"
    msg.buildbucket.builder.bucket = "try"
    msg.buildbucket.builder.builder = builder
    return msg


@given(strategies.definitions())
def test_definition_round_trips_through_columns(msg):
    columns = serializers.definition_columns(msg)
    assert serializers.definition_from_row(Tryjob(**columns)) == msg


@given(strategies.results())
def test_result_round_trips_through_columns(msg):
    columns = serializers.result_columns(msg)
    assert serializers.result_from_row(Tryjob(**columns)) == msg


def test_no_result_is_all_empty_columns():
    columns = serializers.result_columns(None)
    assert serializers.result_from_row(Tryjob(**columns)) is None


def test_result_times_keep_microseconds_and_drop_nanoseconds():
    msg = tryjob_pb.Result(status=tryjob_pb.Result.SUCCEEDED)
    msg.create_time.seconds, msg.create_time.nanos = 1700000000, 123456789
    back = serializers.result_from_row(Tryjob(**serializers.result_columns(msg)))
    assert (back.create_time.seconds, back.create_time.nanos) == (1700000000, 123456000)


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda d: d.ClearField("buildbucket"), "definition"),
        (lambda d: d.buildbucket.ClearField("host"), "definition.buildbucket.host"),
        (
            lambda d: d.buildbucket.builder.ClearField("bucket"),
            "definition.buildbucket.builder.bucket",
        ),
        (lambda d: setattr(d, "result_visibility", 7), "definition.result_visibility"),
        (lambda d: d.equivalent_to.SetInParent(), "definition.equivalent_to"),
        (
            lambda d: d.equivalent_to.CopyFrom(definition("eq", critical=True)),
            "definition.equivalent_to",
        ),
    ],
)
def test_invalid_definitions_are_refused_with_the_field(mutate, field):
    msg = definition()
    mutate(msg)
    with pytest.raises(InvalidMessage) as err:
        serializers.definition_columns(msg)
    assert err.value.field == field


def test_definition_with_unknown_fields_is_refused():
    raw = definition().SerializeToString() + b"\xf8\x01\x01"  # field 31, varint 1
    msg = tryjob_pb.Definition.FromString(raw)
    with pytest.raises(InvalidMessage, match="cannot store"):
        serializers.definition_columns(msg)


def test_result_without_status_is_refused():
    with pytest.raises(InvalidMessage, match="result.status: RESULT_STATUS_UNSPECIFIED"):
        serializers.result_columns(tryjob_pb.Result())


@pytest.mark.parametrize(
    "status, external_id, has_result, message",
    [
        (tryjob_pb.TRIGGERED, "", False, "a TRIGGERED tryjob needs an external ID"),
        (tryjob_pb.ENDED, "buildbucket/h/1", False, "an ENDED tryjob needs a result"),
        (tryjob_pb.PENDING, "buildbucket/h/1", False, "a PENDING tryjob has no external ID"),
        (tryjob_pb.UNTRIGGERED, "buildbucket/h/1", False, "an? UNTRIGGERED tryjob has no ext"),
        (tryjob_pb.CANCELLED, "buildbucket/h/1", True, "a CANCELLED tryjob has no result"),
        (tryjob_pb.STATUS_UNSPECIFIED, "", False, "STATUS_UNSPECIFIED is not a tryjob status"),
    ],
)
def test_attempt_status_invariants_are_checked(status, external_id, has_result, message):
    msg = tryjob_pb.ExecutionState.Execution.Attempt(
        tryjob_id=1, external_id=external_id, status=status
    )
    if has_result:
        msg.result.status = tryjob_pb.Result.SUCCEEDED
    with pytest.raises(InvalidMessage, match=message):
        serializers.attempt_row(msg)


@pytest.mark.django_db
@db_examples
@given(strategies.execution_states())
def test_execution_state_round_trips_through_the_database(msg):
    with transaction.atomic():
        run = make_run()
        serializers.save_execution_state(run.id, msg)
        loaded, eversion = serializers.load_execution_state(run.id)
        assert loaded == msg
        assert eversion == 1
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_saving_again_replaces_the_state_and_bumps_the_version():
    run = make_run()
    first = wide_state(3, 2)
    serializers.save_execution_state(run.id, first)
    second = tryjob_pb.ExecutionState(status=tryjob_pb.ExecutionState.RUNNING)
    second.requirement.definitions.append(definition())
    second.executions.add(used_quota=2)
    serializers.save_execution_state(run.id, second)
    assert serializers.load_execution_state(run.id) == (second, 2)


@pytest.mark.django_db
def test_missing_state_loads_as_none():
    assert serializers.load_execution_state(make_run().id) == (None, 0)


def wide_state(executions: int, attempts: int) -> tryjob_pb.ExecutionState:
    msg = tryjob_pb.ExecutionState(status=tryjob_pb.ExecutionState.RUNNING)
    msg.requirement.retry_config.single_quota = 2
    msg.failures.launch_failures.add(definition=definition("broken"), reason="no permission")
    for i in range(executions):
        msg.requirement.definitions.append(definition(f"builder-{i}", critical=True))
        execution = msg.executions.add(used_quota=1)
        for j in range(attempts):
            execution.attempts.add(
                tryjob_id=i * 10 + j + 1,
                external_id=f"buildbucket/bb/{i * 10 + j + 1}",
                status=tryjob_pb.TRIGGERED,
            )
    return msg


@pytest.mark.django_db
@pytest.mark.parametrize("executions", [1, 20])
def test_loading_a_state_takes_constant_queries(executions, django_assert_num_queries):
    run = make_run()
    msg = wide_state(executions, attempts=3)
    serializers.save_execution_state(run.id, msg)
    # state, executions, attempts, launch failures, unsuccessful results
    with django_assert_num_queries(5):
        assert serializers.load_execution_state(run.id)[0] == msg


@pytest.mark.django_db
def test_invalid_state_writes_nothing():
    run = make_run()
    serializers.save_execution_state(run.id, wide_state(2, 1))
    broken = wide_state(3, 1)
    broken.executions[2].attempts[0].status = tryjob_pb.ENDED  # ENDED without a result
    with pytest.raises(InvalidMessage, match=r"executions\[2\].attempts\[0\].result"):
        serializers.save_execution_state(run.id, broken)
    assert serializers.load_execution_state(run.id) == (wide_state(2, 1), 1)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda s: s.executions.add(), "3 executions for 2 requirement definitions"),
        (lambda s: setattr(s, "status", 0), "status: STATUS_UNSPECIFIED"),
        (lambda s: s.end_time.SetInParent(), "end_time: set exactly when"),
        (
            lambda s: (setattr(s, "status", 2), s.end_time.SetInParent(), s.ClearField("failures")),
            "failures: a FAILED execution state must say why",
        ),
        (lambda s: s.failures.unsuccessful_results.add(), r"unsuccessful_results\[0\].tryjob_id"),
        (
            lambda s: s.MergeFromString(b"\xf8\x01\x01"),
            "execution state: carries fields cvsite cannot store",
        ),
    ],
)
def test_invalid_states_are_refused(mutate, message):
    msg = wide_state(2, 1)
    mutate(msg)
    with pytest.raises(InvalidMessage, match=message):
        serializers.execution_state_rows("p/1", msg)


def test_nanoseconds_in_a_state_are_truncated_not_refused():
    msg = wide_state(1, 0)
    msg.status = tryjob_pb.ExecutionState.SUCCEEDED
    msg.end_time.seconds, msg.end_time.nanos = 10, 999
    rows = serializers.execution_state_rows("p/1", msg)
    assert serializers.execution_state_from_rows(rows) == truncated_to_micros(msg)


@pytest.mark.django_db
@db_examples
@given(st.lists(strategies.log_entries(), min_size=1, max_size=4))
def test_log_entries_round_trip_through_the_database(entries):
    with transaction.atomic():
        run = make_run()
        ExecutionLogEntry.objects.bulk_create(
            serializers.log_entry_row(run.id, 1, e) for e in entries
        )
        rows = ExecutionLogEntry.objects.filter(run=run).order_by("id")
        assert list(serializers.log_entries_from_rows(rows).entries) == entries
        transaction.set_rollback(True)


def test_empty_requirement_changed_entry_keeps_its_kind():
    msg = tryjob_pb.ExecutionLogEntry()
    msg.time.seconds = 1
    msg.requirement_changed.SetInParent()
    row = serializers.log_entry_row("p/1", 1, msg)
    assert bytes(row.detail) == b""
    assert serializers.log_entry_from_row(row).SerializeToString() == bytes.fromhex("0a0208011200")


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda m: m.ClearField("time"), "entry.time: a log entry needs a time"),
        (lambda m: m.ClearField("requirement_changed"), "entry.kind: a log entry needs a kind"),
        (lambda m: m.MergeFromString(b"\xf8\x01\x01"), "unknown fields"),
    ],
)
def test_invalid_log_entries_are_refused(build, message):
    msg = tryjob_pb.ExecutionLogEntry()
    msg.time.seconds = 1
    msg.requirement_changed.SetInParent()
    build(msg)
    with pytest.raises(InvalidMessage, match=message):
        serializers.log_entry_row("p/1", 1, msg)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (
            lambda s: setattr(s.executions[0].attempts[0], "external_id", "b/" + "x" * 400),
            r"executions\[0\].attempts\[0\].external_id: is 402 characters long; at most 300",
        ),
        (
            lambda s: setattr(s.failures.launch_failures[0], "reason", "bad\x00reason"),
            r"failures.launch_failures\[0\].reason: contains a NUL character",
        ),
        (
            lambda s: s.requirement.definitions[1].experiments.append("exp\x00"),
            r"executions\[1\].experiments: contains a NUL character",
        ),
    ],
)
def test_what_the_database_cannot_hold_is_refused_by_name(mutate, message):
    msg = wide_state(2, 1)
    mutate(msg)
    with pytest.raises(InvalidMessage, match=message):
        serializers.execution_state_rows("p/1", msg)


def test_an_oversized_tryjob_column_is_refused_by_name():
    with pytest.raises(InvalidMessage, match=r"tryjob.builder_name: is 300 characters long"):
        serializers.tryjob_columns(definition=definition("b" * 300), status=tryjob_pb.PENDING)
