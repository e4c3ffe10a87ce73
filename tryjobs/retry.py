"""Retry quota arithmetic for failed critical tryjobs.

Pure (no ORM, no clock). Spec: tryjob_semantics.md §4 (with the worked examples of §4.3).
The executor (tryjobs/executor.py) documents how it is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cvproto.cq.recipe import cq_pb2
from cvproto.cv.config import config_pb2
from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb

__all__ = [
    "EXPLICITLY_DENIED",
    "INSUFFICIENT_GLOBAL_QUOTA",
    "INSUFFICIENT_QUOTA",
    "MIN_WEIGHT",
    "RETRY_NOT_ENABLED",
    "FailedAttempt",
    "RetryDecision",
    "attempt_snapshot",
    "can_retry_all",
    "failure_weight",
    "retry_enabled",
]

RetryConfig = config_pb2.Verifiers.Tryjob.RetryConfig
Attempt = tryjob_pb.ExecutionState.Execution.Attempt
Snapshot = tryjob_pb.ExecutionLogEntry.TryjobSnapshot
RetryDenied = tryjob_pb.ExecutionLogEntry.RetryDenied
Result = tryjob_pb.Result

RETRY_NOT_ENABLED = "retry is not enabled in the config"
EXPLICITLY_DENIED = "tryjob explicitly denies retry in its output"
INSUFFICIENT_QUOTA = "insufficient quota"
INSUFFICIENT_GLOBAL_QUOTA = "insufficient global quota"

# QUIRK (fixed): upstream lets a weight of 0 consume nothing, so such failures retry forever
# and keep occupying builders; here every quota-counted failure costs at least this much.
MIN_WEIGHT = 1

_MAX_INT32 = 2**31 - 1


@dataclass(frozen=True)
class FailedAttempt:
    """The latest attempt of critical execution `index`, which ended without success."""

    index: int
    definition: tryjob_pb.Definition
    attempt: Attempt


@dataclass(frozen=True)
class RetryDecision:
    """`used_quota` is every execution's quota after charging (also when not allowed)."""

    allowed: bool
    used_quota: tuple[int, ...]
    denials: tuple[RetryDenied, ...] = ()


def attempt_snapshot(attempt: Attempt, definition: tryjob_pb.Definition) -> Snapshot:
    """A log snapshot of an attempt, under the definition it was made for."""
    snapshot = Snapshot(
        id=attempt.tryjob_id,
        external_id=attempt.external_id,
        definition=definition,
        status=attempt.status,
        reused=attempt.reused,
    )
    if attempt.HasField("result"):
        snapshot.result.CopyFrom(attempt.result)
    return snapshot


def retry_enabled(config: RetryConfig | None) -> bool:
    """Retry is off without a config and with an all-zero one (proto3 defaults)."""
    return config is not None and config != RetryConfig()


def failure_weight(config: RetryConfig, attempt: Attempt) -> int:
    """What a failed, not reused attempt costs: its status's weight, at least MIN_WEIGHT."""
    if attempt.status == tryjob_pb.CANCELLED:
        # QUIRK (fixed): upstream counts a CANCELLED attempt as ended-not-failed; here it is a
        # failure the CLs are probably not to blame for, so it costs what a transient one does.
        weight = config.transient_failure_weight
    else:
        status = attempt.result.status
        if status == Result.TIMEOUT:
            weight = config.timeout_weight
        elif status == Result.FAILED_TRANSIENTLY:
            weight = config.transient_failure_weight
        else:  # FAILED_PERMANENTLY and anything unexpected
            weight = config.failure_weight
    return max(weight, MIN_WEIGHT)


def _denial(failed: Sequence[FailedAttempt], reason: str) -> RetryDenied:
    return RetryDenied(
        tryjobs=[attempt_snapshot(f.attempt, f.definition) for f in failed], reason=reason
    )


def can_retry_all(
    config: RetryConfig | None, used_quota: Sequence[int], failed: Sequence[FailedAttempt]
) -> RetryDecision:
    """Whether every failed critical execution of this pass may get a new attempt.

    `used_quota[i]` is execution i's quota before this pass; `failed` is in execution order.
    Every failure is charged even when another one is denied (so the returned quotas can grow
    while `allowed` is False). Reused attempts are free and their output's retry denial is
    ignored: the failure happened for another run. Comparisons are strict: using exactly the
    quota is allowed.
    """
    quota = list(used_quota)
    if not retry_enabled(config):
        return RetryDecision(False, tuple(quota), (_denial(failed, RETRY_NOT_ENABLED),))
    total = sum(quota)
    denials: list[RetryDenied] = []
    for f in failed:
        if f.attempt.reused:
            # Kept: another run's tryjob failed; this run's budget and that recipe's retry
            # denial (made for its own run) do not apply.
            continue
        result = f.attempt.result
        if (
            f.attempt.HasField("result")
            and result.HasField("output")
            and result.output.retry == cq_pb2.Output.OUTPUT_RETRY_DENIED
        ):
            denials.append(_denial([f], EXPLICITLY_DENIED))
            continue
        weight = failure_weight(config, f.attempt)
        # Saturates: used_quota is an int32 and anything near the limit is long exhausted.
        quota[f.index] = min(quota[f.index] + weight, _MAX_INT32)
        total += weight
        if quota[f.index] > config.single_quota:
            denials.append(_denial([f], INSUFFICIENT_QUOTA))
    if not denials and total > config.global_quota:
        denials.append(_denial(failed, INSUFFICIENT_GLOBAL_QUOTA))
    return RetryDecision(not denials, tuple(quota), tuple(denials))
