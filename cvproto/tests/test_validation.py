"""check_timestamps: every Timestamp in a message, at any depth, within the protobuf spec."""

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from cvproto.buildbucket.v2 import build_pb2
from cvproto.gerrit import gerrit_pb2
from cvproto.validation import (
    MAX_TIMESTAMP_SECONDS,
    MIN_TIMESTAMP_SECONDS,
    InvalidMessage,
    check_timestamps,
)


def test_a_timestamp_itself():
    check_timestamps(Timestamp(seconds=MAX_TIMESTAMP_SECONDS, nanos=999_999_999))
    check_timestamps(Timestamp(seconds=MIN_TIMESTAMP_SECONDS))
    with pytest.raises(InvalidMessage, match="^timestamp: seconds 253402300800 is outside"):
        check_timestamps(Timestamp(seconds=MAX_TIMESTAMP_SECONDS + 1))


def test_a_map_value_is_named_by_its_key():
    info = gerrit_pb2.ChangeInfo()
    info.revisions["abc"].created.seconds = MIN_TIMESTAMP_SECONDS - 1
    with pytest.raises(InvalidMessage) as raised:
        check_timestamps(info)
    assert raised.value.field == "revisions['abc'].created"


def test_a_recursive_message_type_is_walked_and_its_timestamps_found():
    # A Build holds Structs (recursive through Value and ListValue) beside its Timestamps.
    build = build_pb2.Build()
    build.input.properties.fields["a"].struct_value.fields["b"].list_value.values.add()
    check_timestamps(build)
    build.end_time.nanos = 1_000_000_000
    with pytest.raises(InvalidMessage, match="^end_time: nanos 1000000000 is outside"):
        check_timestamps(build)


def test_unset_timestamps_are_not_checked():
    check_timestamps(gerrit_pb2.ChangeInfo(number=1))
