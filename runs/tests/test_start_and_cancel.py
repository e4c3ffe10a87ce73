"""runs.actions.start_run and cancel_run: a run's start and its cancellation, with events."""

from datetime import timedelta

import pytest

from cvproto.codes import Code
from runs import actions, clock
from runs.errors import ActionError
from runs.models import RunEventKind, RunStatus
from runs.tests.factories import BASE_TIME, make_run, make_run_of_changes

pytestmark = pytest.mark.django_db


def status_events(run):
    return list(
        run.events.filter(kind=RunEventKind.STATUS_CHANGED)
        .order_by("id")
        .values_list("actor", "from_status", "to_status", "detail", "time")
    )


def test_start_run_starts_a_pending_run_now():
    run = make_run(status=RunStatus.PENDING, start_time=None)
    started = BASE_TIME + timedelta(minutes=5)
    with clock.frozen_at(started):
        actions.start_run(run.id, "cv:run-manager")
    run.refresh_from_db()
    assert (run.status, run.start_time) == (RunStatus.RUNNING, started)
    assert status_events(run) == [
        ("cv:run-manager", RunStatus.PENDING, RunStatus.RUNNING, "", started)
    ]


def test_start_run_refuses_a_run_that_is_not_pending():
    run = make_run()
    with pytest.raises(ActionError) as refused:
        actions.start_run(run.id, "cv:run-manager")
    assert refused.value.code == Code.FAILED_PRECONDITION
    assert "RUNNING" in refused.value.message


def test_cancel_run_ends_an_active_run_once():
    run = make_run()
    cancelled = BASE_TIME + timedelta(hours=1)
    with clock.frozen_at(cancelled):
        assert actions.cancel_run(run.id, "user:alice@example.com", "vote removed")
    assert not actions.cancel_run(run.id, "user:alice@example.com", "vote removed")
    run.refresh_from_db()
    assert (run.status, run.end_time, run.end_reason) == (
        RunStatus.CANCELLED,
        cancelled,
        "vote removed",
    )
    assert status_events(run) == [
        (
            "user:alice@example.com",
            RunStatus.RUNNING,
            RunStatus.CANCELLED,
            "vote removed",
            cancelled,
        )
    ]


def test_an_operator_cancels_with_a_reason_that_is_recorded_and_posted(gerrit):
    gerrit.add_change(1, project="chromium/src")
    gerrit.add_change(2, project="chromium/src")
    run = make_run_of_changes(gerrit, [1, 2], status=RunStatus.RUNNING)
    assert actions.cancel_run_by_operator(run.id, "admin:ann", "tree closed")
    run.refresh_from_db()
    assert (run.status, run.end_reason) == (
        RunStatus.CANCELLED,
        "cancelled by admin:ann: tree closed",
    )
    posted_on = set(
        run.gerrit_posts.filter(message__contains="tree closed").values_list("cl", flat=True)
    )
    assert posted_on == set(run.run_cls.values_list("cl", flat=True)) and posted_on
    assert not actions.cancel_run_by_operator(run.id, "admin:ann", "again")  # already ended


def test_an_operator_cancellation_needs_a_reason():
    run = make_run()
    with pytest.raises(ActionError, match="needs a reason") as refused:
        actions.cancel_run_by_operator(run.id, "admin:ann", "  ")
    assert refused.value.code == Code.INVALID_ARGUMENT
