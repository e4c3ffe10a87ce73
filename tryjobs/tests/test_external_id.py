from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tryjobs.external_id import (
    ExternalIDError,
    InvalidCLPatchsetError,
    InvalidExternalIDError,
    InvalidReuseKeyInputError,
    buildbucket_external_id,
    cl_patchset,
    external_id_kind,
    external_id_url,
    parse_buildbucket_external_id,
    parse_cl_patchset,
    reuse_key,
)

MIN_INT64 = -(2**63)
MAX_INT64 = 2**63 - 1
MAX_INT32 = 2**31 - 1
BB_HOST = "cr-buildbucket.appspot.com"

# ---- §1.4 ExternalID vectors ----


def test_buildbucket_vectors() -> None:
    eid = buildbucket_external_id(BB_HOST, 12)
    assert eid == "buildbucket/cr-buildbucket.appspot.com/12"
    assert parse_buildbucket_external_id(eid) == (BB_HOST, 12)
    assert external_id_url(eid) == "https://cr-buildbucket.appspot.com/build/12"
    assert external_id_kind(eid) == "buildbucket"


def test_parse_blah_is_not_a_valid_buildbucket_id() -> None:
    with pytest.raises(InvalidExternalIDError) as ei:
        parse_buildbucket_external_id("blah")
    assert '"blah" is not a valid BuildbucketID' in str(ei.value)


def test_url_blah_is_invalid_external_id() -> None:
    with pytest.raises(InvalidExternalIDError) as ei:
        external_id_url("blah")
    assert 'invalid ExternalID: "blah"' in str(ei.value)


def test_buildbucket_external_id_host_with_slash() -> None:
    with pytest.raises(InvalidExternalIDError) as ei:
        buildbucket_external_id("a/b", 1)
    assert 'invalid host "a/b": must not contain /' in str(ei.value)


@pytest.mark.parametrize(
    ("host", "build_id", "needle"),
    [
        ("", 1, "invalid host '': must be a non-empty str"),
        (None, 1, "invalid host None"),
        (BB_HOST, 2**63, "invalid build ID 9223372036854775808: must be an int64"),
        (BB_HOST, MIN_INT64 - 1, "invalid build ID -9223372036854775809"),
        (BB_HOST, "12", "invalid build ID '12'"),
        (BB_HOST, True, "invalid build ID True"),
    ],
)
def test_buildbucket_external_id_errors(host: object, build_id: object, needle: str) -> None:
    with pytest.raises(InvalidExternalIDError) as ei:
        buildbucket_external_id(host, build_id)  # type: ignore[arg-type]
    assert needle in str(ei.value)


def test_buildbucket_external_id_signed_extremes() -> None:
    assert buildbucket_external_id("h", MIN_INT64) == f"buildbucket/h/{MIN_INT64}"
    assert parse_buildbucket_external_id(f"buildbucket/h/{MIN_INT64}") == ("h", MIN_INT64)
    assert parse_buildbucket_external_id(f"buildbucket/h/{MAX_INT64}") == ("h", MAX_INT64)
    assert parse_buildbucket_external_id("buildbucket/h/-3") == ("h", -3)


def test_parse_buildbucket_accepts_what_go_parseint_accepts() -> None:
    # strconv.ParseInt(s, 10, 64) takes a sign and leading zeros.
    assert parse_buildbucket_external_id("buildbucket/h/+12") == ("h", 12)
    assert parse_buildbucket_external_id("buildbucket/h/0012") == ("h", 12)
    assert parse_buildbucket_external_id("buildbucket/h/" + "0" * 5000 + "7") == ("h", 7)


@pytest.mark.parametrize(
    ("eid", "needle"),
    [
        ("", 'expected 3 "/"-separated parts, got 1'),
        ("buildbucket/h", "got 2"),
        ("buildbucket/h/1/2", "got 4"),
        ("gerrit/h/1", 'kind "gerrit" is not "buildbucket"'),
        ("Buildbucket/h/1", 'kind "Buildbucket"'),
        ("buildbucket//1", "host must not be empty"),
        ("buildbucket/h/", 'build ID "" is not a base-10 int64'),
        ("buildbucket/h/abc", 'build ID "abc"'),
        ("buildbucket/h/0x10", 'build ID "0x10"'),
        ("buildbucket/h/1_000", 'build ID "1_000"'),
        ("buildbucket/h/ 1", 'build ID " 1"'),
        ("buildbucket/h/1.0", 'build ID "1.0"'),
        ("buildbucket/h/１２", 'build ID "１２"'),
        ("buildbucket/h/+-1", 'build ID "+-1"'),
        ("buildbucket/h/9223372036854775808", 'build ID "9223372036854775808"'),
        ("buildbucket/h/-9223372036854775809", 'build ID "-9223372036854775809"'),
        ("buildbucket/h/" + "9" * 5000, "is not a base-10 int64"),
    ],
)
def test_parse_buildbucket_errors(eid: str, needle: str) -> None:
    with pytest.raises(InvalidExternalIDError) as ei:
        parse_buildbucket_external_id(eid)
    msg = str(ei.value)
    assert msg.startswith(f'"{eid}" is not a valid BuildbucketID: ')
    assert needle in msg


def test_parse_buildbucket_non_str() -> None:
    with pytest.raises(InvalidExternalIDError, match="is not a valid BuildbucketID: must be a str"):
        parse_buildbucket_external_id(12)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("eid", "kind"),
    [("buildbucket/h/1", "buildbucket"), ("x/", "x"), ("gerrit/a/b/c", "gerrit")],
)
def test_external_id_kind(eid: str, kind: str) -> None:
    assert external_id_kind(eid) == kind


@pytest.mark.parametrize("eid", ["", "blah", "/buildbucket/h/1", "/"])
def test_external_id_kind_errors(eid: str) -> None:
    with pytest.raises(InvalidExternalIDError) as ei:
        external_id_kind(eid)
    assert str(ei.value) == f'invalid ExternalID: "{eid}"'


def test_external_id_kind_non_str() -> None:
    with pytest.raises(InvalidExternalIDError, match="invalid ExternalID: None is not a str"):
        external_id_kind(None)  # type: ignore[arg-type]


def test_external_id_url_unknown_kind() -> None:
    with pytest.raises(InvalidExternalIDError) as ei:
        external_id_url("gerrit/h/1")
    assert 'unrecognized ExternalID: "gerrit/h/1" has unknown kind "gerrit"' in str(ei.value)


def test_external_id_url_malformed_buildbucket() -> None:
    with pytest.raises(
        InvalidExternalIDError, match='"buildbucket/h" is not a valid BuildbucketID'
    ):
        external_id_url("buildbucket/h")


# ---- §1.5 ReuseKey ----


def test_reuse_key_vector() -> None:
    want = "2Yh+hI8zJZFe8ac1TrrFjATWGjhiV9aXsKjNJIhzATk="
    assert reuse_key([(22222, 22), (11111, 11)]) == want
    assert reuse_key([(11111, 11), (22222, 22)]) == want
    assert reuse_key(iter([(22222, 22), (11111, 11)])) == want


def test_reuse_key_single_cl_and_bytewise_sort() -> None:
    assert reuse_key([(1, 2)]) == base64.b64encode(hashlib.sha256(b"1/2").digest()).decode()
    # Byte-wise: "10/1" < "9/1" although 9 < 10.
    want = base64.b64encode(hashlib.sha256(b"10/1\x009/1").digest()).decode()
    assert reuse_key([(9, 1), (10, 1)]) == want


@pytest.mark.parametrize(
    ("cls", "needle"),
    [
        ([], "invalid CLs []: need at least one CL"),
        ([(1,)], "invalid CL (1,): must be a (clid, min_equivalent_patchset) tuple"),
        ([[1, 2]], "invalid CL [1, 2]"),
        ([(-1, 1)], "invalid CL (-1, 1): clid must be a non-negative int64"),
        ([(2**63, 1)], "clid must be a non-negative int64"),
        ([("1", 1)], "invalid CL ('1', 1): clid"),
        ([(1, -1)], "invalid CL (1, -1): min_equivalent_patchset must be a non-negative int32"),
        ([(1, 2**31)], "min_equivalent_patchset must be a non-negative int32"),
        ([(1, True)], "invalid CL (1, True): min_equivalent_patchset"),
    ],
)
def test_reuse_key_errors(cls: list, needle: str) -> None:
    with pytest.raises(InvalidReuseKeyInputError) as ei:
        reuse_key(cls)
    assert needle in str(ei.value)


# ---- §1.5 CLPatchset ----


def test_cl_patchset_vector() -> None:
    assert cl_patchset(34586452134, 5) == "01/000000080d8360a6/00000005"
    assert parse_cl_patchset("01/000000080d8360a6/00000005") == (34586452134, 5)


@pytest.mark.parametrize(
    ("clid", "ps", "s"),
    [
        (0, 0, "01/0000000000000000/00000000"),
        (MAX_INT64, MAX_INT32, "01/7fffffffffffffff/7fffffff"),
    ],
)
def test_cl_patchset_extremes_round_trip(clid: int, ps: int, s: str) -> None:
    assert cl_patchset(clid, ps) == s
    assert parse_cl_patchset(s) == (clid, ps)


def test_parse_cl_patchset_is_lenient_about_width_and_case() -> None:
    assert parse_cl_patchset("1/A/b") == (10, 11)


@pytest.mark.parametrize(
    ("s", "needle"),
    [
        ("1/1", "CLPatchset in unexpected format"),
        ("1/gerrit/chromium-review.googlesource.com/3530834/7", "CLPatchset in unexpected format"),
        ("", "CLPatchset in unexpected format"),
        ("8/8/8", "unsupported version 8"),
        ("ff/1/1", "unsupported version 255"),
        ("0/1/1", "unsupported version 0"),
        ("x/1/1", "version segment in unexpected format"),
        ("/1/1", "version segment in unexpected format"),
        ("-1/1/1", "version segment in unexpected format"),
        ("1/4d35683b24371b75c5f3fda0d48796638dc0d695/7", "clid segment in unexpected format"),
        ("1/8000000000000000/7", "clid segment in unexpected format"),
        ("1//7", "clid segment in unexpected format"),
        ("1/0x10/7", "clid segment in unexpected format"),
        ("1/-1/7", "clid segment in unexpected format"),
        ("1/1/ps1", "patchset segment in unexpected format"),
        ("1/1/80000000", "patchset segment in unexpected format"),
        ("1/1/", "patchset segment in unexpected format"),
        ("1/1/ 1", "patchset segment in unexpected format"),
    ],
)
def test_parse_cl_patchset_errors(s: str, needle: str) -> None:
    with pytest.raises(InvalidCLPatchsetError) as ei:
        parse_cl_patchset(s)
    msg = str(ei.value)
    assert needle in msg
    assert msg.startswith(f'invalid CLPatchset "{s}": ')


def test_parse_cl_patchset_non_str() -> None:
    with pytest.raises(InvalidCLPatchsetError, match="must be a str"):
        parse_cl_patchset(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("clid", "ps", "needle"),
    [
        (-1, 1, "invalid clid -1: must be a non-negative int64"),
        (2**63, 1, "invalid clid 9223372036854775808"),
        ("1", 1, "invalid clid '1'"),
        (1, -1, "invalid patchset -1: must be a non-negative int32"),
        (1, 2**31, "invalid patchset 2147483648"),
        (1, None, "invalid patchset None"),
    ],
)
def test_cl_patchset_errors(clid: object, ps: object, needle: str) -> None:
    with pytest.raises(InvalidCLPatchsetError) as ei:
        cl_patchset(clid, ps)  # type: ignore[arg-type]
    assert needle in str(ei.value)


def test_errors_are_value_errors() -> None:
    for cls in (InvalidExternalIDError, InvalidCLPatchsetError, InvalidReuseKeyInputError):
        assert issubclass(cls, ExternalIDError)
        assert issubclass(cls, ValueError)


# ---- properties ----

hosts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/"), min_size=1
)
int64s = st.integers(min_value=MIN_INT64, max_value=MAX_INT64)
clids = st.integers(min_value=0, max_value=MAX_INT64)
patchsets = st.integers(min_value=0, max_value=MAX_INT32)


@given(hosts, int64s)
def test_prop_buildbucket_round_trip(host: str, build_id: int) -> None:
    eid = buildbucket_external_id(host, build_id)
    assert parse_buildbucket_external_id(eid) == (host, build_id)
    assert external_id_kind(eid) == "buildbucket"
    assert external_id_url(eid) == f"https://{host}/build/{build_id}"


@given(clids, patchsets)
def test_prop_cl_patchset_round_trip(clid: int, ps: int) -> None:
    s = cl_patchset(clid, ps)
    assert len(s) == 2 + 1 + 16 + 1 + 8
    assert parse_cl_patchset(s) == (clid, ps)


@given(clids, patchsets, clids, patchsets)
def test_prop_cl_patchset_sort_order(c1: int, p1: int, c2: int, p2: int) -> None:
    # Lexicographic order of the strings == numeric order of (clid, patchset).
    a, b = cl_patchset(c1, p1), cl_patchset(c2, p2)
    assert (a < b) == ((c1, p1) < (c2, p2))


@given(st.lists(st.tuples(clids, patchsets), min_size=1))
def test_prop_reuse_key_order_independent(cls: list[tuple[int, int]]) -> None:
    k = reuse_key(cls)
    assert len(base64.b64decode(k, validate=True)) == 32
    assert reuse_key(reversed(cls)) == k


@given(st.text())
def test_prop_parsers_raise_only_module_errors(s: str) -> None:
    for fn in (parse_buildbucket_external_id, parse_cl_patchset, external_id_kind, external_id_url):
        try:
            fn(s)
        except ExternalIDError:
            pass
