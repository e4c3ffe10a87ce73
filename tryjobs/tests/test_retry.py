"""Retry quota arithmetic (tryjob_semantics.md §4), as a function of its own."""

import pytest

from tryjobs.retry import (
    EXPLICITLY_DENIED,
    INSUFFICIENT_GLOBAL_QUOTA,
    INSUFFICIENT_QUOTA,
    MIN_WEIGHT,
    RETRY_NOT_ENABLED,
    FailedAttempt,
    RetryDecision,
    can_retry_all,
    failure_weight,
    retry_enabled,
)
from tryjobs.tests.test_executor_support import (
    CANCELLED,
    FAILED_PERMANENTLY,
    FAILED_TRANSIENTLY,
    ONE,
    RC_A,
    RC_B,
    TIMEOUT,
    ZERO,
    LogEntry,
    Output,
    RetryConfig,
    att,
    ended,
    snap,
)

DENIED_OUTPUT = Output.OUTPUT_RETRY_DENIED


def failed(index, attempt):
    return FailedAttempt(index, (ZERO, ONE)[index], attempt)


def denial(reason, *items):
    return LogEntry.RetryDenied(
        tryjobs=[snap(f.attempt, f.definition) for f in items], reason=reason
    )


# The worked examples of §4.3 (RC-A: single 2, global 3, failure 3, transient 1, timeout 2).
WORKED = [
    (
        "no config",
        None,
        [0, 0],
        [(0, ended(1, FAILED_TRANSIENTLY))],
        False,
        [0, 0],
        [RETRY_NOT_ENABLED],
    ),
    (
        "empty config",
        RetryConfig(),
        [0, 0],
        [(0, ended(1, FAILED_TRANSIENTLY))],
        False,
        [0, 0],
        [RETRY_NOT_ENABLED],
    ),
    ("transient", RC_A, [0, 0], [(0, ended(345, FAILED_TRANSIENTLY))], True, [1, 0], []),
    (
        "permanent",
        RC_A,
        [0, 0],
        [(0, ended(345, FAILED_PERMANENTLY))],
        False,
        [3, 0],
        [INSUFFICIENT_QUOTA],
    ),
    (
        "reused permanent",
        RC_A,
        [0, 0],
        [(0, ended(345, FAILED_PERMANENTLY, reused=True))],
        True,
        [0, 0],
        [],
    ),
    (
        "output denies",
        RC_A,
        [0, 0],
        [(0, ended(345, FAILED_TRANSIENTLY, retry=DENIED_OUTPUT))],
        False,
        [0, 0],
        [EXPLICITLY_DENIED],
    ),
    ("RC-B transient", RC_B, [0, 0], [(0, ended(1, FAILED_TRANSIENTLY))], True, [1, 0], []),
    (
        "RC-B permanent",
        RC_B,
        [0, 0],
        [(0, ended(1, FAILED_PERMANENTLY))],
        False,
        [5, 0],
        [INSUFFICIENT_QUOTA],
    ),
    (
        "RC-B two transient",
        RC_B,
        [0, 0],
        [(0, ended(1, FAILED_TRANSIENTLY)), (1, ended(2, FAILED_TRANSIENTLY))],
        True,
        [1, 1],
        [],
    ),
    ("2nd transient", RC_A, [1, 0], [(0, ended(2, FAILED_TRANSIENTLY))], True, [2, 0], []),
    (
        "3rd transient",
        RC_A,
        [2, 0],
        [(0, ended(3, FAILED_TRANSIENTLY))],
        False,
        [3, 0],
        [INSUFFICIENT_QUOTA],
    ),
]


@pytest.mark.parametrize(
    "config, quota, items, allowed, after, reasons",
    [w[1:] for w in WORKED],
    ids=[w[0] for w in WORKED],
)
def test_worked_examples(config, quota, items, allowed, after, reasons):
    items = [failed(i, a) for i, a in items]
    decision = can_retry_all(config, quota, items)
    assert (decision.allowed, list(decision.used_quota)) == (allowed, after)
    assert [d.reason for d in decision.denials] == reasons
    for d in decision.denials:
        assert list(d.tryjobs) == [snap(f.attempt, f.definition) for f in items]


def test_two_timeouts_exceed_the_global_quota_with_one_denial_for_both():
    items = [failed(0, ended(345, TIMEOUT)), failed(1, ended(567, TIMEOUT))]
    assert can_retry_all(RC_A, [0, 0], items) == RetryDecision(
        False, (2, 2), (denial(INSUFFICIENT_GLOBAL_QUOTA, *items),)
    )


def test_global_quota_lists_only_this_batchs_failures():
    item = failed(1, ended(4, TIMEOUT))
    assert can_retry_all(RC_A, [2, 0], [item]) == RetryDecision(
        False, (2, 2), (denial(INSUFFICIENT_GLOBAL_QUOTA, item),)
    )


def test_exactly_the_quotas_are_allowed():
    config = RetryConfig(single_quota=3, global_quota=3, failure_weight=3)
    assert can_retry_all(config, [0], [failed(0, ended(1, FAILED_PERMANENTLY))]).allowed


def test_quota_is_charged_for_every_failure_even_after_a_denial():
    explicit = failed(0, ended(1, FAILED_TRANSIENTLY, retry=DENIED_OUTPUT))
    charged = failed(1, ended(2, FAILED_PERMANENTLY))
    assert can_retry_all(RC_A, [0, 0], [explicit, charged]) == RetryDecision(
        False,
        (0, 3),
        (denial(EXPLICITLY_DENIED, explicit), denial(INSUFFICIENT_QUOTA, charged)),
    )


def test_global_quota_is_not_checked_once_something_was_denied():
    over = RetryConfig(single_quota=1, global_quota=1, failure_weight=2, transient_failure_weight=2)
    items = [failed(0, ended(1, FAILED_PERMANENTLY)), failed(1, ended(2, FAILED_TRANSIENTLY))]
    decision = can_retry_all(over, [0, 0], items)
    assert [d.reason for d in decision.denials] == [INSUFFICIENT_QUOTA, INSUFFICIENT_QUOTA]
    assert decision.used_quota == (2, 2)


def test_reused_failures_only_meet_an_already_exceeded_global_quota():
    item = failed(0, ended(1, FAILED_PERMANENTLY, reused=True))
    assert can_retry_all(RC_A, [0, 0], [item]).allowed
    lowered = RetryConfig(single_quota=2, global_quota=1, failure_weight=1)
    assert can_retry_all(lowered, [2, 0], [item]) == RetryDecision(
        False, (2, 0), (denial(INSUFFICIENT_GLOBAL_QUOTA, item),)
    )


def test_inputs_are_not_modified():
    quota = [1, 0]
    can_retry_all(RC_A, quota, [failed(0, ended(1, FAILED_TRANSIENTLY))])
    assert quota == [1, 0]


def test_quota_saturates_at_int32():
    huge = RetryConfig(single_quota=2**31 - 1, global_quota=2**31 - 1, failure_weight=2**31 - 1)
    decision = can_retry_all(huge, [5], [failed(0, ended(1, FAILED_PERMANENTLY))])
    assert decision.used_quota == (2**31 - 1,)


class TestWeights:
    @pytest.mark.parametrize(
        "attempt, weight",
        [
            (ended(1, TIMEOUT), 2),
            (ended(1, FAILED_PERMANENTLY), 3),
            (ended(1, FAILED_TRANSIENTLY), 1),
            (att(1, CANCELLED), 1),  # QUIRK fixed: a transient failure, not a success
        ],
    )
    def test_weight_by_status(self, attempt, weight):
        assert failure_weight(RC_A, attempt) == weight

    def test_zero_weight_costs_the_minimum(self):  # QUIRK fixed
        assert MIN_WEIGHT == 1
        assert failure_weight(RC_B, ended(1, TIMEOUT)) == 1
        only_global = RetryConfig(single_quota=2, global_quota=8)
        decisions = [
            can_retry_all(only_global, [used], [failed(0, ended(1, FAILED_PERMANENTLY))])
            for used in (0, 1, 2)
        ]
        assert [d.allowed for d in decisions] == [True, True, False]


@pytest.mark.parametrize(
    "config, enabled",
    [
        (None, False),
        (RetryConfig(), False),
        (RetryConfig(global_quota=1), True),
        (RetryConfig(timeout_weight=1), True),
        (RC_A, True),
    ],
)
def test_retry_enabled(config, enabled):
    assert retry_enabled(config) is enabled


def test_a_config_with_weights_but_no_single_quota_denies_everything():
    decision = can_retry_all(
        RetryConfig(failure_weight=1, global_quota=5),
        [0],
        [failed(0, ended(1, FAILED_PERMANENTLY))],
    )
    assert (decision.allowed, [d.reason for d in decision.denials]) == (False, [INSUFFICIENT_QUOTA])
