"""JSON objects -> protobuf messages, in every JSON flavour backfill input comes in.

Accepted, field by field (google.protobuf.json_format accepts only the first of each):
  * names: the lowerCamelCase JSON name or the proto field name;
  * integers: JSON numbers or decimal strings ("123"), range-checked for the field's type;
  * enums: the value's name, or its number (a JSON number or a decimal string);
  * bools: true/false, or the strings "true"/"false" (some exports quote them);
  * Timestamps: RFC 3339 ("2021-05-11T10:00:00.123456Z", any offset), BigQuery's export text
    ("2021-05-11 10:00:00.123456 UTC"), or seconds since the epoch as a number;
  * null anywhere means "not set"; keys the message does not declare are ignored (later
    versions of a schema add fields; only the known ones can be kept).
Other well-known types (Struct, Duration, ...) are parsed by json_format. Everything else that
does not fit raises JSONRecordError naming the field path, e.g. `gerrit_changes[1].change`.

Field tables are built once per message type, so parsing costs a few dictionary lookups per
field: several times faster than json_format, which matters for millions of lines.
"""

import base64
import binascii
import calendar
import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

__all__ = ["JSONRecordError", "parse_message", "parse_timestamp_text"]

_TIME_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?"
    r"(?:(Z| ?UTC)|([+-])([0-9]{2}):?([0-9]{2}))",
    re.IGNORECASE,
)
# Up to microseconds, UTC: what datetime.fromisoformat reads exactly.
_FAST_TIME_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z| UTC)"
)
_EPOCH = datetime(1970, 1, 1)
# Timestamp's valid range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999999Z.
_MIN_SECONDS = -62135596800
_MAX_SECONDS = 253402300799

_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}
_FLOATS = (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE)
_TIMESTAMP = "google.protobuf.Timestamp"


class JSONRecordError(ValueError):
    """A JSON value that does not fit the message; `field` is its path, `reason` why."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


def parse_message(data: Any, message: Message, path: str = "") -> Message:
    """Fills `message` (normally new and empty) from the JSON object `data`; returns it."""
    if not isinstance(data, dict):
        raise JSONRecordError(path, f"expected a JSON object, got {_describe(data)}")
    table = _table(message.DESCRIPTOR)
    oneofs: dict[str, str] = {}
    for key, value in data.items():
        entry = table.get(key)
        if entry is None or value is None:
            continue
        name, setter, oneof = entry
        if oneof is not None:
            other = oneofs.setdefault(oneof, name)
            if other != name:
                raise JSONRecordError(
                    _join(path, name), f"{other} is set too, and both belong to oneof {oneof}"
                )
        setter(message, value, path)
    return message


def _join(path: str, name: str) -> str:
    if not path:
        return name
    return f"{path}{name}" if name.startswith("[") else f"{path}.{name}"


def _error(path: str, name: str, reason: str) -> JSONRecordError:
    """Field paths are only built when something is wrong: parsing stays cheap."""
    return JSONRecordError(_join(path, name), reason)


def _describe(value: Any) -> str:
    kind = {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
    }.get(type(value), type(value).__name__)
    text = repr(value) if not isinstance(value, (list, dict)) else ""
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{kind} {text}".rstrip()


_TABLES: dict[str, dict[str, tuple[str, Callable, str | None]]] = {}


def _table(descriptor: Descriptor) -> dict[str, tuple[str, Callable, str | None]]:
    table = _TABLES.get(descriptor.full_name)
    if table is None:
        table = {}
        for field in descriptor.fields:
            oneof = field.containing_oneof
            # A proto3 `optional` field is a synthetic oneof of one: no exclusivity to check.
            oneof_name = oneof.name if oneof is not None and len(oneof.fields) > 1 else None
            entry = (field.name, _setter(field), oneof_name)
            table[field.name] = entry
            table[field.json_name] = entry
        _TABLES[descriptor.full_name] = table
    return table


def _setter(field: FieldDescriptor) -> Callable[[Message, Any, str], None]:
    """A function (message, value, parent path) that sets this field of `message`."""
    name = field.name
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        return _map_setter(field)
    if field.message_type is not None:
        parse = _message_parser(field.message_type)
        if field.is_repeated:

            def set_repeated_message(message, value, path):
                if type(value) is not list:
                    raise _error(path, name, f"expected an array, got {_describe(value)}")
                target = getattr(message, name)
                for i, item in enumerate(value):
                    item_path = f"{_join(path, name)}[{i}]"
                    if item is None:
                        raise JSONRecordError(item_path, "null is not a message")
                    parse(item, target.add(), item_path)

            return set_repeated_message

        def set_message(message, value, path):
            sub = getattr(message, name)
            sub.SetInParent()
            parse(value, sub, _join(path, name))

        return set_message
    convert = _scalar_converter(field)
    if field.is_repeated:

        def set_repeated(message, value, path):
            if type(value) is not list:
                raise _error(path, name, f"expected an array, got {_describe(value)}")
            field_path = _join(path, name)
            getattr(message, name).extend(
                convert(item, field_path, f"[{i}]") for i, item in enumerate(value)
            )

        return set_repeated

    # The common, well-typed case of each kind is set directly; convert() handles the rest.
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:

        def set_string(message, value, path):
            if type(value) is str:
                setattr(message, name, value)
            else:
                setattr(message, name, convert(value, path, name))

        return set_string
    if kind in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_INT32):
        low, high = _RANGES[kind]

        def set_int(message, value, path):
            if type(value) is int and low <= value <= high:
                setattr(message, name, value)
            else:
                setattr(message, name, convert(value, path, name))

        return set_int
    if kind == FieldDescriptor.TYPE_ENUM:
        by_name = {v.name: v.number for v in field.enum_type.values}

        def set_enum(message, value, path):
            number = by_name.get(value) if type(value) is str else None
            setattr(message, name, convert(value, path, name) if number is None else number)

        return set_enum

    def set_scalar(message, value, path):
        setattr(message, name, convert(value, path, name))

    return set_scalar


def _map_setter(field: FieldDescriptor) -> Callable[[Message, Any, str], None]:
    name = field.name
    key_convert = _scalar_converter(field.message_type.fields_by_name["key"], map_key=True)
    value_field = field.message_type.fields_by_name["value"]
    parse_value = _message_parser(value_field.message_type) if value_field.message_type else None
    convert_value = None if parse_value else _scalar_converter(value_field)

    def set_map(message, value, path):
        if type(value) is not dict:
            raise _error(path, name, f"expected an object, got {_describe(value)}")
        field_path = _join(path, name)
        target = getattr(message, name)
        for k, v in value.items():
            if v is None:
                continue
            key = key_convert(k, field_path, f"[{k!r}]")
            if parse_value is not None:
                parse_value(v, target[key], f"{field_path}[{k!r}]")
            else:
                target[key] = convert_value(v, field_path, f"[{k!r}]")

    return set_map


def _message_parser(descriptor: Descriptor) -> Callable[[Any, Message, str], None]:
    if descriptor.full_name == _TIMESTAMP:

        def parse_timestamp(value, target, path):
            seconds, nanos = _timestamp(value, path)
            target.seconds = seconds
            target.nanos = nanos

        return parse_timestamp
    if descriptor.full_name.startswith("google.protobuf."):

        def parse_well_known(value, target, path):
            try:
                json_format.ParseDict(value, target)
            except json_format.ParseError as e:
                raise JSONRecordError(path, str(e)) from None

        return parse_well_known
    return parse_message


def _scalar_converter(
    field: FieldDescriptor, map_key: bool = False
) -> Callable[[Any, str, str], Any]:
    """A function (value, parent path, name) -> the field's Python value."""
    kind = field.type
    if kind in _RANGES:
        low, high = _RANGES[kind]

        def to_int(value, path, name):
            if type(value) is int:
                number = value
            elif type(value) is str and _is_decimal(value):
                number = int(value)
            elif type(value) is float and value.is_integer():
                number = int(value)
            else:
                raise _error(path, name, f"expected an integer, got {_describe(value)}")
            if not low <= number <= high:
                raise _error(path, name, f"{number} is outside {low}..{high}")
            return number

        return to_int
    if kind == FieldDescriptor.TYPE_STRING:

        def to_str(value, path, name):
            if type(value) is not str:
                raise _error(path, name, f"expected a string, got {_describe(value)}")
            return value

        return to_str
    if kind == FieldDescriptor.TYPE_BOOL:

        def to_bool(value, path, name):
            if type(value) is bool and not map_key:
                return value
            if value in ("true", "false"):
                return value == "true"
            raise _error(path, name, f"expected true or false, got {_describe(value)}")

        return to_bool
    if kind == FieldDescriptor.TYPE_ENUM:
        enum = field.enum_type
        by_name = {v.name: v.number for v in enum.values}
        numbers = set(by_name.values())

        def to_enum(value, path, name):
            if type(value) is str:
                number = by_name.get(value)
                if number is not None:
                    return number
                if not (_is_decimal(value) and len(value) <= 11):
                    raise _error(path, name, f"unknown {enum.name} value {value!r}")
                value = int(value)
            if type(value) is int:
                if value not in numbers:
                    raise _error(path, name, f"unknown {enum.name} number {value}")
                return value
            raise _error(
                path, name, f"expected a {enum.name} name or number, got {_describe(value)}"
            )

        return to_enum
    if kind in _FLOATS:

        def to_float(value, path, name):
            if type(value) in (int, float):
                return float(value)
            if type(value) is str:
                try:
                    return float(value)
                except ValueError:
                    pass
            raise _error(path, name, f"expected a number, got {_describe(value)}")

        return to_float
    if kind == FieldDescriptor.TYPE_BYTES:

        def to_bytes(value, path, name):
            if type(value) is str:
                try:
                    text = value.replace("-", "+").replace("_", "/")
                    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
                except (binascii.Error, ValueError):
                    pass
            raise _error(path, name, f"expected base64 bytes, got {_describe(value)}")

        return to_bytes
    raise TypeError(f"field type {kind} of {field.full_name} is not supported")


def _is_decimal(text: str) -> bool:
    """An optionally negative run of ASCII digits, short enough for any int64 / uint64."""
    digits = text[1:] if text.startswith("-") else text
    return 0 < len(digits) <= 20 and digits.isascii() and digits.isdigit()


def _timestamp(value: Any, path: str) -> tuple[int, int]:
    if isinstance(value, str):
        return parse_timestamp_text(value, path)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        seconds = math.floor(value)
        nanos = round((value - seconds) * 1e9) if isinstance(value, float) else 0
        if nanos >= 1_000_000_000:
            seconds, nanos = seconds + 1, nanos - 1_000_000_000
        if not _MIN_SECONDS <= seconds <= _MAX_SECONDS:
            raise JSONRecordError(path, f"{value} seconds is outside years 1..9999")
        return seconds, nanos
    raise JSONRecordError(path, f"expected a timestamp, got {_describe(value)}")


def parse_timestamp_text(text: str, path: str = "") -> tuple[int, int]:
    """(seconds, nanos) of an RFC 3339 or BigQuery timestamp text; see the module docstring."""
    # Fast path for the usual shapes: datetime's C parser, checked against the strict pattern.
    if text.endswith(("Z", " UTC")) and _FAST_TIME_RE.fullmatch(text):
        try:
            parsed = datetime.fromisoformat(text[:-4] if text[-1] == "C" else text[:-1])
        except ValueError:
            pass
        else:
            delta = parsed - _EPOCH
            return delta.days * 86400 + delta.seconds, delta.microseconds * 1000
    m = _TIME_RE.fullmatch(text.strip())
    if m is None:
        raise JSONRecordError(
            path,
            f"{text[:60]!r} is not a timestamp; expected e.g. 2021-05-11T10:00:00.123456Z or "
            "2021-05-11 10:00:00.123456 UTC",
        )
    year, month, day, hour, minute, second = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
    if not (
        1 <= month <= 12
        and 1 <= day <= _days_in_month(year, month)
        and hour <= 23
        and minute <= 59
        and second <= 59
        and year >= 1
    ):
        raise JSONRecordError(path, f"{text[:60]!r} is not a valid date and time")
    fraction = m.group(7)
    nanos = int(fraction.ljust(9, "0")) if fraction else 0
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    if m.group(9):
        offset = int(m.group(10)) * 3600 + int(m.group(11)) * 60
        seconds -= offset if m.group(9) == "+" else -offset
    if not _MIN_SECONDS <= seconds <= _MAX_SECONDS:
        raise JSONRecordError(path, f"{text[:60]!r} is outside years 1..9999")
    return seconds, nanos


def _days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]
