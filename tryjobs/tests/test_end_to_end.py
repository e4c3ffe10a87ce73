"""Runs verified by cvsite's executor from requirement to verdict, with the fake backend.

Tryjob results arrive as build updates (FakeBackend.finish_build ->
updates.record_tryjob_update), which wake the run through durable tasks (`run_tasks`), as in
production with `manage.py db_worker`.
"""

import threading
import time

import pytest
from django.db import connections

from runs import actions as run_actions
from runs import queries
from runs.models import RunEvent, RunEventKind, RunStatus, Verifier
from runs.posts import VERIFIED_OK_MESSAGE
from runs.tests.factories import make_run_of_changes
from tryjobs import operations, passes
from tryjobs.models import ExecutionLogEntry, ExecutionState, Tryjob, TryjobEvent
from tryjobs.tests import actions_support
from tryjobs.tests.actions_support import (
    HOST,
    Result,
    RetryConfig,
    State,
    attempt_statuses,
    cvsite_run,
    database_for_threads,
    defn,
    latest_tryjob,
    log_kinds,
    log_of,
    requirement,
    state_of,
)

# Fixtures.
backend = actions_support.backend
slept = actions_support.slept

UNAVAILABLE, NOT_FOUND = 14, 5
LINUX, WIN, MAC = defn("linux"), defn("win"), defn("mac")
EXPERIMENTAL = defn("experimental", critical=False, optional=True)
RETRY = RetryConfig(
    single_quota=2, global_quota=4, failure_weight=3, transient_failure_weight=1, timeout_weight=2
)


def snapshots(entry) -> list[tuple[str, bool]]:
    kind = entry.WhichOneof("kind")
    tryjobs = getattr(entry, kind).tryjobs
    return [(s.definition.buildbucket.builder.builder, s.reused) for s in tryjobs]


def status_changes(run) -> list[tuple[str, str]]:
    return [
        (RunStatus(e.from_status).name, RunStatus(e.to_status).name)
        for e in RunEvent.objects.filter(run=run, kind=RunEventKind.STATUS_CHANGED).order_by("id")
    ]


def assert_log_versions_consistent(run) -> None:
    """Log rows, oldest first, come in passes of one state version, in increasing order."""
    versions = list(
        ExecutionLogEntry.objects.filter(run=run)
        .order_by("id")
        .values_list("state_version", flat=True)
    )
    assert versions == sorted(versions)
    assert versions[-1] <= ExecutionState.objects.get(run=run).eversion


@pytest.mark.django_db
def test_a_full_run_launches_retries_reuses_and_goes_on_to_submission(
    gerrit, backend, slept, run_tasks
):
    gerrit.add_change(1, project="chromium/src")
    gerrit.add_change(2, project="chromium/src", depends_on=[1])
    run_actions.set_project_verifier("chromium", Verifier.CVSITE, "op")
    # A dry run of the same CLs already ran mac, and it passed an hour ago.
    donor = make_run_of_changes(gerrit, [1, 2], mode="DRY_RUN")
    operations.set_requirement(donor.id, requirement(MAC), "op")
    mac = Tryjob.objects.get(launched_by=donor)
    backend.finish_build(mac.external_id, Result.SUCCEEDED)
    run_tasks()
    donor.refresh_from_db()
    assert donor.status == RunStatus.SUCCEEDED

    run = make_run_of_changes(gerrit, [1, 2], mode="FULL_RUN")
    backend.fail_launch(UNAVAILABLE, "Buildbucket is busy", builder="win", times=1)
    operations.set_requirement(
        run.id, requirement(LINUX, WIN, MAC, EXPERIMENTAL, retry=RETRY), "op"
    )

    # mac reused; linux and experimental launched at once; win after one retry (100 ms).
    log = log_of(run)
    assert [e.WhichOneof("kind") for e in log] == [
        "tryjobs_reused",
        "tryjobs_launched",
        "tryjobs_launched",
    ]
    assert [snapshots(e) for e in log] == [
        [("mac", True)],
        [("linux", False), ("experimental", False)],
        [("win", False)],
    ]
    assert slept == [0.1]
    assert attempt_statuses(state_of(run)) == [
        ["TRIGGERED"],
        ["TRIGGERED"],
        ["ENDED"],
        ["TRIGGERED"],
    ]
    assert list(mac.reused_by.values_list("id", flat=True)) == [run.id]
    [launch] = [c for c in backend.launch_calls if c[0].run_id == run.id][:1]
    assert [(c.change, c.gerrit_project) for c in launch[0].cls] == [
        (1, "chromium/src"),
        (2, "chromium/src"),
    ]

    # linux fails transiently: retried (quota 1 of 2); the experimental failure is ignored.
    first_linux = latest_tryjob(run, 0)
    backend.finish_build(first_linux.external_id, Result.FAILED_TRANSIENTLY, summary="flake")
    backend.finish_build(latest_tryjob(run, 3).external_id, Result.FAILED_PERMANENTLY)
    run_tasks()
    state = state_of(run)
    assert attempt_statuses(state) == [
        ["ENDED", "TRIGGERED"],
        ["TRIGGERED"],
        ["ENDED"],
        ["ENDED"],
    ]
    assert [e.used_quota for e in state.executions] == [1, 0, 0, 0]
    assert state.status == State.RUNNING

    # The rest succeeds: the state SUCCEEDS and the full run goes on to submission.
    backend.finish_build(latest_tryjob(run, 0).external_id, Result.SUCCEEDED)
    backend.finish_build(latest_tryjob(run, 1).external_id, Result.SUCCEEDED)
    run_tasks()
    run.refresh_from_db()
    state = state_of(run)
    assert state.status == State.SUCCEEDED and state.HasField("end_time")
    assert log_kinds(run) == [
        "tryjobs_reused",
        "tryjobs_launched",
        "tryjobs_launched",
        "tryjobs_ended",
        "tryjobs_launched",
        "tryjobs_ended",
    ]
    assert status_changes(run) == [
        ("RUNNING", "WAITING_FOR_SUBMISSION"),
        ("WAITING_FOR_SUBMISSION", "SUBMITTING"),
        ("SUBMITTING", "SUCCEEDED"),
    ]
    assert run.status == RunStatus.SUCCEEDED
    assert gerrit.change(1)["status"] == gerrit.change(2)["status"] == "MERGED"
    assert not TryjobEvent.objects.exists()
    assert_log_versions_consistent(run)
    # Later news changes nothing: the state is final.
    version = ExecutionState.objects.get(run=run).eversion
    backend.finish_build(latest_tryjob(run, 0).external_id, Result.FAILED_PERMANENTLY)
    run_tasks()
    assert ExecutionState.objects.get(run=run).eversion == version


@pytest.mark.django_db
def test_a_run_that_exhausts_its_quota_fails_naming_the_builder_and_why(backend, run_tasks):
    run = cvsite_run()
    quota = RetryConfig(
        single_quota=1, global_quota=10, failure_weight=2, transient_failure_weight=1
    )
    operations.set_requirement(run.id, requirement(LINUX, WIN, EXPERIMENTAL, retry=quota), "op")
    backend.finish_build(latest_tryjob(run, 0).external_id, Result.FAILED_TRANSIENTLY)
    run_tasks()
    assert state_of(run).executions[0].used_quota == 1
    last = latest_tryjob(run, 0)
    backend.finish_build(last.external_id, Result.FAILED_TRANSIENTLY, summary="infra died")
    run_tasks()

    run.refresh_from_db()
    state = state_of(run)
    assert state.status == State.FAILED and run.status == RunStatus.FAILED
    assert [u.tryjob_id for u in state.failures.unsuccessful_results] == [last.id]
    assert state.executions[0].used_quota == 2
    assert log_kinds(run)[-2:] == ["tryjobs_ended", "retry_denied"]
    assert run.end_reason == (
        "1 tryjob failed:\n"
        f"* chromium/try/linux failed (infra or transient failure): "
        f"https://{HOST}/build/{last.external_id.rsplit('/', 1)[1]}\n"
        "  infra died\n"
        "Not retried: insufficient quota."
    )
    assert status_changes(run) == [("RUNNING", "FAILED")]
    # win, still running, is not relaunched and later news is ignored.
    entries = ExecutionLogEntry.objects.count()
    backend.finish_build(latest_tryjob(run, 1).external_id, Result.SUCCEEDED)
    run_tasks()
    assert ExecutionLogEntry.objects.count() == entries and not TryjobEvent.objects.exists()


@pytest.mark.django_db
def test_a_retry_whose_launch_keeps_failing_is_untriggered_and_fails_the_run(
    backend, slept, run_tasks
):
    run = cvsite_run()
    operations.set_requirement(run.id, requirement(LINUX, WIN, retry=RETRY), "op")
    backend.fail_launch(NOT_FOUND, "builder vanished", builder="linux", times=None)
    backend.finish_build(latest_tryjob(run, 0).external_id, Result.FAILED_TRANSIENTLY)
    run_tasks()

    run.refresh_from_db()
    reason = "received NotFound from buildbucket. message: builder vanished"
    assert len(slept) > 10 and sum(slept) <= 120
    assert attempt_statuses(state_of(run))[0] == ["ENDED", "UNTRIGGERED"]
    assert log_kinds(run)[-2:] == ["tryjobs_ended", "tryjobs_launch_failed"]
    assert run.status == RunStatus.FAILED
    assert run.end_reason == f"Failed to launch 1 tryjob:\n* chromium/try/linux: {reason}"


@pytest.mark.django_db
def test_a_cqdaemon_verified_project_is_left_to_cqdaemon(backend, run_tasks):
    run = cvsite_run("v8")
    operations.set_requirement(run.id, requirement(LINUX), "op")
    # The operator hands the project back to CQDaemon while the tryjob runs.
    run_actions.set_project_verifier("v8", Verifier.CQDAEMON, "op")
    state = state_of(run)
    backend.finish_build(latest_tryjob(run, 0).external_id, Result.SUCCEEDED)
    run_tasks()

    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING and state_of(run) == state
    assert TryjobEvent.objects.filter(run=run).count() == 1
    assert queries.runs_for_cqdaemon("v8").run_ids == [run.id]
    # Handed back to cvsite, the operator catches the run up: the event was kept.
    run_actions.set_project_verifier("v8", Verifier.CVSITE, "op")
    operations.run_executor(run.id, "op")
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and not TryjobEvent.objects.exists()


DEFINITIONS = 6


@pytest.mark.django_db(transaction=True)
def test_concurrent_updates_and_passes_of_one_run_lose_nothing(backend, slept, tmp_path):
    """Builds end from several threads while other threads run passes for the run.

    Every event is consumed exactly once: each first attempt's end is logged once, every
    attempt mirrors its tryjob, every retry was launched once, and the log's state versions
    follow the saves in order.
    """
    with database_for_threads(tmp_path):
        run = cvsite_run()
        retry = RetryConfig(single_quota=5, global_quota=50, transient_failure_weight=1)
        operations.set_requirement(
            run.id, requirement(*(defn(f"b{i}") for i in range(DEFINITIONS)), retry=retry), "op"
        )
        first = list(Tryjob.objects.order_by("id"))
        errors: list[BaseException] = []
        barrier = threading.Barrier(2 * DEFINITIONS)

        def in_thread(work):
            def target():
                try:
                    barrier.wait(timeout=30)
                    work()
                except BaseException as e:  # reported by the main thread
                    errors.append(e)
                finally:
                    connections.close_all()

            return threading.Thread(target=target)

        def end(tryjob, status):
            return lambda: backend.finish_build(tryjob.external_id, status)

        def run_passes():
            for _ in range(3):
                passes.process_tryjob_events(run.id, "task")

        launch = backend.launch

        def slow_launch(requests):
            time.sleep(0.02)  # a pass stays open a while: builds end meanwhile
            return launch(requests)

        backend.launch = slow_launch

        # Even builders fail transiently (and are retried), odd ones succeed.
        threads = [
            in_thread(end(t, Result.FAILED_TRANSIENTLY if i % 2 == 0 else Result.SUCCEEDED))
            for i, t in enumerate(first)
        ] + [in_thread(run_passes) for _ in range(DEFINITIONS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors, errors
        while TryjobEvent.objects.filter(run=run).exists():
            passes.process_tryjob_events(run.id, "task")

        state = state_of(run)
        tryjobs = {t.id: t for t in Tryjob.objects.all()}
        for execution in state.executions:
            for attempt in execution.attempts:
                assert attempt.status == tryjobs[attempt.tryjob_id].status
        assert attempt_statuses(state) == [
            ["ENDED", "TRIGGERED"] if i % 2 == 0 else ["ENDED"] for i in range(DEFINITIONS)
        ]
        assert [e.used_quota for e in state.executions] == [
            1 if i % 2 == 0 else 0 for i in range(DEFINITIONS)
        ]
        assert len(tryjobs) == DEFINITIONS + DEFINITIONS // 2
        ended = [
            s.id
            for e in log_of(run)
            if e.WhichOneof("kind") == "tryjobs_ended"
            for s in e.tryjobs_ended.tryjobs
        ]
        assert sorted(ended) == sorted(t.id for t in first)
        relaunched = [
            s.id
            for e in log_of(run)[1:]
            if e.WhichOneof("kind") == "tryjobs_launched"
            for s in e.tryjobs_launched.tryjobs
        ]
        assert sorted(relaunched) == sorted(set(tryjobs) - {t.id for t in first})
        assert_log_versions_consistent(run)
        assert state.status == State.RUNNING
        assert not TryjobEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_update_committed_while_a_pass_runs_neither_waits_nor_is_lost(backend, slept, tmp_path):
    """An update of another tryjob of the run commits while a pass launches (the pass holds
    no lock then) and stays for the next pass, which the pass does not consume."""
    with database_for_threads(tmp_path):
        run = cvsite_run()
        operations.set_requirement(run.id, requirement(LINUX, WIN, retry=RETRY), "op")
        linux, win = Tryjob.objects.order_by("id")
        backend.finish_build(linux.external_id, Result.FAILED_TRANSIENTLY)
        launching, committed = threading.Event(), threading.Event()
        launch = backend.launch

        def launch_once_win_ended(requests):
            launching.set()
            assert committed.wait(timeout=30)
            return launch(requests)

        backend.launch = launch_once_win_ended
        outcome = {}

        def run_pass():
            try:
                outcome["pass"] = passes.process_tryjob_events(run.id, "task")
            finally:
                connections.close_all()

        def end_win():
            try:
                outcome["update"] = backend.finish_build(win.external_id, Result.SUCCEEDED)
            finally:
                connections.close_all()

        passer = threading.Thread(target=run_pass)
        passer.start()
        assert launching.wait(timeout=30)
        updater = threading.Thread(target=end_win)
        updater.start()
        updater.join(timeout=10)
        finished_alone = not updater.is_alive()
        committed.set()
        passer.join(timeout=30)
        updater.join(timeout=30)
        assert finished_alone, "the update waited for the pass's lock"
        assert outcome["update"] and outcome["pass"].events == 1

        assert list(TryjobEvent.objects.values_list("tryjob_id", flat=True)) == [win.id]
        assert attempt_statuses(state_of(run)) == [["ENDED", "TRIGGERED"], ["TRIGGERED"]]
        assert passes.process_tryjob_events(run.id, "task").events == 1
        assert attempt_statuses(state_of(run)) == [["ENDED", "TRIGGERED"], ["ENDED"]]
        assert_log_versions_consistent(run)


@pytest.mark.parametrize("outcome", [Result.SUCCEEDED, Result.FAILED_PERMANENTLY])
def test_an_ended_dry_run_posts_its_result_on_every_cl(backend, run_tasks, gerrit, outcome):
    for number in (1, 2):
        gerrit.add_change(number, project="chromium/src")
    run = make_run_of_changes(gerrit, [1, 2], mode="DRY_RUN")
    run_actions.set_project_verifier(run.project, Verifier.CVSITE, "test")
    operations.set_requirement(run.id, requirement(LINUX), "op")
    backend.finish_build(latest_tryjob(run, 0).external_id, outcome, summary="compile failed")
    run_tasks()
    run_tasks()  # the result-message task enqueued by the pass

    run.refresh_from_db()
    reviews = gerrit.requests_to("POST", "/review")
    assert len(reviews) == 2
    expected = VERIFIED_OK_MESSAGE if outcome == Result.SUCCEEDED else run.end_reason
    assert {r.body["message"] for r in reviews} == {expected}
    assert run.status == (RunStatus.SUCCEEDED if outcome == Result.SUCCEEDED else RunStatus.FAILED)
    assert "compile failed" in expected or outcome == Result.SUCCEEDED


def _set_message(gerrit, number: int, footer: str) -> None:
    change = gerrit.change(number)
    revision = change["revisions"][change["current_revision"]]
    revision["commit"]["message"] = f"Make it so\n\nBody\n\n{footer}\nChange-Id: I1\n"


@pytest.mark.django_db
def test_a_disable_reuse_footer_added_or_changed_means_a_fresh_build(gerrit, backend, run_tasks):
    """cv_config.md §8.11: the definition's disable_reuse_footers are part of its reuse key;
    a builder without them reuses as before."""
    gerrit.add_change(1, project="chromium/src")
    run_actions.set_project_verifier("chromium", Verifier.CVSITE, "op")
    ci_only = defn("ci-only", disable_reuse_footers=["Include-Ci-Only-Tests"])
    plain = defn("plain")
    _set_message(gerrit, 1, "Include-Ci-Only-Tests: true")
    donor = make_run_of_changes(gerrit, [1], mode="DRY_RUN")
    operations.set_requirement(donor.id, requirement(ci_only, plain), "op")
    for index in (0, 1):
        backend.finish_build(latest_tryjob(donor, index).external_id, Result.SUCCEEDED)
    run_tasks()

    # Same footer: both reused.
    same = make_run_of_changes(gerrit, [1], mode="DRY_RUN")
    operations.set_requirement(same.id, requirement(ci_only, plain), "op")
    assert [snapshots(e) for e in log_of(same)] == [[("ci-only", True), ("plain", True)]]

    # The footer's value changed (a commit-message edit, same code): ci-only runs afresh.
    _set_message(gerrit, 1, "Include-Ci-Only-Tests: false")
    changed = make_run_of_changes(gerrit, [1], mode="DRY_RUN")
    operations.set_requirement(changed.id, requirement(ci_only, plain), "op")
    assert [snapshots(e) for e in log_of(changed)] == [[("plain", True)], [("ci-only", False)]]

    # The footer removed: ci-only again does not reuse the donor's (nor the last) build.
    _set_message(gerrit, 1, "Bug: 1")
    removed = make_run_of_changes(gerrit, [1], mode="DRY_RUN")
    operations.set_requirement(removed.id, requirement(ci_only, plain), "op")
    assert [snapshots(e) for e in log_of(removed)] == [[("plain", True)], [("ci-only", False)]]
    keys = {latest_tryjob(r, 0).reuse_key for r in (donor, changed, removed)}
    assert len(keys) == 3
