from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf import json_format
from hypothesis import given
from hypothesis import strategies as st

from cvproto.buildbucket.v2 import common_pb2
from cvproto.cq.recipe import cq_pb2
from cvproto.cv.internal.tryjob import storage_pb2
from tryjobs.buildbucket_status import (
    CQ_OUTPUT_KEY,
    BuildbucketStatusError,
    InvalidOutputPropertiesError,
    UnexpectedBuildStatusError,
    parse_cq_output,
    parse_cq_output_with_errors,
    tryjob_status_from_build,
)

BB = common_pb2
R = storage_pb2.Result
ENDED, TRIGGERED = storage_pb2.ENDED, storage_pb2.TRIGGERED
Output = cq_pb2.Output

# ---- §7.1 status mapping ----


@pytest.mark.parametrize(
    ("status", "timeout", "transient", "want"),
    [
        # SUCCESS wins over everything.
        (BB.SUCCESS, False, False, (ENDED, R.SUCCEEDED)),
        (BB.SUCCESS, True, False, (ENDED, R.SUCCEEDED)),
        (BB.SUCCESS, True, True, (ENDED, R.SUCCEEDED)),
        # Timeout next, for any other status.
        (BB.FAILURE, True, False, (ENDED, R.TIMEOUT)),
        (BB.FAILURE, True, True, (ENDED, R.TIMEOUT)),
        (BB.CANCELED, True, False, (ENDED, R.TIMEOUT)),
        (BB.INFRA_FAILURE, True, False, (ENDED, R.TIMEOUT)),
        (BB.STARTED, True, False, (ENDED, R.TIMEOUT)),
        (BB.SCHEDULED, True, False, (ENDED, R.TIMEOUT)),
        (BB.STATUS_UNSPECIFIED, True, False, (ENDED, R.TIMEOUT)),
        (BB.ENDED_MASK, True, False, (ENDED, R.TIMEOUT)),
        # FAILURE depends on the transient flag.
        (BB.FAILURE, False, True, (ENDED, R.FAILED_TRANSIENTLY)),
        (BB.FAILURE, False, False, (ENDED, R.FAILED_PERMANENTLY)),
        # CANCELED / INFRA_FAILURE are transient.
        (BB.CANCELED, False, False, (ENDED, R.FAILED_TRANSIENTLY)),
        (BB.CANCELED, False, True, (ENDED, R.FAILED_TRANSIENTLY)),
        (BB.INFRA_FAILURE, False, False, (ENDED, R.FAILED_TRANSIENTLY)),
        # Still running.
        (BB.SCHEDULED, False, False, (TRIGGERED, R.UNKNOWN)),
        (BB.STARTED, False, False, (TRIGGERED, R.UNKNOWN)),
        (BB.STARTED, False, True, (TRIGGERED, R.UNKNOWN)),
    ],
)
def test_status_mapping(status: int, timeout: bool, transient: bool, want: tuple) -> None:
    assert tryjob_status_from_build(status, timeout, transient) == want


def test_status_mapping_uses_expected_enum_numbers() -> None:
    assert tryjob_status_from_build(12, False, False) == (3, 2)
    assert tryjob_status_from_build(20, True, False) == (3, 5)
    assert tryjob_status_from_build(20, False, False) == (3, 3)
    assert tryjob_status_from_build(68, False, False) == (3, 4)
    assert tryjob_status_from_build(1, False, False) == (2, 1)


@pytest.mark.parametrize(
    ("status", "msg"),
    [
        (BB.STATUS_UNSPECIFIED, "unexpected buildbucket status STATUS_UNSPECIFIED"),
        (BB.ENDED_MASK, "unexpected buildbucket status ENDED_MASK"),
        (999, "unexpected buildbucket status 999"),
        (-1, "unexpected buildbucket status -1"),
    ],
)
def test_status_mapping_unexpected(status: int, msg: str) -> None:
    for transient in (False, True):
        with pytest.raises(UnexpectedBuildStatusError) as ei:
            tryjob_status_from_build(status, False, transient)
        assert str(ei.value) == msg
        assert isinstance(ei.value, ValueError)


@pytest.mark.parametrize("status", ["SUCCESS", None, True, 12.0])
def test_status_mapping_rejects_non_int(status: object) -> None:
    with pytest.raises(UnexpectedBuildStatusError, match="unexpected buildbucket status .*int"):
        tryjob_status_from_build(status, False, False)  # type: ignore[arg-type]


# ---- §7.2 output parsing: fixture table ----


def as_dict(out: Output | None) -> dict[str, Any] | None:
    return None if out is None else json_format.MessageToDict(out)


def test_fixture_reuse_only() -> None:
    out, transient = parse_cq_output({CQ_OUTPUT_KEY: {"reuse": [{"modeRegexp": "FULL_RUN"}]}})
    assert as_dict(out) == {"reuse": [{"modeRegexp": "FULL_RUN"}]}
    assert not transient


def test_fixture_do_not_retry_with_other_failure_type() -> None:
    out, transient = parse_cq_output({"do_not_retry": True, "failure_type": "PATCH_FAILURE"})
    assert out == Output(retry=Output.OUTPUT_RETRY_DENIED)
    assert not transient


def test_fixture_structured_retry_denied() -> None:
    out, transient = parse_cq_output({CQ_OUTPUT_KEY: {"retry": "OUTPUT_RETRY_DENIED"}})
    assert out == Output(retry=Output.OUTPUT_RETRY_DENIED)
    assert not transient


def test_fixture_structured_retry_wins_over_legacy() -> None:
    out, transient = parse_cq_output(
        {CQ_OUTPUT_KEY: {"retry": "OUTPUT_RETRY_ALLOWED"}, "do_not_retry": True}
    )
    assert out == Output(retry=Output.OUTPUT_RETRY_ALLOWED)
    assert not transient


def test_fixture_transient_failure_only() -> None:
    out, transient = parse_cq_output({"failure_type": "TRANSIENT_FAILURE"})
    assert out == Output()
    assert out is not None
    assert transient


@pytest.mark.parametrize("props", [{}, None, {"other": 1, "got_revision": "abc"}])
def test_fixture_no_properties(props: dict | None) -> None:
    assert parse_cq_output(props) == (None, False)
    assert parse_cq_output_with_errors(props) == (None, False, [])


def test_fixture_malformed_output_dropped_with_two_errors() -> None:
    props = {
        CQ_OUTPUT_KEY: json.dumps({"retry": "OUTPUT_RETRY_DENIED"}),
        "do_not_retry": 980,
        "failure_type": {"kind": "TRANSIENT_FAILURE"},
    }
    out, transient, errors = parse_cq_output_with_errors(props)
    assert out is None
    assert not transient
    assert len(errors) == 2
    assert f'"{CQ_OUTPUT_KEY}" must be a JSON object, got str' in errors[0]
    assert '"do_not_retry" must be a JSON boolean, got int 980' in errors[1]
    assert parse_cq_output(props) == (None, False)


# ---- §7.2 further rules ----


def test_buildbucket_md_e6_success_with_reusability() -> None:
    # buildbucket.md E6: triggered build IDs as strings keep int64 precision.
    props = {
        CQ_OUTPUT_KEY: {
            "triggeredBuildIds": ["8752643000000000001"],
            "reusability": {"modeAllowlist": ["DRY_RUN", "FULL_RUN"]},
        }
    }
    out, transient = parse_cq_output(props)
    assert out is not None
    assert list(out.triggered_build_ids) == [8752643000000000001]
    assert list(out.reusability.mode_allowlist) == ["DRY_RUN", "FULL_RUN"]
    assert out.retry == Output.OUTPUT_RETRY_UNSPECIFIED
    assert not transient


def test_buildbucket_md_e11_string_output_and_non_bool_do_not_retry() -> None:
    props = {"do_not_retry": "yes", CQ_OUTPUT_KEY: '{"retry": "OUTPUT_RETRY_DENIED"}'}
    out, transient, errors = parse_cq_output_with_errors(props)
    assert (out, transient, len(errors)) == (None, False, 2)
    assert "got str 'yes'" in errors[1]


def test_do_not_retry_false_allows() -> None:
    out, _ = parse_cq_output({"do_not_retry": False})
    assert out == Output(retry=Output.OUTPUT_RETRY_ALLOWED)


def test_do_not_retry_applies_when_structured_retry_unspecified() -> None:
    out, _ = parse_cq_output(
        {CQ_OUTPUT_KEY: {"reusability": {"mode_allowlist": ["DRY_RUN"]}}, "do_not_retry": True}
    )
    assert out == Output(
        retry=Output.OUTPUT_RETRY_DENIED,
        reusability=Output.Reusability(mode_allowlist=["DRY_RUN"]),
    )


@pytest.mark.parametrize(
    "structured",
    [
        {"retry": "OUTPUT_RETRY_DENIED"},
        {"retry": 2},  # enum numbers are accepted
        {"retry": "OUTPUT_RETRY_DENIED", "triggered_build_ids": [1, "2"]},  # snake_case keys
        {"triggeredBuildIds": [], "retry": "OUTPUT_RETRY_DENIED", "reuse": []},
    ],
)
def test_structured_output_json_variants(structured: dict) -> None:
    out, _ = parse_cq_output({CQ_OUTPUT_KEY: structured})
    assert out is not None
    assert out.retry == Output.OUTPUT_RETRY_DENIED


@pytest.mark.parametrize(
    ("structured", "needle"),
    [
        ({"unknownKey": 1}, "is not a valid cq.recipe.Output"),
        ({"retry": "NOPE"}, "Invalid enum value NOPE"),
        ({"retry": True}, "retry must be an enum name or number, got True"),
        ({"reuse": "FULL_RUN"}, "is not a valid cq.recipe.Output"),
        ({"triggeredBuildIds": [1.5]}, "is not a valid cq.recipe.Output"),
        ({"reusability": {"modeAllowlist": "DRY_RUN"}}, "is not a valid cq.recipe.Output"),
        (None, "must be a JSON object, got NoneType"),
        ([{"retry": "OUTPUT_RETRY_DENIED"}], "must be a JSON object, got list"),
        (3, "must be a JSON object, got int 3"),
    ],
)
def test_structured_output_errors_drop_output(structured: Any, needle: str) -> None:
    props = {CQ_OUTPUT_KEY: structured, "do_not_retry": True, "failure_type": "TRANSIENT_FAILURE"}
    out, transient, errors = parse_cq_output_with_errors(props)
    assert out is None
    assert transient  # the flag does not depend on the Output being valid
    assert len(errors) == 1
    assert needle in errors[0]
    assert parse_cq_output(props) == (None, True)


@pytest.mark.parametrize(
    ("failure_type", "transient"),
    [
        ("TRANSIENT_FAILURE", True),
        ("transient_failure", False),
        ("TRANSIENT_FAILURE ", False),
        ("INFRA_FAILURE", False),
        (None, False),
        (["TRANSIENT_FAILURE"], False),
        (1, False),
    ],
)
def test_failure_type_only_exact_string_counts_and_never_errors(
    failure_type: Any, transient: bool
) -> None:
    out, got, errors = parse_cq_output_with_errors({"failure_type": failure_type})
    assert out == Output()
    assert got is transient
    assert errors == []


def test_output_feeds_status_mapping_like_e8() -> None:
    # buildbucket.md E8: FAILURE + TRANSIENT_FAILURE ⇒ ENDED/FAILED_TRANSIENTLY, output {}.
    out, transient = parse_cq_output({"failure_type": "TRANSIENT_FAILURE"})
    assert as_dict(out) == {}
    assert tryjob_status_from_build(BB.FAILURE, False, transient) == (ENDED, R.FAILED_TRANSIENTLY)


def test_parse_returns_fresh_messages() -> None:
    props = {CQ_OUTPUT_KEY: {"retry": "OUTPUT_RETRY_DENIED"}}
    a, _ = parse_cq_output(props)
    b, _ = parse_cq_output(props)
    assert a is not b
    assert a is not None
    a.retry = Output.OUTPUT_RETRY_ALLOWED
    assert b == Output(retry=Output.OUTPUT_RETRY_DENIED)
    assert props == {CQ_OUTPUT_KEY: {"retry": "OUTPUT_RETRY_DENIED"}}  # input untouched


@pytest.mark.parametrize("props", ["{}", ["do_not_retry"], 5])
def test_non_mapping_properties_rejected(props: Any) -> None:
    with pytest.raises(InvalidOutputPropertiesError) as ei:
        parse_cq_output(props)
    assert "invalid output properties" in str(ei.value)
    assert "must be a JSON object" in str(ei.value)
    assert isinstance(ei.value, BuildbucketStatusError)


# ---- properties ----

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3)
    ),
    max_leaves=8,
)
cq_keys = st.sampled_from(
    ["retry", "reuse", "reusability", "triggeredBuildIds", "triggered_build_ids", "modeRegexp"]
)
cq_like = st.dictionaries(cq_keys, json_values, max_size=3)
props_strategy = st.dictionaries(
    st.sampled_from([CQ_OUTPUT_KEY, "do_not_retry", "failure_type", "other"]),
    cq_like | json_values,
    max_size=4,
)


@given(props_strategy)
def test_prop_parse_cq_output_never_raises_and_is_consistent(props: dict[str, Any]) -> None:
    out, transient, errors = parse_cq_output_with_errors(props)
    assert transient == (props.get("failure_type") == "TRANSIENT_FAILURE")
    has_cv_key = any(k in props for k in (CQ_OUTPUT_KEY, "do_not_retry", "failure_type"))
    if not has_cv_key:
        assert errors == []
    assert (out is None) == (bool(errors) or not has_cv_key)
    if out is not None and isinstance(props.get("do_not_retry"), bool):
        assert out.retry != Output.OUTPUT_RETRY_UNSPECIFIED


@given(
    st.sampled_from([v for _, v in BB.Status.items()]) | st.integers(-(2**31), 2**31 - 1),
    st.booleans(),
    st.booleans(),
)
def test_prop_status_mapping_total_or_value_error(status: int, timeout: bool, tr: bool) -> None:
    try:
        tj, res = tryjob_status_from_build(status, timeout, tr)
    except UnexpectedBuildStatusError as e:
        assert str(e).startswith("unexpected buildbucket status ")
        assert not timeout and status not in (
            BB.SUCCESS,
            BB.FAILURE,
            BB.CANCELED,
            BB.INFRA_FAILURE,
            BB.SCHEDULED,
            BB.STARTED,
        )
        return
    # §1.2 invariants: ENDED ⇒ verdict known; TRIGGERED ⇒ UNKNOWN.
    assert tj in (ENDED, TRIGGERED)
    if tj == ENDED:
        assert res not in (R.UNKNOWN, R.RESULT_STATUS_UNSPECIFIED)
    else:
        assert res == R.UNKNOWN
