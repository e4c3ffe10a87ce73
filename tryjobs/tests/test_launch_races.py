"""Launches outside the run's lock (tryjobs.passes, tryjobs.launching): no lock is held while
the backend is called, a pass that lost its race starts again, and no build is lost or doubled.

The fake backend's `launch` is wrapped so that something happens while a launch is in flight:
another pass of the same run, or another connection writing.
"""

import threading

import pytest
from django.db import connection, connections, transaction

from cvproto.codes import Code
from runs.errors import ActionError
from runs.models import Run
from tryjobs import launching, operations, passes
from tryjobs.models import (
    ExecutionLogEntry,
    ExecutionState,
    Tryjob,
    TryjobEvent,
    TryjobStatus,
)
from tryjobs.run_lock import StateChanged
from tryjobs.tests import actions_support
from tryjobs.tests.actions_support import (
    Result,
    RetryConfig,
    State,
    attempt_statuses,
    cvsite_run,
    database_for_threads,
    defn,
    log_kinds,
    requirement,
    state_of,
)

# Fixtures.
backend = actions_support.backend
slept = actions_support.slept

RETRY = RetryConfig(single_quota=2, global_quota=4, transient_failure_weight=1)


def during_first_launch(backend, work) -> None:
    """Runs `work()` inside the backend's first launch call, before it starts any build."""
    launch = backend.launch
    calls = []

    def launch_after_work(requests):
        calls.append(requests)
        if len(calls) == 1:
            work()
        return launch(requests)

    backend.launch = launch_after_work


def builds_by_builder(backend) -> dict[str, int]:
    counts: dict[str, int] = {}
    for build in backend.builds.values():
        name = build.request.definition.buildbucket.builder.builder
        counts[name] = counts.get(name, 0) + 1
    return counts


@pytest.mark.django_db
def test_a_pass_that_lost_its_race_adopts_the_launch_and_starts_no_second_build(backend):
    """A retry is being launched when another pass of the run saves first (it takes in the
    same failure and another tryjob's success). That pass adopts the in-flight tryjob instead
    of launching its own; the first finds the state changed, starts again, and finds nothing
    left to do. One build per attempt, one tryjob row per build, every event consumed."""
    run = cvsite_run()
    operations.set_requirement(
        run.id, requirement(defn("a"), defn("b", disable_reuse=True), retry=RETRY), "op"
    )
    a, b = Tryjob.objects.order_by("id")
    backend.finish_build(a.external_id, Result.FAILED_TRANSIENTLY)

    def another_pass():
        backend.finish_build(b.external_id, Result.SUCCEEDED)
        passes.process_tryjob_events(run.id, "other")

    during_first_launch(backend, another_pass)
    result = passes.process_tryjob_events(run.id, "task")

    assert builds_by_builder(backend) == {"a": 2, "b": 1}
    assert Tryjob.objects.count() == 3
    retry = Tryjob.objects.latest("id")
    assert [r.tryjob_id for call in backend.launch_calls for r in call] == [
        a.id,
        b.id,
        retry.id,  # the other pass, adopting the row the first had just created
        retry.id,  # the first pass: the same request ID, so the same build
    ]
    state = state_of(run)
    assert attempt_statuses(state) == [["ENDED", "TRIGGERED"], ["ENDED"]]
    assert state.executions[0].attempts[1].tryjob_id == retry.id
    assert state.executions[0].used_quota == 1  # charged once: the first pass's save lost
    assert retry.status == TryjobStatus.TRIGGERED and retry.eversion == 2
    assert log_kinds(run) == ["tryjobs_launched", "tryjobs_ended", "tryjobs_launched"]
    assert not TryjobEvent.objects.exists()
    assert result.events == 0 and not result.saved  # started again: nothing left to do


@pytest.mark.django_db
def test_a_launch_recorded_by_no_attempt_is_adopted_whatever_its_status(backend):
    """A pass that launched and then lost its race (or died) left a tryjob that no saved pass
    records; by the time the next pass runs, the build has failed. The next pass takes it as
    the attempt it was launched for (then retries it), even for a definition that disables
    reuse and though a failed tryjob is never reused."""
    run = cvsite_run()
    operations.set_requirement(run.id, requirement(defn("a", disable_reuse=True)), "op")
    first = Tryjob.objects.get()
    # As if the pass's save had been lost: neither its state nor its log entries.
    ExecutionState.objects.filter(run=run).delete()
    ExecutionLogEntry.objects.filter(run=run).delete()
    backend.finish_build(first.external_id, Result.FAILED_TRANSIENTLY)

    operations.set_requirement(
        run.id, requirement(defn("a", disable_reuse=True), retry=RETRY), "op"
    )

    state = state_of(run)
    assert [a.tryjob_id for a in state.executions[0].attempts][0] == first.id
    assert attempt_statuses(state) == [["ENDED", "TRIGGERED"]]
    assert state.executions[0].used_quota == 1
    assert builds_by_builder(backend) == {"a": 2}  # the original and one retry, no double


@pytest.mark.django_db
def test_tryjobs_of_a_removed_definition_are_not_adopted_when_it_comes_back(backend):
    """They were recorded once (the log names them): the reuse rules judge them, so the
    failed first attempt stays behind and the running retry is reused."""
    run = cvsite_run()
    operations.set_requirement(run.id, requirement(defn("a"), retry=RETRY), "op")
    failed = Tryjob.objects.get()
    backend.finish_build(failed.external_id, Result.FAILED_TRANSIENTLY)
    passes.process_tryjob_events(run.id, "task")
    running = Tryjob.objects.latest("id")
    operations.set_requirement(run.id, requirement(defn("e")), "op")

    result = operations.set_requirement(run.id, requirement(defn("a"), defn("e")), "op")

    assert [e.WhichOneof("kind") for e in result.log_entries] == [
        "requirement_changed",
        "tryjobs_reused",
    ]
    assert [a.tryjob_id for a in state_of(run).executions[0].attempts] == [running.id]
    assert builds_by_builder(backend) == {"a": 2, "e": 1}


@pytest.mark.django_db
def test_a_requirement_changed_during_a_launch_is_applied_and_the_launch_kept(backend):
    """An operator changes the requirement while the first pass launches: the later pass
    adopts what is in flight, the first starts again and applies its requirement as the
    next version on top. Each definition still has exactly one build."""
    run = cvsite_run()

    def operator():
        operations.set_requirement(run.id, requirement(defn("a"), defn("c")), "other")

    during_first_launch(backend, operator)
    result = operations.set_requirement(run.id, requirement(defn("a"), defn("b")), "op")

    assert builds_by_builder(backend) == {"a": 1, "b": 1, "c": 1}
    state = state_of(run)
    assert state.requirement_version == 2 and result.state.requirement_version == 2
    assert [d.buildbucket.builder.builder for d in state.requirement.definitions] == ["a", "b"]
    assert attempt_statuses(state) == [["TRIGGERED"], ["TRIGGERED"]]
    by_id = {t.id: t.builder_name for t in Tryjob.objects.all()}
    assert [by_id[e.attempts[0].tryjob_id] for e in state.executions] == ["a", "b"]
    assert log_kinds(run) == [
        "tryjobs_launched",  # the operator's pass: a (adopted, in flight) and c
        "requirement_changed",
        "tryjob_discarded",  # c
        "tryjobs_launched",  # b, the first pass's launch, adopted after it started again
    ]


@pytest.mark.django_db(transaction=True)
def test_the_run_is_not_locked_while_tryjobs_launch(backend, tmp_path):
    """During the launch another connection locks the run's row without waiting
    (PostgreSQL) or writes to the database (SQLite, where a transaction holds the write lock)."""
    with database_for_threads(tmp_path):
        run = cvsite_run()
        outcome = {}

        def other_connection():
            try:
                with transaction.atomic():
                    if connection.vendor == "postgresql":
                        Run.objects.select_for_update(nowait=True).get(id=run.id)
                    Run.objects.filter(id=run.id).update(owner="someone@example.com")
                outcome["done"] = True
            except Exception as e:  # reported by the test's thread
                outcome["error"] = e
            finally:
                connections.close_all()

        def meanwhile():
            thread = threading.Thread(target=other_connection)
            thread.start()
            thread.join(timeout=5)
            outcome["waited"] = thread.is_alive()
            thread.join()

        during_first_launch(backend, meanwhile)
        operations.set_requirement(run.id, requirement(defn("a")), "op")

        assert outcome == {"done": True, "waited": False}
        assert attempt_statuses(state_of(run)) == [["TRIGGERED"]]
        assert state_of(run).status == State.RUNNING


@pytest.mark.django_db
def test_a_pass_that_keeps_losing_its_race_gives_up_saying_so(backend, monkeypatch):
    run = cvsite_run()

    def always_changed(run_id, expected):
        raise StateChanged(f"run {run_id}: changed")

    monkeypatch.setattr(launching, "relock_unchanged", always_changed)
    with pytest.raises(ActionError) as raised:
        operations.set_requirement(run.id, requirement(defn("a")), "op")
    assert raised.value.code == Code.UNAVAILABLE
    assert f"under {passes.MAX_TRIES} passes in a row" in raised.value.message
    assert not ExecutionState.objects.exists() and not Tryjob.objects.exists()
