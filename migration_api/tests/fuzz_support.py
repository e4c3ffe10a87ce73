"""What the fuzz and boundary tests of the Migration API share: the methods and encodings,
the seeded runs and CLs requests can name, and the check that an answer is deliberate."""

import logging

from google.protobuf import json_format, message_factory, text_format
from google.protobuf.descriptor import FieldDescriptor
from hypothesis import strategies as st

from cvproto.migration import migration_pb2 as migration_pb
from prpc.codes import Code
from runs.models import RunStatus
from runs.tests.factories import make_run_of_changes

SERVICE = migration_pb.DESCRIPTOR.services_by_name["Migration"]
METHODS = [m.name for m in SERVICE.methods]
ENCODINGS = {
    "binary": "application/prpc; encoding=binary",
    "json": "application/json",
    "text": "application/prpc; encoding=text",
}


def request_class(method: str):
    return message_factory.GetMessageClass(SERVICE.methods_by_name[method].input_type)


# Answers with HTTP >= 500 the API gives on purpose, by method.
DELIBERATE_SERVER_ERRORS = {"PostGerritMessage": {Code.UNAVAILABLE}}

INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}


class Pool:
    """Values that mean something to the seeded database, mixed into the random ones.

    `contexts` name one seeded run and CL each, by field name ("attempt_key", "host", ...):
    `coherent` messages get them all, so that they pass validation and lookups.
    """

    def __init__(self, strings=(), ints=(), contexts=()):
        self.strings = sorted(set(strings))
        self.ints = sorted(set(ints))
        self.contexts = list(contexts)

    def strings_or(self, strategy):
        if not self.strings:
            return strategy
        return st.one_of(st.sampled_from(self.strings), strategy)

    def ints_or(self, strategy, lo, hi):
        fitting = [i for i in self.ints if lo <= i <= hi]
        return st.one_of(st.sampled_from(fitting), strategy) if fitting else strategy


def apply_context(msg, context: dict):
    for field in msg.DESCRIPTOR.fields:
        value = context.get(field.name)
        if field.message_type is not None:
            if field.message_type.GetOptions().map_entry:
                continue
            children = getattr(msg, field.name) if field.is_repeated else [getattr(msg, field.name)]
            for child in children:
                apply_context(child, context)
        elif value is not None and not field.is_repeated:
            if field.type == FieldDescriptor.TYPE_STRING and isinstance(value, str):
                setattr(msg, field.name, value)
            elif field.type in INT_RANGES and isinstance(value, int):
                setattr(msg, field.name, value)
    return msg


def encode(message, encoding: str) -> bytes:
    if encoding == "binary":
        return message.SerializeToString()
    if encoding == "json":
        return json_format.MessageToJson(message).encode()
    return text_format.MessageToString(message).encode()


def seed_pool(gerrit) -> Pool:
    """Runs and CLs for requests to find, on the fake Gerrit; returns the values naming them."""
    gerrit.add_change(1, project="chromium/src")
    gerrit.add_change(2, project="chromium/src", depends_on=[1])
    gerrit.add_change(3, project="chromium/src")
    gerrit.add_change(4, project="v8/v8")
    runs = [
        make_run_of_changes(gerrit, [1, 2], mode="FULL_RUN"),
        make_run_of_changes(gerrit, [3], mode="DRY_RUN"),
        make_run_of_changes(gerrit, [4], project="v8", mode="DRY_RUN"),
        make_run_of_changes(gerrit, [3], mode="QUICK_DRY_RUN", status=RunStatus.FAILED),
    ]
    strings = {gerrit.host, "chromium", "v8", "chromium/src", "v8/v8", " ", "\x00"}
    for run in runs:
        strings |= {run.id, run.cqd_attempt_key}
        for run_cl in run.run_cls.all():
            strings.add(run_cl.current_revision)
    ints = {1, 2, 3, 4} | {cl.id for run in runs for cl in (rc.cl for rc in run.run_cls.all())}
    contexts = [
        {
            "attempt_key": run.cqd_attempt_key,
            "key": run.cqd_attempt_key,
            "run_id": run_id,
            "cv_id": run_id,
            "id": run_id,
            "luci_project": run.project,
            "project": run.project,
            "host": run_cl.cl.host,
            "change": run_cl.cl.change,
            "revision": run_cl.current_revision,
        }
        for run in runs
        for run_cl in run.run_cls.select_related("cl")
        for run_id in (run.id, "")
    ]
    return Pool(strings, ints, contexts)


class Tally:
    """How many requests the fuzz and boundary tests sent, and how many got an HTTP 500:
    printed at the end of the session (`make fuzz` reports it)."""

    requests = 0
    http_500 = 0


def check_answer(response, method: str, encoding: str, caplog, body: bytes) -> int:
    """Asserts the answer is a deliberate pRPC answer; returns its code."""
    Tally.requests += 1
    Tally.http_500 += response.status_code == 500
    context = f"{method} {encoding} body={body[:300]!r}"
    unexpected = [
        r for r in caplog.records if r.name.split(".")[0] == "prpc" and r.levelno >= logging.ERROR
    ]
    assert not unexpected, f"{context}: {[r.getMessage() for r in unexpected]}\n" + "\n".join(
        caplog.text.splitlines()[-30:]
    )
    raw_code = response.headers.get("X-Prpc-Grpc-Code")
    assert raw_code is not None, f"{context}: HTTP {response.status_code} without a code"
    code = int(raw_code)
    if code == Code.OK:
        assert response.status_code == 200, context
        assert response.headers["Content-Type"] == ENCODINGS[encoding], context
    else:
        assert response.status_code != 200, context
        assert response.headers["Content-Type"].startswith("text/plain"), context
    if response.status_code >= 500:
        assert code in DELIBERATE_SERVER_ERRORS.get(method, set()), (
            f"{context}: HTTP {response.status_code}, code {code}: {response.content[:300]!r}"
        )
    return code
