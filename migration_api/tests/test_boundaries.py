"""Boundary values of every scalar field of every Migration request, in every encoding, through
the live server: each answer is deliberate (never an unexpected HTTP 500).

The requests start from one that names a seeded run and CL (so they get past the lookups,
into the actions), then set one field, at any depth, to one boundary value of its type: the
extremes of its integer type, an enum number no one defined, empty, NUL-holding and very long
strings, and Timestamps just inside and just outside their spec range. Binary bodies also get
a string field holding invalid UTF-8.
"""

import logging
from collections.abc import Iterator

import pytest
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from cvproto.validation import MAX_TIMESTAMP_SECONDS, MIN_TIMESTAMP_SECONDS
from migration_api.tests.fuzz_support import (
    ENCODINGS,
    INT_RANGES,
    METHODS,
    apply_context,
    check_answer,
    encode,
    request_class,
    seed_pool,
)

pytestmark = pytest.mark.django_db(transaction=True)

MAX_DEPTH = 5
STRINGS = ["", " ", "\x00", "a" * 300, "😀" * 2_000, "é" * 70]
# Placed in a string field, then replaced in the binary encoding by bytes that are not UTF-8.
UTF8_MARKER = "\u00e9\u00e9"
NOT_UTF8 = b"\xc3\x28\xa0\xa1"
TIMESTAMPS = [
    (MIN_TIMESTAMP_SECONDS - 1, 0),
    (MIN_TIMESTAMP_SECONDS, 0),
    (MAX_TIMESTAMP_SECONDS, 999_999_999),
    (MAX_TIMESTAMP_SECONDS + 1, 0),
    (0, -1),
    (0, 1_000_000_000),
]


def scalar_boundaries(field: FieldDescriptor) -> list:
    if field.type in INT_RANGES:
        lo, hi = INT_RANGES[field.type]
        return sorted({lo, -1 if lo < 0 else 0, 0, 1, hi})
    if field.type == FieldDescriptor.TYPE_ENUM:
        defined = [v.number for v in field.enum_type.values]
        return [max(defined), 2**31 - 1, -(2**31)] if not field.enum_type.is_closed else defined
    if field.type == FieldDescriptor.TYPE_STRING:
        return STRINGS
    if field.type == FieldDescriptor.TYPE_BYTES:
        return [b"", b"\xff" * 300]
    if field.type == FieldDescriptor.TYPE_BOOL:
        return [True]
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return [float("nan"), float("inf"), -0.0]
    raise AssertionError(f"no boundaries for {field.full_name} (type {field.type})")


def _holder(message: Message, path: list[FieldDescriptor]) -> Message:
    """The message that holds the last field of `path`, created along the way."""
    for field in path[:-1]:
        if field.is_repeated:
            items = getattr(message, field.name)
            message = items[0] if items else items.add()
        else:
            message = getattr(message, field.name)
    return message


def field_paths(descriptor: Descriptor, depth: int = 0, seen=()) -> Iterator[list]:
    """Every path to a scalar field or Timestamp, through singular and repeated messages
    (maps are left to the fuzz test), each message type once per path."""
    for field in descriptor.fields:
        message_type = field.message_type
        if message_type is None:
            yield [field]
        elif message_type.GetOptions().map_entry:
            continue
        elif message_type.full_name == "google.protobuf.Timestamp":
            yield [field]
        elif depth < MAX_DEPTH and message_type.full_name not in seen:
            for rest in field_paths(message_type, depth + 1, (*seen, descriptor.full_name)):
                yield [field, *rest]


def variants(base: Message) -> Iterator[tuple[str, Message]]:
    """(what was set, request) for every field path and boundary value."""
    for path in field_paths(base.DESCRIPTOR):
        field = path[-1]
        name = ".".join(f.name for f in path)
        is_timestamp = field.message_type is not None
        values = TIMESTAMPS if is_timestamp else scalar_boundaries(field)
        for value in values:
            request = type(base)()
            request.CopyFrom(base)
            holder = _holder(request, path)
            if is_timestamp:
                target = getattr(holder, field.name)
                if field.is_repeated:
                    target = target.add()
                target.seconds, target.nanos = value
            elif field.is_repeated:
                getattr(holder, field.name).append(value)
            else:
                setattr(holder, field.name, value)
            yield f"{name}={value!r:.40}", request


def encodings_of(request: Message) -> Iterator[tuple[str, bytes]]:
    for encoding in ENCODINGS:
        try:
            yield encoding, encode(request, encoding)
        except (ValueError, json_format.SerializeToJsonError):
            continue  # JSON cannot spell it (a Timestamp out of range, NaN): a client cannot


@pytest.mark.parametrize("method", METHODS)
def test_boundary_values_get_deliberate_answers(gerrit, post_body, caplog, method):
    caplog.set_level(logging.WARNING)
    pool = seed_pool(gerrit)
    base = apply_context(request_class(method)(), pool.contexts[0])
    sent = 0
    for what, request in variants(base):
        for encoding, body in encodings_of(request):
            caplog.clear()
            response = post_body(method, encoding, body)
            try:
                check_answer(response, method, encoding, caplog, body)
            except AssertionError as e:
                raise AssertionError(f"{method} {encoding} {what}: {e}") from None
            sent += 1
    for body in _with_invalid_utf8(base):
        caplog.clear()
        response = post_body(method, "binary", body)
        assert check_answer(response, method, "binary", caplog, body) != 0
        assert response.text.startswith("could not decode body")
        sent += 1
    assert sent >= sum(1 for _ in variants(base))  # each in one encoding at least


def _with_invalid_utf8(base: Message) -> list[bytes]:
    """Binary bodies of `base` with one string field holding bytes that are not UTF-8."""
    bodies = []
    for path in field_paths(base.DESCRIPTOR):
        field = path[-1]
        if field.type != FieldDescriptor.TYPE_STRING or field.message_type is not None:
            continue
        request = type(base)()
        request.CopyFrom(base)
        holder = _holder(request, path)
        if field.is_repeated:
            getattr(holder, field.name).append(UTF8_MARKER)
        else:
            setattr(holder, field.name, UTF8_MARKER)
        body = request.SerializeToString()
        marker = UTF8_MARKER.encode()
        assert body.count(marker) == 1
        bodies.append(body.replace(marker, NOT_UTF8))
    return bodies
