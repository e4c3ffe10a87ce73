"""Whether an existing tryjob may stand in for a new attempt (reuse), and which one to pick.

Pure (no ORM, no clock: `now` is passed in). Spec: tryjob_semantics.md §3.6 (verdict table,
CV-store finder) and §7.3 (the recipe's mode allowlist). The executor (tryjobs/executor.py)
documents how these fit together.

A definition's ``disable_reuse_footers`` (cv_config.md §8.11) are part of its reuse key
(``RunView.reuse_key_for``); ``footers_changed`` is the backend finder's side of them. Its
``reuse_window`` (commit distance) is stored but judged by the 24-hour window: the distance
needs the target branch tip's commit position from Gitiles, which cvsite does not query, and
upstream falls back to the same 24 hours whenever it cannot tell the distance.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from cvproto.cq.recipe import cq_pb2
from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from cvproto.times import to_datetime
from projectconfig.footers import Metadata
from tryjobs.definitions import find_matching_definition, tryjob_matches
from tryjobs.views import AttemptRequest, RunView, TryjobView

__all__ = [
    "REUSE_FRESHNESS",
    "ReuseVerdict",
    "can_reuse",
    "choose_reusable",
    "footers_changed",
    "mode_allowed",
    "reuse_verdict",
]

REUSE_FRESHNESS = timedelta(hours=24)

Result = tryjob_pb.Result


class ReuseVerdict(enum.Enum):
    """ALLOWED: reuse it. MAYBE: reuse it, it has not ended (its result is checked on updates).
    DENIED: do not."""

    ALLOWED = "allowed"
    MAYBE = "maybe"
    DENIED = "denied"

    @property
    def reusable(self) -> bool:
        return self is not ReuseVerdict.DENIED


def mode_allowed(output: cq_pb2.Output | None, mode: str) -> bool:
    """The recipe's `reusability.mode_allowlist` admits `mode` (no output or empty list: all)."""
    if output is None:
        return True
    allowlist = output.reusability.mode_allowlist
    return not allowlist or mode in allowlist


def _fresh(result: Result | None, now: datetime) -> bool:
    if result is None or not result.HasField("create_time"):
        return False
    return now - to_datetime(result.create_time) < REUSE_FRESHNESS


def reuse_verdict(tryjob: TryjobView, mode: str, now: datetime) -> ReuseVerdict:
    """The §3.6 table for a candidate tryjob and a run in `mode`, at `now`."""
    status = tryjob.status
    result = tryjob.result
    if status == tryjob_pb.PENDING:
        return ReuseVerdict.MAYBE
    if status == tryjob_pb.TRIGGERED:
        # The mode allowlist is looked at once the tryjob reports its result (executor).
        return ReuseVerdict.MAYBE if _fresh(result, now) else ReuseVerdict.DENIED
    if status == tryjob_pb.ENDED:
        if (
            _fresh(result, now)
            and result.status == Result.SUCCEEDED
            and mode_allowed(result.output if result.HasField("output") else None, mode)
        ):
            return ReuseVerdict.ALLOWED
        return ReuseVerdict.DENIED
    if status in (tryjob_pb.CANCELLED, tryjob_pb.UNTRIGGERED):
        return ReuseVerdict.DENIED
    raise ValueError(f"tryjob {tryjob.id}: status {status} is not a tryjob status")


def can_reuse(
    tryjob: TryjobView, definition: tryjob_pb.Definition, mode: str, now: datetime
) -> ReuseVerdict:
    """Whether `tryjob` may be the next attempt for `definition` in a run of `mode` at `now`.

    DENIED when the definition disables reuse or the tryjob does not match it (§2.3: same
    definition, or it ran on the main or equivalent builder); otherwise `reuse_verdict`.
    """
    if definition.disable_reuse:
        return ReuseVerdict.DENIED
    if not tryjob_matches(tryjob.definition, tryjob.result, definition):
        return ReuseVerdict.DENIED
    return reuse_verdict(tryjob, mode, now)


def choose_reusable(
    candidates: Sequence[TryjobView],
    requests: Sequence[AttemptRequest],
    run: RunView,
    now: datetime,
) -> list[TryjobView | None]:
    """CV-store reuse (§3.6 finder 1): per request, the tryjob to reuse, or None.

    `candidates` are the stored tryjobs with the run's reuse key. A candidate is skipped when
    it already backs an attempt of this run, belongs to another LUCI project (or to none), or
    is not reusable; it goes to the first request whose definition it matches, and a request
    keeps the candidate created last (`entity_create_time`; strictly later wins, an unknown
    time loses).
    """
    eligible = [i for i, r in enumerate(requests) if r.reuse_allowed]
    wanted = [requests[i].definition for i in eligible]
    chosen: list[TryjobView | None] = [None] * len(requests)
    for tryjob in candidates:
        if tryjob.luci_project != run.luci_project:
            continue
        match = find_matching_definition(tryjob.definition, tryjob.result, wanted)
        if match is None:
            continue
        i = eligible[match]
        request = requests[i]
        if tryjob.id in request.known_tryjob_ids or (
            tryjob.external_id and tryjob.external_id in request.known_external_ids
        ):
            continue
        if not can_reuse(tryjob, request.definition, run.mode, now).reusable:
            continue
        best = chosen[i]
        if best is None or _later(tryjob.entity_create_time, best.entity_create_time):
            chosen[i] = tryjob
    return chosen


def _later(a: datetime | None, b: datetime | None) -> bool:
    if a is None:
        return False
    return b is None or a > b


def _chosen_footers(message: str, keys: frozenset[str]) -> list[tuple[str, str]]:
    return sorted(pair for pair in Metadata.of(message).pairs if pair[0] in keys)


def footers_changed(
    footer_keys: Iterable[str],
    tested: Iterable[tuple[str, int, int]],
    messages: Mapping[tuple[str, int], tuple[int, Mapping[int, str]]],
) -> bool:
    """Whether a tryjob found in the backend tested a patchset whose `footer_keys` footers
    (a definition's disable_reuse_footers) differ from the current patchset's; then it is
    not reused (cv_config.md §8.11, the backend finder's side of the footer reuse key).

    `tested` is the (host, change, patchset) it tested; `messages[(host, change)]` the CL's
    current patchset and its known commit messages by patchset. A tested patchset that is
    the current one cannot differ; one whose message is unknown counts as changed, as
    upstream (it cannot tell).
    """
    keys = frozenset(footer_keys)
    if not keys:
        return False
    for host, change, patchset in tested:
        known = messages.get((host, change))
        if known is None:
            return True
        current, by_patchset = known
        if patchset == current:
            continue
        if patchset not in by_patchset or current not in by_patchset:
            return True
        if _chosen_footers(by_patchset[patchset], keys) != _chosen_footers(
            by_patchset[current], keys
        ):
            return True
    return False
