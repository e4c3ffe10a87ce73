"""Protobuf wire format pieces, for writing a message from parts that are already encoded."""

from functools import cache

LENGTH_DELIMITED = 2

_SINGLE_BYTES = [bytes((value,)) for value in range(0x80)]


def varint(value: int) -> bytes:
    """A base-128 varint; negative values as their 64-bit two's complement, as int64 is."""
    if 0 <= value < 0x80:
        return _SINGLE_BYTES[value]
    if 0 < value < 0x4000:  # lengths of most sub-messages: two bytes
        return bytes((value & 0x7F | 0x80, value >> 7))
    value &= (1 << 64) - 1
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


@cache
def tag(field_number: int, wire_type: int) -> bytes:
    return varint(field_number << 3 | wire_type)


def length_delimited(field_number: int, payload: bytes) -> bytes:
    """One length-delimited field (string, bytes or sub-message) with its tag: appending it
    to an encoded message is the same as setting (or adding to) that field."""
    return b"".join((tag(field_number, LENGTH_DELIMITED), varint(len(payload)), payload))
