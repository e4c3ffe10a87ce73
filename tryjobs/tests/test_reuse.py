"""Reuse verdicts (§3.6 table, 24-hour freshness, mode allowlist) and the CV-store finder."""

import base64
import hashlib
from datetime import timedelta

import pytest

from cvproto.cv.internal.tryjob import storage_pb2 as pb
from tryjobs import executor
from tryjobs.reuse import (
    ReuseVerdict,
    can_reuse,
    choose_reusable,
    footers_changed,
    mode_allowed,
    reuse_verdict,
)
from tryjobs.tests.test_executor_support import (
    CANCELLED,
    ENDED,
    FAILED_PERMANENTLY,
    FAILED_TRANSIENTLY,
    NOW,
    OTHER_RUN,
    PENDING,
    RUN,
    SUCCEEDED,
    TIMEOUT,
    TRIGGERED,
    UNKNOWN,
    UNTRIGGERED,
    Output,
    defn,
    request,
    res,
    tj,
)
from tryjobs.views import RunCL, RunView, TryjobView

ALLOWED, MAYBE, DENIED = ReuseVerdict.ALLOWED, ReuseVerdict.MAYBE, ReuseVerdict.DENIED
DAY = timedelta(hours=24)
X = defn("x")


def no_created(status):
    return res(status, created=None)


def with_reuse_rules(status):
    """An output whose deprecated `reuse` rules would deny DRY_RUN; CV ignores them."""
    result = res(status)
    result.output.reuse.add(mode_regexp="DRY_RUN", deny=True)
    return result


VERDICTS = [
    # (name, status, result, mode, verdict)
    ("PENDING", PENDING, None, "DRY_RUN", MAYBE),
    ("TRIGGERED fresh", TRIGGERED, res(UNKNOWN), "DRY_RUN", MAYBE),
    (
        "TRIGGERED 24h minus 1us",
        TRIGGERED,
        res(UNKNOWN, created=NOW - DAY + timedelta(microseconds=1)),
        "DRY_RUN",
        MAYBE,
    ),
    ("TRIGGERED exactly 24h", TRIGGERED, res(UNKNOWN, created=NOW - DAY), "DRY_RUN", DENIED),
    ("TRIGGERED older", TRIGGERED, res(UNKNOWN, created=NOW - 2 * DAY), "DRY_RUN", DENIED),
    ("TRIGGERED without create_time", TRIGGERED, no_created(UNKNOWN), "DRY_RUN", DENIED),
    ("TRIGGERED without result", TRIGGERED, None, "DRY_RUN", DENIED),
    (
        "TRIGGERED mode not checked yet",
        TRIGGERED,
        res(UNKNOWN, modes=("FULL_RUN",)),
        "DRY_RUN",
        MAYBE,
    ),
    ("ENDED SUCCEEDED fresh", ENDED, res(SUCCEEDED), "DRY_RUN", ALLOWED),
    ("ENDED SUCCEEDED in the future", ENDED, res(SUCCEEDED, created=NOW + DAY), "DRY_RUN", ALLOWED),
    ("ENDED SUCCEEDED exactly 24h", ENDED, res(SUCCEEDED, created=NOW - DAY), "DRY_RUN", DENIED),
    ("ENDED SUCCEEDED without create_time", ENDED, no_created(SUCCEEDED), "DRY_RUN", DENIED),
    ("ENDED without result", ENDED, None, "DRY_RUN", DENIED),
    ("ENDED FAILED_PERMANENTLY", ENDED, res(FAILED_PERMANENTLY), "DRY_RUN", DENIED),
    ("ENDED FAILED_TRANSIENTLY", ENDED, res(FAILED_TRANSIENTLY), "DRY_RUN", DENIED),
    ("ENDED TIMEOUT", ENDED, res(TIMEOUT), "DRY_RUN", DENIED),
    (
        "ENDED mode allowed",
        ENDED,
        res(SUCCEEDED, modes=("DRY_RUN", "FULL_RUN")),
        "DRY_RUN",
        ALLOWED,
    ),
    ("ENDED mode not allowed", ENDED, res(SUCCEEDED, modes=("FULL_RUN",)), "DRY_RUN", DENIED),
    ("ENDED empty allowlist", ENDED, res(SUCCEEDED, modes=()), "FULL_RUN", ALLOWED),
    ("ENDED custom mode allowed", ENDED, res(SUCCEEDED, modes=("CUSTOM",)), "CUSTOM", ALLOWED),
    (
        "ENDED deprecated reuse rules ignored",
        ENDED,
        with_reuse_rules(SUCCEEDED),
        "DRY_RUN",
        ALLOWED,
    ),
    ("CANCELLED", CANCELLED, None, "DRY_RUN", DENIED),
    ("UNTRIGGERED", UNTRIGGERED, None, "DRY_RUN", DENIED),
]


@pytest.mark.parametrize(
    "status, result, mode, verdict", [v[1:] for v in VERDICTS], ids=[v[0] for v in VERDICTS]
)
def test_reuse_verdict_table(status, result, mode, verdict):
    tryjob = tj(1, status, X, result, launched_by=OTHER_RUN)
    assert reuse_verdict(tryjob, mode, NOW) is verdict
    assert can_reuse(tryjob, X, mode, NOW) is verdict
    assert verdict.reusable is (verdict is not DENIED)


def test_unspecified_status_is_refused():
    with pytest.raises(ValueError, match="not a tryjob status"):
        reuse_verdict(TryjobView(id=1, status=0), "DRY_RUN", NOW)


class TestCanReuse:
    def test_disable_reuse_denies(self):
        tryjob = tj(1, ENDED, X, res(SUCCEEDED))
        assert can_reuse(tryjob, defn("x", disable_reuse=True), "DRY_RUN", NOW) is DENIED

    def test_a_tryjob_of_another_builder_is_denied(self):
        tryjob = tj(1, ENDED, defn("y"), res(SUCCEEDED, builder="y"))
        assert can_reuse(tryjob, X, "DRY_RUN", NOW) is DENIED

    def test_a_tryjob_of_the_equivalent_builder_counts(self):
        wanted = defn("x", equivalent="x-equivalent")
        tryjob = tj(1, ENDED, defn("x-equivalent"), res(SUCCEEDED, builder="x-equivalent"))
        assert can_reuse(tryjob, wanted, "DRY_RUN", NOW) is ALLOWED


@pytest.mark.parametrize(
    "allowlist, mode, allowed",
    [(None, "DRY_RUN", True), ((), "DRY_RUN", True), (("FULL_RUN",), "DRY_RUN", False)],
)
def test_mode_allowed(allowlist, mode, allowed):
    output = None if allowlist is None else Output()
    if allowlist:
        output.reusability.mode_allowlist.extend(allowlist)
    assert mode_allowed(output, mode) is allowed


class TestChooseReusable:
    """§3.6 finder 1 over candidates the driver found by reuse key."""

    def candidate(self, tryjob_id, definition=X, *, age_minutes=10, status=ENDED, **kw):
        kw.setdefault("launched_by", OTHER_RUN)
        result = res(SUCCEEDED) if status == ENDED else None
        return tj(
            tryjob_id,
            status,
            definition,
            result,
            created=NOW - timedelta(minutes=age_minutes),
            **kw,
        )

    def test_latest_created_wins(self):
        old, new = self.candidate(1, age_minutes=30), self.candidate(2, age_minutes=5)
        assert choose_reusable([new, old], [request(0, X)], RUN, NOW) == [new]
        assert choose_reusable([old, new], [request(0, X)], RUN, NOW) == [new]

    def test_equal_times_keep_the_first(self):
        a, b = self.candidate(1), self.candidate(2)
        assert choose_reusable([a, b], [request(0, X)], RUN, NOW) == [a]

    def test_unknown_creation_time_loses(self):
        a, b = self.candidate(1), self.candidate(2)
        unknown = TryjobView(**{**b.__dict__, "entity_create_time": None})
        assert choose_reusable([unknown, a], [request(0, X)], RUN, NOW) == [a]

    def test_skips_known_tryjobs(self):
        a = self.candidate(1)
        assert choose_reusable([a], [request(0, X, known=(1,))], RUN, NOW) == [None]
        by_eid = request(0, X, known=(9,), known_eids=(a.external_id,))
        assert choose_reusable([a], [by_eid], RUN, NOW) == [None]

    def test_skips_other_projects_and_orphans(self):
        elsewhere = self.candidate(1, launched_by="v8/8290000000000-1-cccccccccccccccc")
        reused_here = self.candidate(2, launched_by="", reused_by=(RUN.id,))
        orphan = self.candidate(3, launched_by="")
        assert choose_reusable([elsewhere, orphan, reused_here], [request(0, X)], RUN, NOW) == [
            reused_here
        ]

    def test_skips_what_cannot_be_reused(self):
        failed = tj(1, ENDED, X, res(FAILED_PERMANENTLY), launched_by=OTHER_RUN)
        cancelled = tj(2, CANCELLED, X, launched_by=OTHER_RUN)
        assert choose_reusable([failed, cancelled], [request(0, X)], RUN, NOW) == [None]

    def test_requests_without_reuse_are_not_matched(self):
        y_no_reuse = defn("y", disable_reuse=True)
        y_also = defn("z", equivalent="y")
        shared = self.candidate(1, defn("y"), status=PENDING)
        chosen = choose_reusable([shared], [request(0, y_no_reuse), request(1, y_also)], RUN, NOW)
        assert chosen == [None, None]  # matched to y_also only by builder, which PENDING lacks
        running = tj(2, TRIGGERED, defn("y"), res(UNKNOWN, builder="y"), launched_by=OTHER_RUN)
        chosen = choose_reusable([running], [request(0, y_no_reuse), request(1, y_also)], RUN, NOW)
        assert chosen == [None, running]

    def test_a_candidate_goes_to_the_first_matching_request(self):
        a = self.candidate(1, defn("x"))
        chosen = choose_reusable(
            [a], [request(0, X), request(1, defn("w", equivalent="x"))], RUN, NOW
        )
        assert chosen == [a, None]

    def test_the_runs_own_tryjob_is_a_candidate(self):
        own = self.candidate(1, status=TRIGGERED, launched_by=RUN.id)
        own = TryjobView(**{**own.__dict__, "result": res(UNKNOWN)})
        assert choose_reusable([own], [request(0, X)], RUN, NOW) == [own]


def test_seed_statuses_are_all_covered():
    covered = {v[1] for v in VERDICTS}
    assert covered == {s for s in pb.Status.values() if s}


# ---- disable_reuse_footers (cv_config.md §8.11) ----

FOOTERS = ("Include-Ci-Only-Tests", "Special-Footer")


def _view(*cls):
    return RunView(RUN.id, "DRY_RUN", tuple(cls))


def _footered(**changes):
    definition = defn("x")
    definition.disable_reuse_footers.extend(FOOTERS)
    for key, value in changes.items():
        setattr(definition, key, value)
    return definition


KEY_CASES = [
    # (name, cls of the run, expected per-CL strings hashed, or None for the plain key)
    ("no footers anywhere", (RunCL(7, 3, 2, (("Bug", "1"),)),), None),
    (
        "one footer of the list",
        (RunCL(7, 3, 2, (("Include-Ci-Only-Tests", "true"), ("Bug", "1"))),),
        [b"7/2/Include-Ci-Only-Tests:true"],
    ),
    (
        "footers sorted by key then value",
        (
            RunCL(
                7,
                3,
                2,
                (
                    ("Special-Footer", "b"),
                    ("Include-Ci-Only-Tests", "true"),
                    ("Special-Footer", "a"),
                ),
            ),
        ),
        [b"7/2/Include-Ci-Only-Tests:true/Special-Footer:a/Special-Footer:b"],
    ),
    (
        "per-CL strings sorted byte-wise",
        (
            RunCL(9, 1, 1, (("Special-Footer", "z"),)),
            RunCL(10, 4, 4),
        ),
        [b"10/4", b"9/1/Special-Footer:z"],
    ),
    (
        "legacy pairs do not match normalized keys",
        (RunCL(7, 3, 2, (("SPECIAL_FOOTER", "x"),)),),
        None,
    ),
]


@pytest.mark.parametrize("cls, hashed", [c[1:] for c in KEY_CASES], ids=[c[0] for c in KEY_CASES])
def test_footer_reuse_key(cls, hashed):
    view = _view(*cls)
    key = view.reuse_key_for(_footered())
    if hashed is None:
        assert key == view.reuse_key
    else:
        digest = hashlib.sha256(b"\0".join(hashed)).digest()
        assert key == base64.b64encode(digest).decode()
        assert key != view.reuse_key
    # A definition without footers always has the run's key.
    assert view.reuse_key_for(defn("x")) == view.reuse_key


def test_footer_value_change_changes_the_key():
    before = _view(RunCL(7, 3, 2, (("Special-Footer", "a"),)))
    after = _view(RunCL(7, 4, 2, (("Special-Footer", "b"),)))
    removed = _view(RunCL(7, 5, 2))
    keys = {v.reuse_key_for(_footered()) for v in (before, after, removed)}
    assert len(keys) == 3
    # Only footers the definition names count.
    unrelated = _view(RunCL(7, 4, 2, (("Special-Footer", "a"), ("Bug", "2"))))
    assert unrelated.reuse_key_for(_footered()) == before.reuse_key_for(_footered())


def test_executor_asks_each_definition_its_own_key():
    run = RunView(RUN.id, "DRY_RUN", (RunCL(1, 2, 2, (("Special-Footer", "on"),)),))
    plain, footered = defn("plain"), _footered()
    step = executor.on_requirement(None, run, pb.Requirement(definitions=[plain, footered]), 1, NOW)
    keys = [a.reuse_key for a in step.plan.attempts]
    assert keys == [run.reuse_key, run.reuse_key_for(footered)]
    assert keys[0] != keys[1]


MESSAGES = {
    ("x-review.googlesource.com", 5): (
        3,
        {
            1: "T\n\nSpecial-Footer: a\n",
            2: "T\n\nBody\n\nSpecial-Footer: a\nBug: 1\n",
            3: "T edited\n\nSpecial-Footer: a\nBug: 2\n",
        },
    ),
    ("x-review.googlesource.com", 6): (2, {1: "T\n\nSpecial-Footer: old\n", 2: "T\n"}),
}
CHANGED_CASES = [
    # (name, footer keys, tested (host, change, patchset), changed?)
    ("current patchset", FOOTERS, [("x-review.googlesource.com", 5, 3)], False),
    ("earlier patchset, same footers", FOOTERS, [("x-review.googlesource.com", 5, 1)], False),
    ("footer removed since", FOOTERS, [("x-review.googlesource.com", 6, 1)], True),
    ("unknown patchset counts as changed", FOOTERS, [("x-review.googlesource.com", 5, 0)], True),
    ("unknown CL counts as changed", FOOTERS, [("y-review.googlesource.com", 5, 3)], True),
    ("no footer keys: never", (), [("x-review.googlesource.com", 6, 1)], False),
    ("only listed keys compared", ("Bug",), [("x-review.googlesource.com", 5, 2)], True),
]


@pytest.mark.parametrize(
    "keys, tested, changed", [c[1:] for c in CHANGED_CASES], ids=[c[0] for c in CHANGED_CASES]
)
def test_footers_changed(keys, tested, changed):
    assert footers_changed(keys, tested, MESSAGES) is changed
