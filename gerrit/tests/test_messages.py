"""Truncation (§5.3), de-duplication (§5.1) and notification (§5.2) rules; no I/O."""

from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given
from hypothesis import strategies as st

from cvproto.gerrit import gerrit_pb2
from gerrit.messages import (
    MAX_MESSAGE_BYTES,
    TRUNCATION_MARKER,
    already_posted,
    cq_voters,
    prepare_message,
    review_notification,
    trim_space,
    truncate_message,
)

RUN_CREATED = datetime(2026, 1, 5, 12, 0, 0, 500000, tzinfo=UTC)


def test_marker_is_the_spec_text_and_32_bytes():
    assert TRUNCATION_MARKER == "\n...[truncated too long message]"
    assert len(TRUNCATION_MARKER.encode()) == 32
    assert MAX_MESSAGE_BYTES == 16384


def test_ascii_vector_from_the_spec():
    message = "message " * 5 + "last."  # 45 characters
    assert len(message) == 45
    assert truncate_message(message, 40) == "message " + TRUNCATION_MARKER


def test_emoji_vector_from_the_spec_never_splits_a_character():
    message = "😀" * 12  # 48 bytes
    assert truncate_message(message, 39) == "😀" + TRUNCATION_MARKER


def test_fits_exactly_at_the_limit():
    message = "x" * MAX_MESSAGE_BYTES
    assert truncate_message(message) == message


def test_one_byte_over_the_limit_keeps_16352_bytes():
    message = "x" * (MAX_MESSAGE_BYTES + 1)
    result = truncate_message(message)
    assert result == "x" * 16352 + TRUNCATION_MARKER
    assert len(result.encode()) == MAX_MESSAGE_BYTES


def test_limit_is_in_utf8_bytes_not_characters():
    message = "é" * 8192  # 8192 characters, 16384 bytes: fits
    assert truncate_message(message) == message
    longer = "é" * 8193
    result = truncate_message(longer)
    assert result == "é" * 8176 + TRUNCATION_MARKER  # 16352 bytes of whole characters


def test_cut_inside_a_three_byte_character_backs_off():
    message = "a" + "€" * 6000  # "€" is 3 bytes; 16352 - 1 = 16351 is not a multiple of 3
    result = truncate_message(message)
    kept = result[: -len(TRUNCATION_MARKER)]
    assert kept == "a" + "€" * 5450
    assert len(result.encode()) == 1 + 5450 * 3 + 32 <= MAX_MESSAGE_BYTES


def test_limit_shorter_than_the_marker_is_refused():
    with pytest.raises(ValueError, match="shorter than the truncation marker"):
        truncate_message("x" * 100, 31)


@given(st.text(), st.integers(min_value=32, max_value=200))
def test_truncation_properties(message, limit):
    result = truncate_message(message, limit)
    assert len(result.encode()) <= limit
    if len(message.encode()) <= limit:
        assert result == message
    else:
        kept = result.removesuffix(TRUNCATION_MARKER)
        assert result.endswith(TRUNCATION_MARKER) and message.startswith(kept)
        assert len(kept.encode()) > limit - 32 - 4  # backs off by at most one character


def test_trim_space_follows_go_not_python():
    assert trim_space("\u3000\xa0\t hello \n\u2029") == "hello"
    # U+001C..U+001F are whitespace to Python's str.strip() but not to Go's TrimSpace.
    assert trim_space("\x1chello\x1f") == "\x1chello\x1f"
    assert trim_space("\u200bhello") == "\u200bhello"  # zero-width space is not whitespace


def test_prepare_message_trims_then_truncates():
    assert prepare_message("  done \n") == "done"
    long = " " + "y" * 20000 + " "
    assert prepare_message(long) == "y" * 16352 + TRUNCATION_MARKER


def message(text: str, when: datetime) -> gerrit_pb2.ChangeMessageInfo:
    m = gerrit_pb2.ChangeMessageInfo(id="m", message=text)
    m.date.FromDatetime(when)
    return m


class TestAlreadyPosted:
    def test_same_text_after_run_creation(self):
        messages = [message("Dry run: This CL passed the CQ dry run.", RUN_CREATED)]
        assert already_posted(messages, "Dry run: This CL passed the CQ dry run.", RUN_CREATED)

    def test_gerrit_prefix_is_tolerated_substring_match(self):
        messages = [message("Patch Set 3:\n\nCQ is trying the patch.", RUN_CREATED)]
        assert already_posted(messages, "CQ is trying the patch.", RUN_CREATED)

    def test_comment_is_trimmed_before_matching(self):
        messages = [message("Patch Set 3:\n\nCQ is trying the patch.", RUN_CREATED)]
        assert already_posted(messages, "\n  CQ is trying the patch.\t\n", RUN_CREATED)

    def test_message_before_the_run_does_not_count(self):
        earlier = RUN_CREATED - timedelta(microseconds=1)
        messages = [message("CQ is trying the patch.", earlier)]
        assert not already_posted(messages, "CQ is trying the patch.", RUN_CREATED)

    def test_message_at_exactly_the_run_creation_counts(self):
        messages = [message("CQ is trying the patch.", RUN_CREATED)]
        assert already_posted(messages, "CQ is trying the patch.", RUN_CREATED)

    def test_nanosecond_precision_against_a_timestamp(self):
        since = Timestamp(seconds=1_700_000_000, nanos=500)
        m = gerrit_pb2.ChangeMessageInfo(message="x")
        m.date.seconds, m.date.nanos = 1_700_000_000, 499
        assert not already_posted([m], "x", since)
        m.date.nanos = 500
        assert already_posted([m], "x", since)

    def test_undated_message_is_before_any_run(self):
        messages = [gerrit_pb2.ChangeMessageInfo(message="CQ is trying the patch.")]
        assert not already_posted(messages, "CQ is trying the patch.", RUN_CREATED)

    def test_different_text_is_not_a_duplicate(self):
        messages = [message("Patch Set 3:\n\nCQ is trying the patch.", RUN_CREATED)]
        assert not already_posted(messages, "Dry run: passed.", RUN_CREATED)

    def test_long_comment_matches_its_truncated_form(self):
        comment = "z" * 20000
        posted = "Patch Set 1:\n\n" + truncate_message(comment)
        assert comment not in posted
        assert already_posted([message(posted, RUN_CREATED)], comment, RUN_CREATED)

    def test_blank_comment_is_suppressed_by_any_later_message(self):
        assert already_posted([message("anything", RUN_CREATED)], " \n\t", RUN_CREATED)
        assert not already_posted(
            [message("anything", RUN_CREATED - timedelta(seconds=1))], " \n", RUN_CREATED
        )
        assert not already_posted([], "   ", RUN_CREATED)

    def test_naive_since_is_refused(self):
        with pytest.raises(ValueError, match="naive"):
            already_posted([], "x", datetime(2026, 1, 1))


def change_with_cq_votes(*votes: tuple[int, int]) -> gerrit_pb2.ChangeInfo:
    info = gerrit_pb2.ChangeInfo(number=1)
    for account_id, value in votes:
        info.labels["Commit-Queue"].all.add(
            user=gerrit_pb2.AccountInfo(account_id=account_id), value=value
        )
    return info


class TestReviewNotification:
    def test_no_email_means_notify_none_without_details(self):
        n = review_notification(False, "FULL_RUN", change_with_cq_votes((7, 2)))
        assert (n.notify, n.details) == ("NONE", {})

    def test_full_run_notifies_owner_reviewers_and_cq_voters(self):
        info = change_with_cq_votes((9, 2), (7, 1), (8, 0), (9, 2), (5, -1))
        n = review_notification(True, "FULL_RUN", info)
        assert n.notify == "OWNER_REVIEWERS"
        assert n.details == {"TO": (5, 7, 9)}  # non-zero votes only, sorted, once each

    @pytest.mark.parametrize("mode", ["DRY_RUN", "QUICK_DRY_RUN", "NEW_PATCHSET_RUN", "CUSTOM"])
    def test_other_modes_notify_owner(self, mode):
        n = review_notification(True, mode, change_with_cq_votes((7, 1)))
        assert (n.notify, n.details) == ("OWNER", {"TO": (7,)})

    def test_without_cq_voters_there_are_no_details(self):
        assert review_notification(True, "DRY_RUN", gerrit_pb2.ChangeInfo()).details == {}
        info = change_with_cq_votes((7, 0))
        assert cq_voters(info) == ()
        assert review_notification(True, "FULL_RUN", info).details == {}
