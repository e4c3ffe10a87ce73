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

    Both sides are truncated: verbatim parts of `rebuilt` keep their nanoseconds.
    """
    if truncated_to_micros(rebuilt) != truncated_to_micros(original):
        raise InvalidMessage(
            field, "carries fields cvsite cannot store (unknown fields or unsupported content)"
        )
