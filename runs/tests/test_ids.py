from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runs.ids import (
    DIGEST_VERSION,
    START_OF_THE_WORLD,
    AttemptKeyCL,
    IDError,
    InvalidAttemptKeyCLError,
    InvalidCLExternalIDError,
    InvalidProjectError,
    InvalidRunIDError,
    RunID,
    attempt_key,
    gerrit_cl_external_id,
    gerrit_cl_url,
    invert_time_ms,
    parse_gerrit_cl_external_id,
    validate_project,
)

MAX_INT64 = 2**63 - 1
TRIGGER = datetime(2020, 2, 2, 10, 30, tzinfo=UTC)
END_LAST_US = datetime(2306, 8, 19, 1, 13, 16, 854775, tzinfo=UTC)


def vector_cl(**kw: object) -> AttemptKeyCL:
    fields: dict[str, object] = dict(
        host="g-review",
        change=33,
        current_revision="rev-000033-001",
        trigger_time=TRIGGER,
        mode="DRY_RUN",
        gerrit_account_id=2,
    )
    fields.update(kw)
    return AttemptKeyCL(**fields)  # type: ignore[arg-type]


# ---- spec vectors (migration_behaviour.md §3.1) ----


def test_attempt_key_vector() -> None:
    assert attempt_key([vector_cl()]) == "0a6686c7f19a33a3"


def test_run_id_vector() -> None:
    rid = RunID.new("chromium", TRIGGER, attempt_key([vector_cl()]))
    assert str(rid) == "chromium/9042331396854-1-0a6686c7f19a33a3"
    assert rid.project == "chromium"
    assert rid.inverted_ms == 9042331396854
    assert rid.digest_version == DIGEST_VERSION == 1
    assert rid.attempt_key == "0a6686c7f19a33a3"


def test_run_id_parse_vector() -> None:
    rid = RunID.parse("chromium/9042331396854-1-0a6686c7f19a33a3")
    assert rid == RunID("chromium", 9042331396854, 1, "0a6686c7f19a33a3")


def test_attempt_key_accepts_other_timezones() -> None:
    plus2 = TRIGGER.astimezone(timezone(timedelta(hours=2)))
    assert attempt_key([vector_cl(trigger_time=plus2)]) == "0a6686c7f19a33a3"


def test_attempt_key_is_sensitive_to_every_field() -> None:
    base = attempt_key([vector_cl()])
    variants = [
        vector_cl(host="h-review"),
        vector_cl(change=34),
        vector_cl(current_revision="rev-000033-002"),
        vector_cl(trigger_time=TRIGGER + timedelta(microseconds=1)),
        vector_cl(mode="FULL_RUN"),
        vector_cl(gerrit_account_id=3),
    ]
    keys = {attempt_key([v]) for v in variants}
    assert base not in keys
    assert len(keys) == len(variants)


def test_attempt_key_multi_cl_sorted_by_host_then_numeric_change() -> None:
    import hashlib

    a = vector_cl(host="b-review", change=10)
    b = vector_cl(host="a-review", change=9)
    c = vector_cl(host="b-review", change=9)  # numeric: 9 < 10 (string order would differ)
    got = attempt_key([a, b, c])
    fields = []
    for cl in (b, c, a):
        fields += [cl.host, str(cl.change), "rev-000033-001", "1580639400000000", "DRY_RUN", "2"]
    want = hashlib.sha256("\0".join(fields).encode()).hexdigest()[:16]
    assert got == want
    assert attempt_key([c, a, b]) == got
    assert attempt_key(iter([b, a, c])) == got  # any iterable


def test_attempt_key_truncates_to_microseconds_and_uses_epoch_micros() -> None:
    import hashlib

    t = datetime(2021, 6, 22, 1, 2, 3, 456789, tzinfo=UTC)
    us = int((t - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * 10**6 + 456789
    fields = ["g-review", "33", "rev-000033-001", str(us), "DRY_RUN", "2"]
    want = hashlib.sha256("\0".join(fields).encode()).hexdigest()[:16]
    assert attempt_key([vector_cl(trigger_time=t)]) == want


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"host": ""}, "invalid host ''"),
        ({"host": "a\0b"}, "invalid host 'a\\x00b'"),
        ({"current_revision": ""}, "invalid current_revision"),
        ({"mode": 5}, "invalid mode 5"),
        ({"change": 0}, "invalid change 0: must be a positive int64"),
        ({"change": -1}, "invalid change -1"),
        ({"change": True}, "invalid change True"),
        ({"change": 2**63}, "invalid change 9223372036854775808"),
        ({"gerrit_account_id": -1}, "invalid gerrit_account_id -1"),
        ({"gerrit_account_id": "2"}, "invalid gerrit_account_id '2'"),
        ({"trigger_time": datetime(2020, 2, 2)}, "must be a timezone-aware datetime"),
        ({"trigger_time": "2020-02-02"}, "invalid trigger_time '2020-02-02'"),
    ],
)
def test_attempt_key_cl_validation(kw: dict[str, object], needle: str) -> None:
    with pytest.raises(InvalidAttemptKeyCLError) as ei:
        vector_cl(**kw)
    assert needle in str(ei.value)


def test_attempt_key_rejects_empty_and_duplicates_and_wrong_types() -> None:
    with pytest.raises(InvalidAttemptKeyCLError, match="need at least one CL"):
        attempt_key([])
    with pytest.raises(InvalidAttemptKeyCLError, match='duplicate CL "g-review/33"'):
        attempt_key([vector_cl(), vector_cl(mode="FULL_RUN")])
    with pytest.raises(InvalidAttemptKeyCLError, match="must be an AttemptKeyCL, not tuple"):
        attempt_key([("g-review", 33)])  # type: ignore[list-item]


# ---- inverted time ----


def test_invert_time_bounds() -> None:
    # START + (2^63-1) ns = END, so START maps to the biggest value.
    assert invert_time_ms(START_OF_THE_WORLD) == (2**63 - 1) // 10**6 == 9223372036854
    assert invert_time_ms(END_LAST_US) == 0
    assert invert_time_ms(END_LAST_US - timedelta(microseconds=1)) == 0
    # END is at .854775807 s, so 1 ms earlier than .854775 is the first 1.
    assert invert_time_ms(datetime(2306, 8, 19, 1, 13, 16, 853775, tzinfo=UTC)) == 1
    assert invert_time_ms(datetime(2306, 8, 19, 1, 13, 16, 853776, tzinfo=UTC)) == 0


def test_invert_time_truncates() -> None:
    base = invert_time_ms(TRIGGER)
    # END's sub-ms fraction is .775807 ms, so 775 µs later still truncates to the same ms.
    assert invert_time_ms(TRIGGER + timedelta(microseconds=775)) == base
    assert invert_time_ms(TRIGGER + timedelta(microseconds=776)) == base - 1


@pytest.mark.parametrize(
    ("t", "needle"),
    [
        (datetime(2020, 2, 2, 10, 30), "must be timezone-aware"),
        (START_OF_THE_WORLD - timedelta(microseconds=1), "must not be before 2014-05-09"),
        (datetime(1970, 1, 1, tzinfo=UTC), "must not be before"),
        (END_LAST_US + timedelta(microseconds=1), "must not be after 2306-08-19"),
        (datetime(9999, 1, 1, tzinfo=UTC), "must not be after"),
        ("2020-02-02T10:30:00Z", "must be a datetime, not str"),
    ],
)
def test_invert_time_rejects(t: object, needle: str) -> None:
    with pytest.raises(InvalidRunIDError) as ei:
        invert_time_ms(t)  # type: ignore[arg-type]
    assert needle in str(ei.value)
    with pytest.raises(InvalidRunIDError):
        RunID.new("p", t, "0a6686c7f19a33a3")  # type: ignore[arg-type]


# ---- RunID ----


def test_run_id_zero_pads_and_allows_dashes_in_project() -> None:
    rid = RunID("my-proj_1", 42, 1, "00000000000000ff")
    assert str(rid) == "my-proj_1/0000000000042-1-00000000000000ff"
    assert RunID.parse(str(rid)) == rid


def test_run_id_is_hashable_and_frozen() -> None:
    rid = RunID.parse("p/9042331396854-1-0a6686c7f19a33a3")
    assert {rid: 1}[RunID.parse("p/9042331396854-1-0a6686c7f19a33a3")] == 1
    with pytest.raises(AttributeError):
        rid.project = "q"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("s", "needle"),
    [
        ("", 'missing "/" after the LUCI project'),
        ("chromium", 'missing "/"'),
        ("/9042331396854-1-0a6686c7f19a33a3", 'invalid LUCI project "": must not be empty'),
        ("chro mium/9042331396854-1-0a6686c7f19a33a3", "must not contain whitespace"),
        ("p/x/9042331396854-1-0a6686c7f19a33a3", 'expected exactly one "/"'),
        ("p/9042331396854-1", 'got "9042331396854-1"'),
        ("p/9042331396854-1-0a6686c7f19a33a3-x", "expected"),
        ("p/904233139685-1-0a6686c7f19a33a3", 'inverted time "904233139685" must be exactly 13'),
        ("p/90423313968540-1-0a6686c7f19a33a3", 'inverted time "90423313968540"'),
        ("p/904233139685a-1-0a6686c7f19a33a3", 'inverted time "904233139685a"'),
        ("p/９042331396854-1-0a6686c7f19a33a3", "inverted time"),
        ("p/9042331396854--0a6686c7f19a33a3", 'digest version "" must be 1 to 9 decimal'),
        ("p/9042331396854-01-0a6686c7f19a33a3", 'digest version "01"'),
        ("p/9042331396854-v1-0a6686c7f19a33a3", 'digest version "v1"'),
        ("p/9042331396854-1234567890-0a6686c7f19a33a3", 'digest version "1234567890"'),
        ("p/9042331396854-1-0A6686C7F19A33A3", 'attempt key "0A6686C7F19A33A3" must be exactly 16'),
        ("p/9042331396854-1-0a6686c7f19a33a", 'attempt key "0a6686c7f19a33a"'),
        ("p/9042331396854-1-0a6686c7f19a33a3\n", "attempt key"),
        ("p/9042331396854-1-0a6686c7f19a33ag", 'attempt key "0a6686c7f19a33ag"'),
    ],
)
def test_run_id_parse_errors(s: str, needle: str) -> None:
    with pytest.raises(InvalidRunIDError) as ei:
        RunID.parse(s)
    msg = str(ei.value)
    assert needle in msg
    assert f'invalid run ID "{s}"' in msg
    assert isinstance(ei.value, ValueError)


def test_run_id_parse_rejects_non_str() -> None:
    with pytest.raises(InvalidRunIDError, match="must be a str, not bytes"):
        RunID.parse(b"p/9042331396854-1-0a6686c7f19a33a3")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "exc", "needle"),
    [
        (("", 1, 1, "0a6686c7f19a33a3"), InvalidProjectError, "must not be empty"),
        (("a/b", 1, 1, "0a6686c7f19a33a3"), InvalidProjectError, 'project "a/b"'),
        (("p", -1, 1, "0a6686c7f19a33a3"), InvalidRunIDError, "invalid inverted time -1"),
        (("p", 10**13, 1, "0a6686c7f19a33a3"), InvalidRunIDError, "invalid inverted time"),
        (("p", "1", 1, "0a6686c7f19a33a3"), InvalidRunIDError, "invalid inverted time '1'"),
        (("p", 1, -1, "0a6686c7f19a33a3"), InvalidRunIDError, "invalid digest version -1"),
        (("p", 1, 10**9, "0a6686c7f19a33a3"), InvalidRunIDError, "invalid digest version"),
        (("p", 1, 1, "0a6686c7f19a33a"), InvalidRunIDError, "invalid attempt key '0a6686c7f1"),
        (("p", 1, 1, None), InvalidRunIDError, "invalid attempt key None"),
    ],
)
def test_run_id_constructor_validates(args: tuple, exc: type[Exception], needle: str) -> None:
    with pytest.raises(exc) as ei:
        RunID(*args)
    assert needle in str(ei.value)
    assert isinstance(ei.value, IDError)


def test_run_id_new_rejects_bad_attempt_key_and_project() -> None:
    with pytest.raises(InvalidRunIDError, match="invalid attempt key 'XYZ'"):
        RunID.new("p", TRIGGER, "XYZ")
    with pytest.raises(InvalidProjectError, match='invalid LUCI project "a b"'):
        RunID.new("a b", TRIGGER, "0a6686c7f19a33a3")


# ---- project names ----


@pytest.mark.parametrize("name", ["chromium", "infra-internal", "a", "v8_1", "Mixed.Case"])
def test_validate_project_ok(name: str) -> None:
    validate_project(name)


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("", 'invalid LUCI project "": must not be empty'),
        ("a/b", 'invalid LUCI project "a/b": must not contain "/"'),
        ("a b", "must not contain whitespace"),
        ("ab\t", "must not contain whitespace"),
        ("\n", "must not contain whitespace"),
        (None, "invalid LUCI project None: must be a str, not NoneType"),
    ],
)
def test_validate_project_errors(name: object, needle: str) -> None:
    with pytest.raises(InvalidProjectError) as ei:
        validate_project(name)  # type: ignore[arg-type]
    assert needle in str(ei.value)


# ---- Gerrit CL external IDs (§3.4) ----


def test_gerrit_cl_external_id_and_url() -> None:
    eid = gerrit_cl_external_id("chromium-review.googlesource.com", 3530834)
    assert eid == "gerrit/chromium-review.googlesource.com/3530834"
    assert parse_gerrit_cl_external_id(eid) == ("chromium-review.googlesource.com", 3530834)
    assert gerrit_cl_url("g-review", 33) == "https://g-review/33"
    assert gerrit_cl_external_id("g-review", MAX_INT64) == f"gerrit/g-review/{MAX_INT64}"


@pytest.mark.parametrize(
    ("host", "change", "needle"),
    [
        ("", 1, "invalid Gerrit host '': must be a non-empty str"),
        ("a/b", 1, 'invalid Gerrit host "a/b": must not contain "/"'),
        (None, 1, "invalid Gerrit host None"),
        ("h", 0, "invalid Gerrit change 0: must be a positive int64"),
        ("h", -5, "invalid Gerrit change -5"),
        ("h", 2**63, "invalid Gerrit change 9223372036854775808"),
        ("h", "5", "invalid Gerrit change '5'"),
        ("h", True, "invalid Gerrit change True"),
    ],
)
def test_gerrit_cl_external_id_and_url_errors(host: object, change: object, needle: str) -> None:
    for fn in (gerrit_cl_external_id, gerrit_cl_url):
        with pytest.raises(InvalidCLExternalIDError) as ei:
            fn(host, change)  # type: ignore[arg-type]
        assert needle in str(ei.value)


@pytest.mark.parametrize(
    ("s", "needle"),
    [
        ("", 'expected "gerrit/<host>/<change>"'),
        ("gerrit/h", "expected"),
        ("gerrit/h/1/2", "expected"),
        ("buildbucket/h/1", "expected"),
        ("Gerrit/h/1", "expected"),
        ("gerrit//1", "host must not be empty"),
        ("gerrit/h/", 'change "" must be a positive decimal int64'),
        ("gerrit/h/0", 'change "0"'),
        ("gerrit/h/-1", 'change "-1"'),
        ("gerrit/h/+1", 'change "+1"'),
        ("gerrit/h/01", 'change "01"'),
        ("gerrit/h/1_000", 'change "1_000"'),
        ("gerrit/h/ 1", 'change " 1"'),
        ("gerrit/h/１", 'change "１"'),
        ("gerrit/h/9223372036854775808", 'change "9223372036854775808"'),
        ("gerrit/h/" + "9" * 5000, "must be a positive decimal int64"),
    ],
)
def test_parse_gerrit_cl_external_id_errors(s: str, needle: str) -> None:
    with pytest.raises(InvalidCLExternalIDError) as ei:
        parse_gerrit_cl_external_id(s)
    msg = str(ei.value)
    assert needle in msg
    assert msg.startswith('invalid CL external ID "')


def test_parse_gerrit_cl_external_id_rejects_non_str() -> None:
    with pytest.raises(InvalidCLExternalIDError, match="must be a str, not int"):
        parse_gerrit_cl_external_id(5)  # type: ignore[arg-type]


# ---- properties ----

projects = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/"), min_size=1
).filter(lambda s: not any(c.isspace() for c in s))
aware_times = st.datetimes(
    min_value=START_OF_THE_WORLD.replace(tzinfo=None),
    max_value=END_LAST_US.replace(tzinfo=None),
    timezones=st.just(UTC),
)
attempt_keys = st.text(alphabet="0123456789abcdef", min_size=16, max_size=16)
hosts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/"), min_size=1
)
changes = st.integers(min_value=1, max_value=MAX_INT64)


@given(projects, aware_times, attempt_keys)
def test_prop_run_id_round_trip(project: str, t: datetime, key: str) -> None:
    rid = RunID.new(project, t, key)
    s = str(rid)
    assert len(s) == len(project) + 1 + 13 + 3 + 16
    assert RunID.parse(s) == rid
    assert str(RunID.parse(s)) == s
    assert rid.attempt_key == s.rsplit("-", 1)[1]
    assert rid.project == s.split("/", 1)[0]


@given(
    projects,
    st.integers(min_value=0, max_value=10**13 - 1),
    st.integers(min_value=0, max_value=999_999_999),
    attempt_keys,
)
def test_prop_run_id_fields_round_trip(project: str, inv: int, ver: int, key: str) -> None:
    rid = RunID(project, inv, ver, key)
    assert RunID.parse(str(rid)) == rid


@given(aware_times, aware_times)
def test_prop_later_create_time_sorts_first(t1: datetime, t2: datetime) -> None:
    key = "0a6686c7f19a33a3"
    a, b = str(RunID.new("p", t1, key)), str(RunID.new("p", t2, key))
    if t1 < t2:
        assert b <= a
        assert invert_time_ms(t2) <= invert_time_ms(t1)
    if t2 - t1 >= timedelta(milliseconds=1):
        assert b < a  # at least 1 ms apart ⇒ strictly earlier in sort order


@given(aware_times)
def test_prop_inverted_time_matches_definition(t: datetime) -> None:
    end_ns = (START_OF_THE_WORLD - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(
        microseconds=1
    ) * 1000 + MAX_INT64
    t_ns = (t - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000
    assert invert_time_ms(t) == (end_ns - t_ns) // 10**6
    assert 0 <= invert_time_ms(t) <= 9223372036854


@given(hosts, changes)
def test_prop_gerrit_cl_external_id_round_trip(host: str, change: int) -> None:
    eid = gerrit_cl_external_id(host, change)
    assert parse_gerrit_cl_external_id(eid) == (host, change)
    assert gerrit_cl_url(host, change) == f"https://{host}/{change}"


@given(st.text())
def test_prop_parsers_raise_only_value_errors(s: str) -> None:
    for fn in (RunID.parse, parse_gerrit_cl_external_id):
        try:
            fn(s)
        except IDError:
            pass


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), changes), min_size=1, unique=True))
def test_prop_attempt_key_order_independent(pairs: list[tuple[str, int]]) -> None:
    cls = [vector_cl(host=h, change=c) for h, c in pairs]
    k = attempt_key(cls)
    assert len(k) == 16 and all(c in "0123456789abcdef" for c in k)
    assert attempt_key(reversed(cls)) == k
