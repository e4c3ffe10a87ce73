"""Property checks: binary and JSON round trips for the tricky scalar cases."""

from __future__ import annotations

from google.protobuf import json_format
from hypothesis import given
from hypothesis import strategies as st

from cvproto.cq.recipe import cq_pb2
from cvproto.gerrit import gerrit_pb2
from cvproto.wire import varint

INT32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)
INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)


@given(st.dictionaries(INT32, st.text(max_size=5), max_size=5), INT32, INT32)
def test_label_info_round_trips(values, value, default_value):
    label = gerrit_pb2.LabelInfo(values=values, value=value, default_value=default_value)
    raw = label.SerializeToString(deterministic=True)
    assert gerrit_pb2.LabelInfo.FromString(raw) == label
    as_json = json_format.MessageToJson(label)
    assert json_format.Parse(as_json, gerrit_pb2.LabelInfo()) == label
    if value < 0:
        # Negative int32 is sign-extended: tag + 10-byte varint.
        assert b"\x38" + varint(value) in raw and len(varint(value)) == 10


@given(st.lists(INT64, max_size=8))
def test_triggered_build_ids_packed_or_not(ids):
    out = cq_pb2.Output(triggered_build_ids=ids)
    unpacked = b"".join(b"\x08" + varint(i) for i in ids)
    assert list(cq_pb2.Output.FromString(unpacked).triggered_build_ids) == ids
    assert cq_pb2.Output.FromString(out.SerializeToString()) == out
    d = json_format.MessageToDict(out)
    if ids:
        # int64 values are JSON strings.
        assert d["triggeredBuildIds"] == [str(i) for i in ids]
    assert json_format.ParseDict(d, cq_pb2.Output()) == out
