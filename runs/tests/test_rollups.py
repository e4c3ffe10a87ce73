"""The pure parts of the run rollups: histogram buckets, percentiles and windows."""

import math
import random
from datetime import UTC, datetime

import pytest

from runs import rollups
from runs.models import AttemptStatus, RollupPeriod, RunStatus, VerifyAction


@pytest.mark.parametrize("seconds", [1, 1.5, 59, 60, 61, 3600, 86_400 * 3, 10**7])
def test_a_duration_falls_in_its_bucket(seconds):
    low, high = rollups.bucket_bounds(rollups.duration_bucket(seconds))
    assert low <= seconds < high
    assert high / low == pytest.approx(2**0.25)


def test_short_and_huge_durations_have_edge_buckets():
    assert rollups.duration_bucket(0.2) == rollups.duration_bucket(-5) == 0
    assert rollups.duration_bucket(10**12) == rollups.MAX_BUCKET


def test_percentiles_from_buckets_are_within_the_stated_precision():
    rng = random.Random(7)
    values = [rng.lognormvariate(6, 1.2) + 1 for _ in range(5000)]
    histogram = {}
    for v in values:
        bucket = rollups.duration_bucket(v)
        histogram[bucket] = histogram.get(bucket, 0) + 1
    ordered = sorted(values)
    for q in (0.5, 0.9, 0.99):
        exact = ordered[math.ceil(q * len(ordered)) - 1]
        assert abs(rollups.percentile(histogram, q) - exact) <= 0.095 * exact
    assert rollups.percentile({}, 0.5) is None


def test_windows_are_whole_hours_or_days():
    now = datetime(2026, 12, 5, 15, 37, 12, tzinfo=UTC)
    day = rollups.window("24h", now)
    assert (day.period, day.since) == (RollupPeriod.HOUR, datetime(2026, 12, 4, 16, tzinfo=UTC))
    assert len(day.starts()) == 24 and day.starts()[-1] == datetime(2026, 12, 5, 15, tzinfo=UTC)
    month = rollups.window("30d", now)
    assert month.since == datetime(2026, 11, 6, tzinfo=UTC)
    assert "the last 30 days" in month.words
    with pytest.raises(KeyError):
        rollups.window("1y", now)


@pytest.mark.parametrize(
    "verdict, finished, expected",
    [
        (VerifyAction.SUBMIT, None, RunStatus.SUCCEEDED),
        (VerifyAction.DRY_RUN_OK, None, RunStatus.SUCCEEDED),
        (VerifyAction.FAIL, None, RunStatus.FAILED),
        (None, AttemptStatus.INFRA_FAILURE, RunStatus.FAILED),
        (None, AttemptStatus.ABORTED, RunStatus.CANCELLED),
        (VerifyAction.FAIL, AttemptStatus.SUCCESS, RunStatus.SUCCEEDED),  # the finished run's
        (None, AttemptStatus.STARTED, None),
        (None, None, None),
    ],
)
def test_what_cqdaemon_said_implies_a_status(verdict, finished, expected):
    word = rollups.cqdaemon_word(verdict, finished)
    assert (word[1] if word else None) == expected
