"""cvproto.wire writes exactly what protobuf itself encodes."""

from hypothesis import given
from hypothesis import strategies as st

from cvproto.migration import migration_pb2
from cvproto.wire import length_delimited, tag, varint

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)


@given(INT64)
def test_varint_matches_an_int64_field(change):
    encoded = migration_pb2.PostGerritMessageRequest(change=change).SerializeToString()
    if change == 0:
        assert encoded == b""
    else:
        assert encoded == tag(12, 0) + varint(change)


@given(st.text(), st.text())
def test_length_delimited_fields_append_like_setting_them(project, attempt_key):
    expected = migration_pb2.FetchRunStatusRequest(
        luci_project=project, attempt_key=attempt_key
    ).SerializeToString()
    parts = []
    for number, value in ((1, project), (3, attempt_key)):
        if value:
            parts.append(length_delimited(number, value.encode()))
    assert b"".join(parts) == expected


def test_a_long_payload_takes_a_multi_byte_length():
    payload = b"x" * 300
    assert length_delimited(1, payload) == b"\x0a\xac\x02" + payload
