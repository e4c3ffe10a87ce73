"""Fields this schema does not know (removed or newer numbers) must survive.

Old CQDaemon payloads may carry numbers that were removed from the migration
API, and newer Gerrit/CV data may carry fields added after our snapshots. A
decode followed by an encode must keep those bytes.
"""

from __future__ import annotations

import pytest
from google.protobuf import timestamp_pb2
from google.protobuf.unknown_fields import UnknownFieldSet

from cvproto.bigquery import attempt_pb2
from cvproto.buildbucket.v2 import common_pb2
from cvproto.cv.internal.tryjob import storage_pb2
from cvproto.gerrit import gerrit_pb2
from cvproto.migration import migration_pb2
from cvproto.wire import length_delimited, tag, varint


def _roundtrip(cls, raw: bytes):
    msg = cls.FromString(raw)
    assert msg.SerializeToString() == raw
    return msg


def test_report_verified_run_removed_test_mode_21():
    known = migration_pb2.ReportVerifiedRunRequest(
        action=migration_pb2.ReportVerifiedRunRequest.ACTION_SUBMIT
    ).SerializeToString()
    raw = known + tag(21, 0) + b"\x01"  # test_mode = true
    assert raw.hex() == "5801a80101"
    msg = _roundtrip(migration_pb2.ReportVerifiedRunRequest, raw)
    assert msg.action == migration_pb2.ReportVerifiedRunRequest.ACTION_SUBMIT
    ((number, wire_type, value),) = [
        (f.field_number, f.wire_type, f.data) for f in UnknownFieldSet(msg)
    ]
    assert (number, wire_type, value) == (21, 0, 1)


def test_post_gerrit_message_response_removed_timestamp_1():
    ts = timestamp_pb2.Timestamp(seconds=1620000000).SerializeToString()
    raw = length_delimited(1, ts)
    msg = _roundtrip(migration_pb2.PostGerritMessageResponse, raw)
    assert msg.ListFields() == []


def test_fetch_active_runs_response_removed_runs_1():
    old_run = length_delimited(1, b"") + length_delimited(2, b"proj/1-1-abc")
    active = migration_pb2.ActiveRun(id="proj/1-1-abc").SerializeToString()
    # Unknown fields are re-emitted after the known ones.
    raw = length_delimited(2, active) + length_delimited(1, old_run)
    msg = _roundtrip(migration_pb2.FetchActiveRunsResponse, raw)
    assert [r.id for r in msg.active_runs] == ["proj/1-1-abc"]
    # In the order an old server wrote them, the content still survives.
    swapped = migration_pb2.FetchActiveRunsResponse.FromString(
        length_delimited(1, old_run) + length_delimited(2, active)
    )
    assert swapped.SerializeToString() == raw


def test_trigger_removed_dry_run_2_nested_in_runcl():
    trigger = migration_pb2.RunCL.Trigger(account_id=5).SerializeToString()
    trigger += tag(2, 0) + b"\x01"
    raw = migration_pb2.RunCL(id=3).SerializeToString() + length_delimited(5, trigger)
    msg = _roundtrip(migration_pb2.RunCL, raw)
    assert msg.trigger.account_id == 5


def test_fyi_deps_unknown_to_older_decoder_is_kept_by_us():
    run = migration_pb2.ActiveRun(
        id="p/1", fyi_deps=[migration_pb2.RunCL(id=7, files=["x"])]
    ).SerializeToString()
    assert run.startswith(bytes.fromhex("0a03702f31"))
    assert length_delimited(3, migration_pb2.RunCL(id=7, files=["x"]).SerializeToString()) in run
    assert migration_pb2.ActiveRun.FromString(run).fyi_deps[0].id == 7


def test_newer_gerrit_change_info_fields():
    ci = gerrit_pb2.ChangeInfo(number=1, project="p").SerializeToString()
    # subject (22) and branch (23) were added after the 2021 snapshot.
    raw = ci + length_delimited(22, b"Fix it") + length_delimited(23, b"main")
    msg = _roundtrip(gerrit_pb2.ChangeInfo, raw)
    assert msg.number == 1 and msg.project == "p"
    assert sorted(f.field_number for f in UnknownFieldSet(msg)) == [22, 23]


def test_old_tryjob_discarded_log_entry_shape():
    # Before July 2022 field 2 of TryjobDiscarded was an int64 tryjob_id
    # (VARINT); today it is a string (LEN). The mismatch is kept as unknown.
    raw = tag(2, 0) + varint(42) + length_delimited(4, b"stale")
    msg = _roundtrip(storage_pb2.ExecutionLogEntry.TryjobDiscarded, raw)
    assert msg.reason == ""
    assert sorted(f.field_number for f in UnknownFieldSet(msg)) == [2, 4]


@pytest.mark.parametrize(
    ("cls", "field", "value"),
    [
        (storage_pb2.Result.Buildbucket, "status", 99),  # future buildbucket Status
        (attempt_pb2.GerritChange, "mode", 3),  # QUICK_DRY_RUN, removed later
        (attempt_pb2.GerritChange, "mode", 17),
        (storage_pb2.ExecutionState.Execution.Attempt, "status", 42),
    ],
)
def test_open_enums_keep_unknown_numbers(cls, field, value):
    number = cls.DESCRIPTOR.fields_by_name[field].number
    raw = tag(number, 0) + varint(value)
    msg = _roundtrip(cls, raw)
    assert getattr(msg, field) == value


def test_buildbucket_status_known_value_in_result():
    raw = storage_pb2.Result.Buildbucket(id=1, status=common_pb2.SUCCESS).SerializeToString()
    assert raw == bytes.fromhex("0801100c")
