"""Definition identity, matching and requirement diffs (tryjob_semantics.md §2.3)."""

import pytest

from cvproto.cv.internal.tryjob import storage_pb2 as pb
from tryjobs.definitions import (
    DuplicateDefinitionError,
    RequirementDiff,
    build_matches,
    definition_key,
    diff_requirements,
    find_matching_definition,
    tryjob_matches,
)
from tryjobs.tests.test_executor_support import (
    HOST,
    RC_A,
    RC_B,
    SUCCEEDED,
    RetryConfig,
    builder_id,
    defn,
    requirement,
    res,
)


def bdef(name, project="chromium", bucket="try", **kwargs):
    msg = defn(name, **kwargs)
    msg.buildbucket.builder.project = project
    msg.buildbucket.builder.bucket = bucket
    return msg


def names(definitions):
    return [definition_key(d)[1:] for d in definitions]


def test_definition_key_is_the_main_builder():
    d = defn("linux-rel", equivalent="linux-rel-alt", critical=False, disable_reuse=True)
    assert definition_key(d) == (HOST, "chromium", "try", "linux-rel")


class TestTryjobMatches:
    def test_equal_definition(self):
        assert tryjob_matches(defn("a"), None, defn("a"))

    def test_definition_differing_only_in_flags_needs_the_builder(self):
        assert not tryjob_matches(defn("a", critical=False), None, defn("a"))
        assert tryjob_matches(defn("a", critical=False), res(SUCCEEDED, builder="a"), defn("a"))

    def test_ran_on_the_main_builder(self):
        assert tryjob_matches(defn("other"), res(SUCCEEDED, builder="a"), defn("a"))

    def test_ran_on_the_equivalent_builder(self):
        wanted = defn("a", equivalent="a-equivalent")
        assert tryjob_matches(None, res(SUCCEEDED, builder="a-equivalent"), wanted)

    def test_hosts_are_not_compared(self):
        wanted = defn("a")
        wanted.buildbucket.host = "other-buildbucket.example.com"
        assert tryjob_matches(defn("x"), res(SUCCEEDED, builder="a"), wanted)

    def test_other_builder_does_not_match(self):
        assert not tryjob_matches(defn("b"), res(SUCCEEDED, builder="b"), defn("a"))

    def test_same_name_other_bucket_does_not_match(self):
        result = res(SUCCEEDED)
        result.buildbucket.builder.CopyFrom(builder_id("a", bucket="ci"))
        assert not tryjob_matches(defn("x"), result, defn("a"))

    def test_without_builder_in_result_only_equality_matches(self):
        assert not tryjob_matches(defn("x"), res(SUCCEEDED), defn("a"))
        assert not tryjob_matches(None, None, defn("a"))

    def test_first_matching_definition_wins(self):
        wanted = [defn("b"), defn("a", equivalent="shared"), defn("shared")]
        assert find_matching_definition(None, res(SUCCEEDED, builder="shared"), wanted) == 1
        assert find_matching_definition(None, res(SUCCEEDED, builder="none"), wanted) is None


def test_build_matches_main_or_equivalent_on_the_definitions_host():
    wanted = defn("a", equivalent="a-equivalent")
    assert build_matches(HOST, builder_id("a"), wanted)
    assert build_matches(HOST, builder_id("a-equivalent"), wanted)
    assert not build_matches("other.example.com", builder_id("a"), wanted)
    assert not build_matches(HOST, builder_id("b"), wanted)


class TestDiff:
    """The diff vectors of §2.3."""

    def test_empty_to_empty(self):
        assert diff_requirements(requirement(), requirement()) == RequirementDiff()
        assert diff_requirements(None, requirement()).empty

    def test_empty_to_one_adds_it(self):
        x = defn("x")
        assert diff_requirements(requirement(), requirement(x)) == RequirementDiff(added=(x,))

    def test_one_to_empty_removes_it(self):
        x = defn("x")
        assert diff_requirements(requirement(x), requirement()) == RequirementDiff(removed=(x,))

    def test_shared_kept_and_extra_added(self):
        shared = defn("shared")
        extra = bdef("someBuilder", project="infra", bucket="ci")
        diff = diff_requirements(requirement(shared), requirement(defn("shared"), extra))
        assert diff == RequirementDiff(added=(extra,), unchanged=((shared, shared),))

    @pytest.mark.parametrize(
        "new",
        [
            defn("x", equivalent="x-equivalent"),
            defn("x", disable_reuse=True),
            defn("x", critical=False),
            defn("x", experiments=["e"]),
        ],
    )
    def test_any_other_difference_is_a_change(self, new):
        old = defn("x")
        assert diff_requirements(requirement(old), requirement(new)) == RequirementDiff(
            changed=((old, new),)
        )

    def test_shuffled_vector(self):
        b1, b2, b3 = defn("b1"), defn("b2"), defn("b3")
        chrome_b1 = bdef("b1", project="chrome")
        b3_flipped, b4 = defn("b3", disable_reuse=True), defn("b4")
        chrome_b1_eq = bdef("b1", project="chrome", equivalent="b1-equivalent")
        diff = diff_requirements(
            requirement(b3, chrome_b1, b1, b2), requirement(b4, chrome_b1_eq, b3_flipped, b1)
        )
        assert names(diff.added) == [("chromium", "try", "b4")]
        assert names(diff.removed) == [("chromium", "try", "b2")]
        assert [(old, new) for old, new in diff.changed] == [
            (chrome_b1, chrome_b1_eq),
            (b3, b3_flipped),
        ]
        assert diff.unchanged == ((b1, b1),)
        assert not diff.retry_config_changed

    @pytest.mark.parametrize(
        "old, new, changed",
        [
            (None, None, False),
            (RC_A, RC_A, False),
            (RC_A, RC_B, True),
            (None, RC_A, True),
            (RC_A, None, True),
            (None, RetryConfig(), True),
        ],
    )
    def test_retry_config_changed(self, old, new, changed):
        diff = diff_requirements(
            requirement(defn("x"), retry=old), requirement(defn("x"), retry=new)
        )
        assert diff.retry_config_changed is changed
        assert diff.empty is not changed

    def test_a_repeated_main_builder_is_refused(self):
        with pytest.raises(DuplicateDefinitionError, match="chromium/try/x"):
            diff_requirements(None, requirement(defn("x"), defn("x", critical=False)))

    def test_hosts_are_part_of_the_identity(self):
        other_host = defn("x")
        other_host.buildbucket.host = "other.example.com"
        diff = diff_requirements(requirement(defn("x")), requirement(other_host))
        assert (len(diff.added), len(diff.removed)) == (1, 1)


def test_definitions_of_the_seed_are_what_the_helpers_build():
    assert isinstance(defn("x"), pb.Definition)
