"""Run-side rows <-> messages: database round trips, verbatim parts, validation, query counts."""

from datetime import UTC, datetime

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings

from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.gerrit import gerrit_pb2
from cvproto.migration import migration_pb2 as migration_pb
from cvproto.times import to_datetime
from cvproto.validation import InvalidMessage
from runs import serializers
from runs.ids import RunID
from runs.models import CL, FinishedCQDRun, RunCL, RunCLDep, VerifiedCQDRun
from runs.tests import strategies
from runs.tests.factories import BASE_TIME, make_run

db_examples = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

Action = migration_pb.ReportVerifiedRunRequest.Action
NOW = datetime(2026, 1, 6, 8, 30, 15, 123456, tzinfo=UTC)
ATTEMPT_KEY = "0123456789abcdef"
RUN_ID = str(RunID.new("chromium", BASE_TIME, ATTEMPT_KEY))
HOST = "x-review.googlesource.com"

# Unknown fields, as a newer peer would send them (numbers cvsite's protos do not declare).
ATTEMPT_ACTUAL_START_TIME = bytes.fromhex("6a060880fabc8406")  # Attempt 13 (at B), a Timestamp
GERRIT_CHANGE_OWNER = bytes.fromhex("4a036f40785001")  # GerritChange 9 "o@x", 10 true (at B)
CHANGE_INFO_SUBJECT = bytes.fromhex("b201047375626a")  # ChangeInfo 22 "subj" (at B)
COMMIT_AUTHOR = bytes.fromhex("22060a016e120165")  # CommitInfo 4 GitPersonInfo{n, e} (at B)
REQUEST_TEST_MODE = bytes.fromhex("a80101")  # ReportVerifiedRunRequest 21, removed in May 2021
TRIGGER_DRY_RUN = bytes.fromhex("1001")  # RunCL.Trigger 2, removed in Dec 2020

# wire.md §12.5: migration.RunCL {id 9, gc{host, change 123, patchset 3, mode FULL_RUN},
# files ["a/b.txt"], trigger{time 1620000000 s, account_id 1}, deps [{id 8, hard true}]}.
GOLDEN_RUN_CL = bytes.fromhex(
    "080912210a19782d7265766965772e676f6f676c65736f757263652e636f6d187b20033802"
    "2207612f622e7478742a0a0a060880fabc84061801320408081001"
)
# The same RunCL with what cvsite requires of a stored one: gc.earliest_equivalent_patchset
# in 1..patchset.
GOLDEN_RUN_CL_AS_STORED = bytes.fromhex(
    "080912230a19782d7265766965772e676f6f676c65736f757263652e636f6d187b2003280138022207612f62"
    "2e7478742a0a0a060880fabc84061801320408081001"
)


# bigquery.Attempt through FinishedCQDRun ----------------------------------------------------


def save_finished_run(msg: migration_pb.ReportedRun) -> FinishedCQDRun:
    row = FinishedCQDRun.objects.create(update_time=NOW, **serializers.reported_run_columns(msg))
    return FinishedCQDRun.objects.get(pk=row.pk)


@pytest.mark.django_db
@db_examples
@given(strategies.reported_runs())
def test_reported_run_round_trips_through_a_finished_cqd_run_row(msg):
    with transaction.atomic():
        row = save_finished_run(msg)
        assert serializers.reported_run_from_row(row) == msg
        attempt = msg.attempt
        assert row.reported_id == msg.id
        assert row.update_time == NOW
        assert (row.attempt_key, row.attempt_project, row.attempt_config_group) == (
            attempt.key,
            attempt.luci_project,
            attempt.config_group,
        )
        assert (row.attempt_status, row.attempt_substatus) == (attempt.status, attempt.substatus)
        for column, name in (
            ("attempt_start_time", "start_time"),
            ("attempt_end_time", "end_time"),
        ):
            expected = to_datetime(getattr(attempt, name)) if attempt.HasField(name) else None
            assert getattr(row, column) == expected
        transaction.set_rollback(True)


@pytest.mark.django_db
@db_examples
@given(strategies.attempts())
def test_unknown_attempt_fields_survive_a_finished_cqd_run_row_byte_for_byte(attempt):
    with_nested = bq_pb.Attempt()
    with_nested.CopyFrom(attempt)
    with_nested.gerrit_changes.add(host=HOST, change=1).MergeFromString(GERRIT_CHANGE_OWNER)
    raw = with_nested.SerializeToString(deterministic=True) + ATTEMPT_ACTUAL_START_TIME
    assert GERRIT_CHANGE_OWNER in raw and raw.endswith(ATTEMPT_ACTUAL_START_TIME)
    msg = migration_pb.ReportedRun(attempt=bq_pb.Attempt.FromString(raw))
    with transaction.atomic():
        row = save_finished_run(msg)
        assert bytes(row.attempt) == raw
        back = serializers.reported_run_from_row(row)
        assert back.attempt.SerializeToString(deterministic=True) == raw
        assert back == msg
        transaction.set_rollback(True)


def test_attempt_times_keep_nanoseconds_verbatim_and_microseconds_in_columns():
    attempt = bq_pb.Attempt(key=ATTEMPT_KEY)
    attempt.start_time.seconds, attempt.start_time.nanos = 1620000000, 123456789
    columns = serializers.attempt_columns(attempt)
    assert columns["attempt_start_time"] == datetime(2021, 5, 3, 0, 0, 0, 123456, tzinfo=UTC)
    assert columns["attempt_end_time"] is None
    back = serializers.attempt_from_row(FinishedCQDRun(**columns))
    assert back.start_time.nanos == 123456789
    assert back == attempt


# ReportVerifiedRunRequest through VerifiedCQDRun -------------------------------------------


def save_verified_run(msg: migration_pb.ReportVerifiedRunRequest) -> VerifiedCQDRun:
    run = make_run(id=RUN_ID, cqd_attempt_key=ATTEMPT_KEY)
    row = serializers.verified_run_row(run.id, msg)
    row.update_time = NOW
    row.save(force_insert=True)
    return VerifiedCQDRun.objects.get(run=run)


@pytest.mark.django_db
@db_examples
@given(strategies.report_verified_run_requests(RUN_ID))
def test_verified_run_request_round_trips_through_a_verified_cqd_run_row(msg):
    expected = migration_pb.ReportVerifiedRunRequest()
    expected.CopyFrom(msg)
    expected.run.id = RUN_ID  # the row's run fills in an empty run.id
    with transaction.atomic():
        row = save_verified_run(msg)
        assert serializers.verified_run_request_from_row(row) == expected
        assert (row.action, row.final_message, row.update_time) == (
            msg.action,
            msg.final_message,
            NOW,
        )
        assert row.attempt_key == msg.run.attempt.key
        transaction.set_rollback(True)


@pytest.mark.django_db
@db_examples
@given(strategies.report_verified_run_requests(RUN_ID))
def test_unknown_attempt_fields_survive_a_verified_cqd_run_row_byte_for_byte(msg):
    raw = msg.run.attempt.SerializeToString(deterministic=True) + ATTEMPT_ACTUAL_START_TIME
    msg.run.attempt.CopyFrom(bq_pb.Attempt.FromString(raw))
    with transaction.atomic():
        row = save_verified_run(msg)
        back = serializers.verified_run_request_from_row(row)
        assert back.run.attempt.SerializeToString(deterministic=True) == raw
        transaction.set_rollback(True)


def test_verified_run_with_nanoseconds_in_the_attempt_is_kept_whole():
    msg = verified_request()
    msg.run.attempt.end_time.seconds, msg.run.attempt.end_time.nanos = 1620000000, 999
    row = serializers.verified_run_row(RUN_ID, msg)
    assert serializers.verified_run_request_from_row(row) == msg
    assert row.attempt_end_time == datetime(2021, 5, 3, tzinfo=UTC)


def test_golden_verified_run_request_is_stored_without_loss():
    # wire.md §12.5
    raw = bytes.fromhex("0a170a050a016b4804120e70726f6a2f3132332d312d61626358036203626164")
    msg = migration_pb.ReportVerifiedRunRequest.FromString(raw)
    row = serializers.verified_run_row("proj/123-1-abc", msg)
    assert (row.action, row.final_message, row.attempt_key) == (Action.ACTION_FAIL, "bad", "k")
    rebuilt = serializers.verified_run_request_from_row(row)
    assert rebuilt.SerializeToString(deterministic=True) == raw


# migration.RunCL through RunCL + RunCLDep -----------------------------------------------------


def store_run_cls(run, pairs) -> None:
    """Creates the CL rows, then stores each RunCL message of `pairs` as the run's CLs."""
    clids = [clid for (clid, _, _), _ in pairs]
    for (clid, host, change), msg in pairs:
        CL.objects.create(
            id=clid,
            host=host,
            change=change,
            patchset=msg.gc.patchset,
            min_equivalent_patchset=msg.gc.earliest_equivalent_patchset,
            info=b"",
        )
    cls = CL.objects.in_bulk(clids)
    run_cls, deps = [], []
    for position, ((clid, _, _), msg) in enumerate(pairs):
        run_cl, run_cl_deps = serializers.run_cl_rows(run.id, position, msg, cls[clid], clids)
        run_cls.append(run_cl)
        deps.extend(run_cl_deps)
    RunCL.objects.bulk_create(run_cls)
    RunCLDep.objects.bulk_create(deps)


def load_run_cls(run) -> list[migration_pb.RunCL]:
    rows = RunCL.objects.filter(run=run).select_related("cl").prefetch_related("deps")
    return [serializers.run_cl_message(row) for row in rows]


@pytest.mark.django_db
@db_examples
@given(strategies.runs_of_cls())
def test_run_cls_round_trip_through_the_database(pairs):
    with transaction.atomic():
        run = make_run()
        store_run_cls(run, pairs)
        assert load_run_cls(run) == [msg for _, msg in pairs]
        rows = RunCL.objects.filter(run=run).order_by("position")
        for row, (_, msg) in zip(rows, pairs, strict=True):
            assert row.trigger_mode == bq_pb.Mode.Name(msg.gc.mode)
            assert row.gerrit_project == msg.gc.project
            assert row.current_revision == msg.info.current_revision
            assert row.owner_email == msg.info.owner.email
            assert row.external_update_time == (
                to_datetime(msg.info.updated) if msg.info.HasField("updated") else None
            )
        transaction.set_rollback(True)


@pytest.mark.django_db
@db_examples
@given(strategies.runs_of_cls(max_cls=2))
def test_unknown_change_info_fields_survive_the_database_byte_for_byte(pairs):
    raws = []
    for _, msg in pairs:
        commit = msg.info.revisions[msg.info.current_revision].commit
        commit.MergeFromString(COMMIT_AUTHOR)
        raw = msg.info.SerializeToString(deterministic=True) + CHANGE_INFO_SUBJECT
        assert COMMIT_AUTHOR in raw
        msg.info.CopyFrom(gerrit_pb2.ChangeInfo.FromString(raw))
        raws.append(raw)
    with transaction.atomic():
        run = make_run()
        store_run_cls(run, pairs)
        loaded = load_run_cls(run)
        assert [m.info.SerializeToString(deterministic=True) for m in loaded] == raws
        assert loaded == [msg for _, msg in pairs]
        transaction.set_rollback(True)


def run_cl_message(clid=9, change=123, deps=((8, True),)) -> migration_pb.RunCL:
    """A valid RunCL of CL `clid` (HOST/change) at patchset 3."""
    msg = migration_pb.RunCL(
        id=clid,
        gc=bq_pb.GerritChange(
            host=HOST,
            project="p",
            change=change,
            patchset=3,
            earliest_equivalent_patchset=2,
            mode=bq_pb.FULL_RUN,
        ),
        info=gerrit_pb2.ChangeInfo(
            number=change,
            project="p",
            current_revision="abc",
            revisions={
                "abc": gerrit_pb2.RevisionInfo(number=3),
                "def": gerrit_pb2.RevisionInfo(number=2),
            },
        ),
        files=["a/b.txt"],
        trigger=migration_pb.RunCL.Trigger(account_id=1, email="u@example.com"),
        deps=[migration_pb.RunCL.Dep(id=i, hard=hard) for i, hard in deps],
    )
    msg.trigger.time.FromSeconds(1620000000)
    return msg


def test_a_valid_run_cl_makes_rows():
    cl = CL(id=9, host=HOST, change=123, patchset=1, min_equivalent_patchset=1, info=b"")
    run_cl, deps = serializers.run_cl_rows(RUN_ID, 4, run_cl_message(), cl, [8, 9])
    assert (run_cl.run_id, run_cl.cl_id, run_cl.position) == (RUN_ID, 9, 4)
    assert (run_cl.patchset, run_cl.min_equivalent_patchset) == (3, 2)
    assert (run_cl.trigger_mode, run_cl.trigger_account_id) == ("FULL_RUN", 1)
    assert run_cl.trigger_time == datetime(2021, 5, 3, tzinfo=UTC)
    assert [(d.depends_on_id, d.kind, d.position) for d in deps] == [(8, 1, 0)]
    assert serializers.run_cl_message(run_cl, deps) == run_cl_message()


def test_run_cl_nanoseconds_are_truncated_in_columns_and_kept_in_the_info():
    msg = run_cl_message()
    msg.trigger.time.nanos = 1500
    msg.info.updated.seconds, msg.info.updated.nanos = 1620000000, 999
    cl = CL(id=9, host=HOST, change=123, patchset=1, min_equivalent_patchset=1, info=b"")
    run_cl, deps = serializers.run_cl_rows(RUN_ID, 0, msg, cl, [8, 9])
    assert run_cl.trigger_time == datetime(2021, 5, 3, 0, 0, 0, 1, tzinfo=UTC)
    assert run_cl.external_update_time == datetime(2021, 5, 3, tzinfo=UTC)
    expected = migration_pb.RunCL()
    expected.CopyFrom(msg)
    expected.trigger.time.nanos = 1000
    back = serializers.run_cl_message(run_cl, deps)
    assert back == expected
    assert back.info.updated.nanos == 999


def test_golden_run_cl_vector_decodes_to_the_documented_message():
    msg = migration_pb.RunCL.FromString(GOLDEN_RUN_CL)
    expected = migration_pb.RunCL(
        id=9,
        gc=bq_pb.GerritChange(host=HOST, change=123, patchset=3, mode=bq_pb.FULL_RUN),
        files=["a/b.txt"],
        trigger=migration_pb.RunCL.Trigger(account_id=1),
        deps=[migration_pb.RunCL.Dep(id=8, hard=True)],
    )
    expected.trigger.time.FromSeconds(1620000000)
    assert msg == expected
    assert not msg.HasField("info")
    assert msg.SerializeToString(deterministic=True) == GOLDEN_RUN_CL


def test_golden_run_cl_vector_needs_a_real_earliest_equivalent_patchset():
    """The §12.5 vector leaves gc.earliest_equivalent_patchset 0; patchsets start at 1."""
    msg = migration_pb.RunCL.FromString(GOLDEN_RUN_CL)
    cl = CL(id=9, host=HOST, change=123, patchset=3, min_equivalent_patchset=1, info=b"")
    with pytest.raises(InvalidMessage, match=r"must be in 1\.\.3 \(the patchset\), got 0") as err:
        serializers.run_cl_rows(RUN_ID, 0, msg, cl, [8, 9])
    assert err.value.field == "cl.gc.earliest_equivalent_patchset"


@pytest.mark.django_db
def test_golden_run_cl_vector_round_trips_through_the_database():
    msg = migration_pb.RunCL.FromString(GOLDEN_RUN_CL)
    msg.gc.earliest_equivalent_patchset = 1
    assert msg.SerializeToString(deterministic=True) == GOLDEN_RUN_CL_AS_STORED
    dep = run_cl_message(clid=8, change=122, deps=())
    run = make_run()
    store_run_cls(run, [((8, HOST, 122), dep), ((9, HOST, 123), msg)])
    assert RunCLDep.objects.get().depends_on_id == 8
    loaded_dep, loaded = load_run_cls(run)
    assert loaded_dep == dep
    assert loaded.SerializeToString(deterministic=True) == GOLDEN_RUN_CL_AS_STORED
    # Without that one addition, the stored CL encodes as the golden vector, byte for byte.
    loaded.gc.ClearField("earliest_equivalent_patchset")
    assert loaded.SerializeToString(deterministic=True) == GOLDEN_RUN_CL


# Validation ----------------------------------------------------------------------------------


def refused(call, field: str, message: str) -> None:
    with pytest.raises(InvalidMessage, match=message) as err:
        call()
    assert err.value.field == field


@pytest.mark.parametrize(
    "patchset, min_equivalent, revision_number, field, message",
    [
        (0, 1, 0, "info.patchset", "must be at least 1, got 0"),
        (-2, 1, -2, "info.patchset", "must be at least 1, got -2"),
        (3, 0, 3, "info.min_equivalent_patchset", r"must be in 1\.\.3 \(the patchset\), got 0"),
        (3, 4, 3, "info.min_equivalent_patchset", r"must be in 1\.\.3 \(the patchset\), got 4"),
        (3, 1, 2, "info.revisions[abc].number", "the current revision is patchset 2, not 3"),
    ],
)
def test_invalid_change_snapshots_are_refused(
    patchset, min_equivalent, revision_number, field, message
):
    info = gerrit_pb2.ChangeInfo(current_revision="abc")
    info.revisions["abc"].number = revision_number
    refused(
        lambda: serializers.change_snapshot_columns(
            info, patchset=patchset, min_equivalent_patchset=min_equivalent, files=[]
        ),
        field,
        message,
    )


def test_change_snapshot_columns_extract_the_searchable_parts():
    info = gerrit_pb2.ChangeInfo(
        project="p",
        ref="refs/heads/main",
        status=gerrit_pb2.MERGED,
        current_revision="abc",
        owner=gerrit_pb2.AccountInfo(email="o@example.com", account_id=1),
    )
    info.revisions["abc"].number = 3
    info.updated.FromSeconds(1620000000)
    columns = serializers.change_snapshot_columns(
        info, patchset=3, min_equivalent_patchset=3, files=("a", "b")
    )
    assert columns == {
        "patchset": 3,
        "min_equivalent_patchset": 3,
        "external_update_time": datetime(2021, 5, 3, tzinfo=UTC),
        "gerrit_project": "p",
        "gerrit_ref": "refs/heads/main",
        "owner_email": "o@example.com",
        "current_revision": "abc",
        "change_status": gerrit_pb2.MERGED,
        "info": info.SerializeToString(deterministic=True),
        "files": ["a", "b"],
    }
    assert serializers.change_info_from_row(CL(info=columns["info"])) == info


def add_unknown(msg, raw: bytes) -> None:
    msg.MergeFromString(raw)


@pytest.mark.parametrize(
    "mutate, field, message",
    [
        (lambda m: setattr(m.gc, "patchset", 0), "cl.gc.patchset", "must be at least 1, got 0"),
        (
            lambda m: setattr(m.gc, "earliest_equivalent_patchset", 0),
            "cl.gc.earliest_equivalent_patchset",
            r"must be in 1\.\.3 \(the patchset\), got 0",
        ),
        (
            lambda m: setattr(m.gc, "earliest_equivalent_patchset", 4),
            "cl.gc.earliest_equivalent_patchset",
            r"must be in 1\.\.3 \(the patchset\), got 4",
        ),
        (
            lambda m: setattr(m.info.revisions["abc"], "number", 2),
            "cl.info.revisions[abc].number",
            "the current revision is patchset 2, not 3",
        ),
        (
            lambda m: setattr(m, "id", 10),
            "cl.id",
            f"is 10, but the CL {HOST}/123 has CLID 9",
        ),
        (
            lambda m: setattr(m.gc, "host", "y-review.googlesource.com"),
            "cl.gc",
            f"names y-review.googlesource.com/123, but CL 9 is {HOST}/123",
        ),
        (
            lambda m: setattr(m.gc, "change", 124),
            "cl.gc",
            f"names {HOST}/124, but CL 9 is {HOST}/123",
        ),
        (lambda m: setattr(m.gc, "mode", 0), "cl.gc.mode", "MODE_UNSPECIFIED is not a trigger"),
        (lambda m: setattr(m.gc, "mode", 7), "cl.gc.mode", "7 is not a trigger mode"),
        (lambda m: m.ClearField("trigger"), "cl.trigger.time", "a run CL needs a trigger time"),
        (
            lambda m: m.trigger.ClearField("time"),
            "cl.trigger.time",
            "a run CL needs a trigger time",
        ),
        (
            lambda m: (
                m.gc.trigger_time.CopyFrom(m.trigger.time),
                setattr(m.gc.trigger_time, "seconds", m.gc.trigger_time.seconds + 1),
            ),
            "cl.gc.trigger_time",
            "must be unset or equal trigger.time",
        ),
        (
            lambda m: setattr(m.info, "project", "q"),
            "cl.info.project",
            "is 'q', but gc.project is 'p'",
        ),
        (
            lambda m: m.deps.add(id=9),
            "cl.deps[1].id",
            "CL 9 is not another CL of this run",
        ),
        (
            lambda m: m.deps.add(id=7, hard=True),
            "cl.deps[1].id",
            "CL 7 is not another CL of this run",
        ),
        (lambda m: m.deps.add(id=8, hard=False), "cl.deps", "lists a CL twice"),
        (
            lambda m: setattr(m.gc, "submit_status", bq_pb.GerritChange.SUCCESS),
            "cl",
            "carries fields cvsite cannot store",
        ),
        (lambda m: add_unknown(m, b"\xf8\x01\x01"), "cl", "carries fields cvsite cannot store"),
        (
            lambda m: add_unknown(m.trigger, TRIGGER_DRY_RUN),
            "cl",
            "carries fields cvsite cannot store",
        ),
    ],
)
def test_invalid_run_cls_are_refused(mutate, field, message):
    msg = run_cl_message()
    mutate(msg)
    cl = CL(id=9, host=HOST, change=123, patchset=1, min_equivalent_patchset=1, info=b"")
    refused(lambda: serializers.run_cl_rows(RUN_ID, 0, msg, cl, [8, 9]), field, message)


def verified_request(action=Action.ACTION_DRY_RUN_OK, final_message=""):
    return migration_pb.ReportVerifiedRunRequest(
        run=migration_pb.ReportedRun(
            id=RUN_ID, attempt=bq_pb.Attempt(key=ATTEMPT_KEY, status=bq_pb.SUCCESS)
        ),
        action=action,
        final_message=final_message,
    )


@pytest.mark.parametrize(
    "mutate, field, message",
    [
        (lambda m: setattr(m, "action", 0), "action", "ACTION_UNSPECIFIED is not an action"),
        (lambda m: setattr(m, "action", 9), "action", "9 is not an action"),
        (
            lambda m: setattr(m, "action", Action.ACTION_FAIL),
            "final_message",
            "ACTION_FAIL needs a final message",
        ),
        (lambda m: m.ClearField("run"), "run.attempt", "must be set"),
        (lambda m: m.run.ClearField("attempt"), "run.attempt", "must be set"),
        (lambda m: m.run.attempt.ClearField("key"), "run.attempt.key", "the attempt key must"),
        (
            lambda m: setattr(m.run, "id", "chromium/1-1-abc"),
            "run.id",
            f"names run 'chromium/1-1-abc', not '{RUN_ID}'",
        ),
        (
            lambda m: add_unknown(m, REQUEST_TEST_MODE),
            "request",
            "carries fields cvsite cannot store",
        ),
        (
            lambda m: add_unknown(m.run, b"\x18\x01"),
            "request",
            "carries fields cvsite cannot store",
        ),
        (
            lambda m: (
                setattr(m, "action", Action.ACTION_FAIL),
                setattr(m, "final_message", "\x00"),
            ),
            "request.final_message",
            "contains a NUL character",
        ),
        (
            lambda m: setattr(m.run.attempt, "config_group", "g" * 256),
            "run.attempt.attempt_config_group",
            "is 256 characters long; at most 255 are stored",
        ),
    ],
)
def test_invalid_verified_run_requests_are_refused(mutate, field, message):
    msg = verified_request()
    mutate(msg)
    refused(lambda: serializers.verified_run_row(RUN_ID, msg), field, message)


@pytest.mark.parametrize("action", [Action.ACTION_SUBMIT, Action.ACTION_DRY_RUN_OK])
def test_actions_other_than_fail_need_no_message(action):
    row = serializers.verified_run_row(RUN_ID, verified_request(action))
    assert (row.run_id, row.action, row.final_message) == (RUN_ID, action, "")


def test_fail_with_a_message_is_accepted():
    row = serializers.verified_run_row(RUN_ID, verified_request(Action.ACTION_FAIL, "no LGTM"))
    assert (row.action, row.final_message) == (Action.ACTION_FAIL, "no LGTM")


@pytest.mark.parametrize(
    "call, field, message",
    [
        (
            lambda: serializers.reported_run_columns(migration_pb.ReportedRun(id=RUN_ID)),
            "run.attempt",
            "must be set",
        ),
        (
            lambda: serializers.reported_run_columns(
                migration_pb.ReportedRun(attempt=bq_pb.Attempt(luci_project="p"))
            ),
            "run.attempt.key",
            "the attempt key must be set",
        ),
        (
            lambda: serializers.attempt_columns(bq_pb.Attempt()),
            "attempt.key",
            "the attempt key must be set",
        ),
        (
            lambda: serializers.reported_run_columns(migration_pb.ReportedRun(), "runs[3]"),
            "runs[3].attempt",
            "must be set",
        ),
        (
            lambda: serializers.attempt_columns(bq_pb.Attempt(key="k" * 65)),
            "attempt.attempt_key",
            "is 65 characters long; at most 64 are stored",
        ),
        (
            lambda: serializers.attempt_columns(bq_pb.Attempt(key="k", status=40000)),
            "attempt.attempt_status",
            "40000 is outside -32768..32767",
        ),
    ],
)
def test_invalid_reported_runs_are_refused(call, field, message):
    refused(call, field, message)


# Modes and query counts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "mode, expected",
    [
        ("DRY_RUN", bq_pb.DRY_RUN),
        ("FULL_RUN", bq_pb.FULL_RUN),
        ("QUICK_DRY_RUN", bq_pb.QUICK_DRY_RUN),
        ("NEW_PATCHSET_RUN", bq_pb.MODE_UNSPECIFIED),
        ("MODE_UNSPECIFIED", bq_pb.MODE_UNSPECIFIED),
        ("", bq_pb.MODE_UNSPECIFIED),
    ],
)
def test_mode_to_bigquery(mode, expected):
    assert serializers.mode_to_bigquery(mode) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("cls", [1, 10])
def test_loading_a_runs_cls_takes_constant_queries(cls, django_assert_num_queries):
    run = make_run()
    clids = list(range(101, 101 + cls))
    pairs = [
        (
            (clid, HOST, clid + 1000),
            run_cl_message(
                clid, clid + 1000, deps=[(d, d == clid - 1) for d in clids if d < clid][-3:]
            ),
        )
        for clid in clids
    ]
    store_run_cls(run, pairs)
    assert RunCLDep.objects.count() == sum(len(m.deps) for _, m in pairs)
    # RunCLs joined with their CLs, then every dependency in one query.
    with django_assert_num_queries(2):
        loaded = load_run_cls(run)
    assert loaded == [msg for _, msg in pairs]
