"""The JSON reader of backfill input: every flavour in, exact messages or named errors out."""

import json

import pytest
from google.protobuf import json_format

from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.buildbucket.v2 import build_pb2
from importers.backfill.jsonpb import JSONRecordError, parse_message, parse_timestamp_text


def full_attempt() -> bq_pb.Attempt:
    attempt = bq_pb.Attempt(
        key="0a6686c7f19a33a3",
        luci_project="chromium",
        cl_group_key="c1",
        equivalent_cl_group_key="e1",
        status=bq_pb.SUCCESS,
        substatus=bq_pb.NO_SUBSTATUS,
        config_group="default",
        has_custom_requirement=True,
    )
    attempt.start_time.FromJsonString("2021-05-11T10:00:00.123456Z")
    attempt.end_time.FromJsonString("2021-05-11T10:30:00.000000001Z")
    gc = attempt.gerrit_changes.add(
        host="x-review.googlesource.com",
        project="p",
        change=2**62,
        patchset=5,
        earliest_equivalent_patchset=4,
        mode=bq_pb.QUICK_DRY_RUN,
        submit_status=bq_pb.GerritChange.FAILURE,
    )
    gc.trigger_time.FromJsonString("2021-05-11T09:59:00.5Z")
    attempt.builds.add(id=2**63 - 1, host="bb", origin=bq_pb.Build.REUSED, critical=True)
    return attempt


@pytest.mark.parametrize("proto_names", [False, True])
def test_proto3_json_of_either_name_style_round_trips(proto_names):
    attempt = full_attempt()
    text = json_format.MessageToJson(attempt, preserving_proto_field_name=proto_names)

    assert parse_message(json.loads(text), bq_pb.Attempt()) == attempt


def test_bigquery_export_flavour():
    data = {
        "key": "0a6686c7f19a33a3",
        "luci_project": "chromium",
        "cl_group_key": "c1",
        "equivalent_cl_group_key": "e1",
        "start_time": "2021-05-11 10:00:00.123456 UTC",
        "end_time": "2021-05-11 10:30:00.000000001 UTC",
        "status": 2,
        "substatus": "1",
        "config_group": "default",
        "has_custom_requirement": "true",
        "gerrit_changes": [
            {
                "host": "x-review.googlesource.com",
                "project": "p",
                "change": 2**62,
                "patchset": "5",
                "earliest_equivalent_patchset": 4.0,
                "trigger_time": 1620727140.5,
                "mode": "QUICK_DRY_RUN",
                "submit_status": 3,
                "owner": "a column from a later schema",
            }
        ],
        "builds": [{"id": str(2**63 - 1), "host": "bb", "origin": "3", "critical": True}],
        "some_new_column": {"nested": [1, 2]},
        "actual_start_time": None,
    }

    assert parse_message(data, bq_pb.Attempt()) == full_attempt()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"key": 5}, "key: expected a string, got a number 5"),
        ({"status": "DONE"}, "status: unknown AttemptStatus value 'DONE'"),
        ({"status": 42}, "status: unknown AttemptStatus number 42"),
        ({"status": True}, "status: expected a AttemptStatus name or number, got a boolean"),
        ({"gerritChanges": {}}, "gerrit_changes: expected an array, got an object"),
        ({"gerritChanges": [None]}, "gerrit_changes[0]: null is not a message"),
        ({"gerritChanges": [{"change": "12a"}]}, "gerrit_changes[0].change: expected an integer"),
        ({"gerritChanges": [{"change": 1.5}]}, "gerrit_changes[0].change: expected an integer"),
        ({"gerritChanges": [{"change": True}]}, "gerrit_changes[0].change: expected an integer"),
        ({"builds": [{"id": str(2**63)}]}, "builds[0].id: 9223372036854775808 is outside"),
        ({"builds": [{"critical": "yes"}]}, "builds[0].critical: expected true or false"),
        ({"startTime": "2021-05-11"}, "start_time: '2021-05-11' is not a timestamp"),
        (
            {"startTime": "2021-02-29T00:00:00Z"},
            "start_time: '2021-02-29T00:00:00Z' is not a valid",
        ),
        ({"startTime": "2021-05-11T25:00:00Z"}, "is not a valid date and time"),
        ({"startTime": "2021-05-11T10:00:00"}, "is not a timestamp"),  # no zone
        ({"startTime": 1e20}, "start_time: 1e+20 seconds is outside years 1..9999"),
        ({"startTime": {"seconds": 5}}, "start_time: expected a timestamp, got an object"),
        ("a string", "expected a JSON object, got a string"),
    ],
)
def test_what_does_not_fit_is_named_with_its_path(data, error):
    with pytest.raises(JSONRecordError) as raised:
        parse_message(data, bq_pb.Attempt())

    assert error in str(raised.value)


def test_timestamps_with_offsets_and_nanoseconds():
    assert parse_timestamp_text("2021-05-11T12:00:00.5+02:00") == (1620727200, 500_000_000)
    assert parse_timestamp_text("2021-05-11T10:00:00.123456789Z") == (1620727200, 123_456_789)
    assert parse_timestamp_text("2021-05-11 10:00:00 UTC") == (1620727200, 0)
    assert parse_timestamp_text("1969-12-31T23:59:59Z") == (-1, 0)


def test_builds_with_structs_maps_and_durations():
    data = {
        "id": "8752643215461357665",
        "builder": {"project": "infra", "bucket": "try", "builder": "linux-rel"},
        "status": "SUCCESS",
        "schedulingTimeout": "3600s",
        "output": {"properties": {"a": [1, "x", {"b": None}], "do_not_retry": True}},
        "infra": {"buildbucket": {"experimentReasons": {"luci.x": "EXPERIMENT_REASON_REQUESTED"}}},
        "tags": [{"key": "cq_attempt_key", "value": "k"}],
        "statusDetails": {"timeout": {}},
    }
    expected = build_pb2.Build()
    json_format.ParseDict(data, expected)

    assert parse_message(data, build_pb2.Build()) == expected
    with pytest.raises(JSONRecordError, match=r"^infra\.buildbucket\.experiment_reasons\['x'\]"):
        parse_message(
            {"infra": {"buildbucket": {"experimentReasons": {"x": "NOPE"}}}}, build_pb2.Build()
        )
    with pytest.raises(JSONRecordError, match=r"^scheduling_timeout: "):
        parse_message({"schedulingTimeout": "an hour"}, build_pb2.Build())
