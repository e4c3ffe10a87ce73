"""Errors for messages that cannot be stored, and the check that storing loses nothing."""

from google.protobuf.message import Message

from cvproto.times import truncated_to_micros


class InvalidMessage(ValueError):
    """A message that will not be stored; the text names the field and the reason."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def enum_name(enum_type, number: int) -> str:
    """The value's name, or its number when the (open) enum does not know it."""
    value = enum_type.DESCRIPTOR.values_by_number.get(number)
    return value.name if value else str(number)


def ensure_stored_whole(original: Message, rebuilt: Message, field: str) -> None:
    """Refuses `original` unless the rows rebuild it, up to time precision (microseconds).

    Both sides are truncated: verbatim parts of `rebuilt` keep their nanoseconds. Equal
    messages (the usual case: times with no nanoseconds) are the same once truncated, and
    comparing them is much cheaper than copying and truncating both.
    """
    if rebuilt != original and truncated_to_micros(rebuilt) != truncated_to_micros(original):
        raise InvalidMessage(
            field, "carries fields cvsite cannot store (unknown fields or unsupported content)"
        )


# The range google/protobuf/timestamp.proto allows: 0001-01-01T00:00:00Z..9999-12-31T23:59:59Z,
# nanos 0..999,999,999. The binary and text encodings can carry any value; Python cannot hold
# a datetime outside it, and no stored row may.
MIN_TIMESTAMP_SECONDS = -62_135_596_800
MAX_TIMESTAMP_SECONDS = 253_402_300_799
MAX_NANOS = 999_999_999
_TIMESTAMP = "google.protobuf.Timestamp"


def check_timestamps(message: Message, path: str = "") -> None:
    """Raises InvalidMessage naming the first Timestamp, at any depth, outside its range.

    Fields only stored verbatim count too: what cvsite keeps must decode anywhere.
    """
    if message.DESCRIPTOR.full_name == _TIMESTAMP:
        _check_timestamp(message, path or "timestamp")
        return
    for field in _fields_with_timestamps(message.DESCRIPTOR):
        name = f"{path}.{field.name}" if path else field.name
        if field.message_type.GetOptions().map_entry:
            for key, value in getattr(message, field.name).items():
                if isinstance(value, Message):
                    check_timestamps(value, f"{name}[{key!r}]")
        elif field.is_repeated:
            for i, item in enumerate(getattr(message, field.name)):
                check_timestamps(item, f"{name}[{i}]")
        elif message.HasField(field.name):
            check_timestamps(getattr(message, field.name), name)


def _check_timestamp(ts: Message, path: str) -> None:
    if not MIN_TIMESTAMP_SECONDS <= ts.seconds <= MAX_TIMESTAMP_SECONDS:
        raise InvalidMessage(
            path, f"seconds {ts.seconds} is outside 0001-01-01..9999-12-31 (a Timestamp's range)"
        )
    if not 0 <= ts.nanos <= MAX_NANOS:
        raise InvalidMessage(path, f"nanos {ts.nanos} is outside 0..{MAX_NANOS}")


_WITH_TIMESTAMPS: dict[str, tuple] = {}


def _fields_with_timestamps(descriptor) -> tuple:
    """The message fields of `descriptor` through which a Timestamp can be reached."""
    cached = _WITH_TIMESTAMPS.get(descriptor.full_name)
    if cached is None:
        reaching = _types_reaching_timestamp(descriptor)
        cached = tuple(
            field
            for field in descriptor.fields
            if field.message_type is not None and field.message_type.full_name in reaching
        )
        _WITH_TIMESTAMPS[descriptor.full_name] = cached
    return cached


def _types_reaching_timestamp(root) -> set[str]:
    """Names of the message types reachable from `root` that contain a Timestamp at any
    depth (types may be recursive, so this is a fixpoint, not a walk)."""
    types = {}
    pending = [root]
    while pending:
        descriptor = pending.pop()
        if descriptor.full_name not in types:
            types[descriptor.full_name] = descriptor
            pending.extend(f.message_type for f in descriptor.fields if f.message_type)
    reaching = {_TIMESTAMP} & types.keys()
    grew = True
    while grew:
        grew = False
        for name, descriptor in types.items():
            if name not in reaching and any(
                f.message_type and f.message_type.full_name in reaching for f in descriptor.fields
            ):
                reaching.add(name)
                grew = True
    return reaching
