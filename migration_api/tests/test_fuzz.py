"""Fuzzing the Migration API: whatever the body, the answer is a deliberate pRPC answer.

For every method and every encoding (binary, JSON, text format), hypothesis sends
- valid request messages, generated generically from the message descriptors (random
  scalars, enums including numbers they do not name, nested messages, repeated and map
  fields, within a bounded depth and size), half of them with the fields that name a run, a
  CL or a project naming a seeded one, so that requests also get past validation and
  lookups, into the run actions and their Gerrit posts;
- mutated encodings of such messages, random bytes, and (JSON) random documents whose keys
  are the messages' field names,
through the live server over HTTP, with a token valid for every project. Every answer must carry
X-Prpc-Grpc-Code, and nothing may fail unexpectedly: no ERROR record from the "prpc" loggers
(the view logs an unexpected exception there, with its traceback, before answering INTERNAL),
and an HTTP status >= 500 only where the API answers one on purpose (PostGerritMessage:
UNAVAILABLE while cvsite does not know the run or CL; a failing Gerrit leaves the post to a
task and answers OK). A valid message must also always decode.

PostGerritMessage reaches Gerrit only for the seeded CLs, whose host is the fake Gerrit's
(`gerrit` fixture, on 127.0.0.1): nothing leaves the machine.
"""

import functools
import json
import logging
import os

import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migration_api.tests.fuzz_support import (
    ENCODINGS,
    INT_RANGES,
    METHODS,
    SERVICE,
    Pool,
    apply_context,
    check_answer,
    encode,
    seed_pool,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # protobuf's text-format parser warns about odd escapes in the random bodies it is fed.
    pytest.mark.filterwarnings("ignore:invalid escape sequence:DeprecationWarning"),
]

# More for a deeper local run: CVSITE_FUZZ_EXAMPLES=500 pytest migration_api/tests/test_fuzz.py
EXAMPLES = int(os.environ.get("CVSITE_FUZZ_EXAMPLES", "30"))
MAX_DEPTH = 5
MAX_ITEMS = 3

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- strategies built from descriptors ----------------------------------------------------------

TIMESTAMP_SECONDS = (-62135596800, 253402300799)  # years 1..9999, as JSON allows
DURATION_SECONDS = 315576000000
# Around the column lengths (16, 64, 100, 255, 1024 characters), in 1- to 4-byte characters.
LONG_STRINGS = st.builds(
    lambda char, length: char * length,
    st.sampled_from(["a", "é", "€", "😀"]),
    st.sampled_from([16, 17, 64, 65, 100, 101, 255, 256, 1025, 20000]),
)


def scalar_values(field: FieldDescriptor, pool: Pool):
    kind = field.type
    if kind in INT_RANGES:
        lo, hi = INT_RANGES[kind]
        return pool.ints_or(
            st.one_of(st.integers(-3, 3), st.integers(lo, hi)).filter(lambda i: lo <= i <= hi),
            lo,
            hi,
        )
    if kind == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if kind == FieldDescriptor.TYPE_FLOAT:
        return st.floats(width=32)
    if kind == FieldDescriptor.TYPE_DOUBLE:
        return st.floats()
    if kind == FieldDescriptor.TYPE_STRING:
        return pool.strings_or(st.one_of(st.text(max_size=30), LONG_STRINGS))
    if kind == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=30)
    if kind == FieldDescriptor.TYPE_ENUM:
        known = st.sampled_from([v.number for v in field.enum_type.values])
        if field.enum_type.is_closed:
            return known
        return st.one_of(known, st.integers(-(2**31), 2**31 - 1))
    raise AssertionError(f"no strategy for {field.full_name} (type {kind})")


def well_known(descriptor: Descriptor):
    cls = message_factory.GetMessageClass(descriptor)
    if descriptor.full_name == "google.protobuf.Timestamp":
        return st.builds(
            cls, seconds=st.integers(*TIMESTAMP_SECONDS), nanos=st.integers(0, 999_999_999)
        )
    if descriptor.full_name == "google.protobuf.Duration":
        return st.integers(-DURATION_SECONDS, DURATION_SECONDS).flatmap(
            lambda s: st.builds(
                cls,
                seconds=st.just(s),
                nanos=st.integers(0, 999_999_999).map(lambda n: -n if s < 0 else n),
            )
        )
    return None


def field_values(field: FieldDescriptor, pool: Pool, depth: int):
    """A strategy for the field's whole value (a list for repeated, a dict for maps)."""
    message_type = field.message_type
    if message_type is not None and message_type.GetOptions().map_entry:
        key_field = message_type.fields_by_name["key"]
        value_field = message_type.fields_by_name["value"]
        return st.dictionaries(
            scalar_values(key_field, pool),
            single_values(value_field, pool, depth),
            max_size=MAX_ITEMS,
        )
    one = single_values(field, pool, depth)
    if field.is_repeated:
        return st.lists(one, max_size=MAX_ITEMS)
    return one


def single_values(field: FieldDescriptor, pool: Pool, depth: int):
    if field.message_type is not None:
        return messages(field.message_type, pool, depth + 1)
    return scalar_values(field, pool)


@functools.cache
def _messages(descriptor: Descriptor, pool: Pool, depth: int):
    special = well_known(descriptor)
    if special is not None:
        return special
    cls = message_factory.GetMessageClass(descriptor)
    if depth > MAX_DEPTH:
        return st.just(cls())
    optional = {
        field.name: st.deferred(lambda field=field: field_values(field, pool, depth))
        for field in descriptor.fields
    }
    return st.fixed_dictionaries({}, optional=optional).map(
        functools.partial(_build, cls, descriptor)
    )


def messages(descriptor: Descriptor, pool: Pool, depth: int = 0):
    """Valid messages of `descriptor`: any subset of its fields set to random values."""
    return _messages(descriptor, pool, depth)


def coherent(descriptor: Descriptor, pool: Pool):
    """Random messages whose fields naming a run, a CL or a project name a seeded one."""
    return st.tuples(messages(descriptor, pool), st.sampled_from(pool.contexts)).map(
        lambda pair: apply_context(pair[0], pair[1])
    )


def _build(cls, descriptor: Descriptor, values: dict):
    msg = cls()
    for name, value in values.items():
        field = descriptor.fields_by_name[name]
        target = getattr(msg, name) if field.is_repeated else None
        message_type = field.message_type
        if message_type is not None and message_type.GetOptions().map_entry:
            holds_messages = message_type.fields_by_name["value"].message_type is not None
            for k, v in value.items():
                if holds_messages:
                    target[k].CopyFrom(v)
                else:
                    target[k] = v
        elif field.is_repeated:
            if message_type is not None:
                for item in value:
                    target.add().CopyFrom(item)
            else:
                target.extend(value)
        elif message_type is not None:
            getattr(msg, name).CopyFrom(value)
        else:
            setattr(msg, name, value)
    return msg


@st.composite
def mutated(draw, bodies):
    """A body with a few random edits: flipped, deleted, inserted or repeated bytes."""
    data = bytearray(draw(bodies))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "delete", "insert", "truncate", "repeat"]))
        if op == "insert" or not data:
            at = draw(st.integers(0, len(data)))
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
            continue
        start = draw(st.integers(0, len(data) - 1))
        end = draw(st.integers(start + 1, min(len(data), start + 16)))
        if op == "flip":
            data[start] ^= draw(st.integers(1, 255))
        elif op == "delete":
            del data[start:end]
        elif op == "truncate":
            del data[start:]
        else:
            data[start:start] = data[start:end]
    return bytes(data)


def field_names(descriptor: Descriptor, seen=None) -> set[str]:
    """Every field name (proto and JSON spelling) of a message and its nested messages."""
    seen = set() if seen is None else seen
    if descriptor.full_name in seen:
        return set()
    seen.add(descriptor.full_name)
    names = set()
    for field in descriptor.fields:
        names |= {field.name, field.json_name}
        if field.message_type is not None:
            names |= field_names(field.message_type, seen)
    return names


def json_documents(descriptor: Descriptor):
    """JSON documents with the message's field names as keys and values of any JSON type."""
    keys = st.one_of(st.sampled_from(sorted(field_names(descriptor))), st.text(max_size=8))
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False),
        st.text(max_size=20),
        st.sampled_from(["NaN", "Infinity", "-1", "1e999", "2021-06-22T00:00:00Z", "1.5s"]),
    )
    values = st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=MAX_ITEMS),
            st.dictionaries(keys, children, max_size=MAX_ITEMS),
        ),
        max_leaves=12,
    )
    return st.dictionaries(keys, values, max_size=6).map(lambda d: json.dumps(d).encode())


def bad_bodies(method: str, encoding: str, pool: Pool):
    descriptor = SERVICE.methods_by_name[method].input_type
    valid = messages(descriptor, pool).map(lambda m: encode(m, encoding))
    options = [st.binary(max_size=200), mutated(valid)]
    if encoding == "json":
        options.append(json_documents(descriptor))
        options.append(mutated(json_documents(descriptor)))
    if encoding != "binary":
        options.append(st.text(max_size=100).map(str.encode))
    return st.one_of(options)


# --- the checks ---------------------------------------------------------------------------------


@pytest.fixture
def seeded(gerrit) -> Pool:
    return seed_pool(gerrit)


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("method", METHODS)
def test_valid_messages_get_deliberate_answers(seeded, post_body, caplog, method, encoding):
    caplog.set_level(logging.WARNING)
    descriptor = SERVICE.methods_by_name[method].input_type
    codes = set()

    @FUZZ_SETTINGS
    @given(message=st.one_of(messages(descriptor, seeded), coherent(descriptor, seeded)))
    def check(message):
        caplog.clear()
        body = encode(message, encoding)
        response = post_body(method, encoding, body)
        codes.add(check_answer(response, method, encoding, caplog, body))
        assert not response.content.startswith(b"could not decode body"), (
            f"{method} {encoding}: a valid message was refused: {response.content[:300]!r}"
        )

    check()
    assert codes  # hypothesis ran


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("method", METHODS)
def test_mutated_and_random_bodies_get_deliberate_answers(
    seeded, post_body, caplog, method, encoding
):
    caplog.set_level(logging.WARNING)

    @FUZZ_SETTINGS
    @given(body=bad_bodies(method, encoding, seeded))
    def check(body):
        caplog.clear()
        check_answer(post_body(method, encoding, body), method, encoding, caplog, body)

    check()
