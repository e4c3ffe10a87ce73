"""google.protobuf.Timestamp <-> timezone-aware UTC datetime.

Databases keep microseconds, as Datastore did upstream, so nanoseconds are truncated to whole
microseconds (towards the past, also for times before 1970).
"""

from datetime import UTC, datetime, timedelta

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_datetime(ts: Timestamp) -> datetime:
    return EPOCH + timedelta(seconds=ts.seconds, microseconds=ts.nanos // 1000)


def to_timestamp(dt: datetime) -> Timestamp:
    ts = Timestamp()
    write_timestamp(ts, dt)
    return ts


def write_timestamp(ts: Timestamp, dt: datetime) -> None:
    """Sets `ts` (e.g. a message's own field, saving a copy) to the aware datetime `dt`."""
    if dt.tzinfo is None:
        raise ValueError(f"naive datetime {dt.isoformat()} has no timezone; times are UTC-aware")
    delta = dt - EPOCH
    ts.seconds = delta.days * 86400 + delta.seconds
    ts.nanos = delta.microseconds * 1000


def truncated_to_micros(msg: Message) -> Message:
    """A copy of `msg` whose every Timestamp, at any depth, is truncated to microseconds."""
    copy = type(msg)()
    copy.CopyFrom(msg)
    _truncate_in_place(copy)
    return copy


def _truncate_in_place(msg: Message) -> None:
    if msg.DESCRIPTOR.full_name == Timestamp.DESCRIPTOR.full_name:
        msg.nanos -= msg.nanos % 1000
        return
    for field, value in msg.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            if field.message_type.fields_by_name["value"].message_type is not None:
                for item in value.values():
                    _truncate_in_place(item)
        elif field.is_repeated:
            for item in value:
                _truncate_in_place(item)
        else:
            _truncate_in_place(value)
