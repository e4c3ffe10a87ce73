"""The executor's persistence and driving (passes, launching, updates, stale cancellation),
one behaviour per test."""

from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cvproto.codes import Code
from cvproto.cq.recipe import cq_pb2
from cvproto.cv.internal.tryjob import storage_pb2 as pb
from cvproto.gerrit import gerrit_pb2
from cvproto.times import to_timestamp
from runs.errors import ActionError
from runs.models import RunEvent, RunEventKind, RunStatus, Verifier
from tryjobs import operations, passes, requirements, serializers, stale, tasks, updates, verdict
from tryjobs.backend import NO_BACKEND_REASON, BackendError, get_backend
from tryjobs.models import (
    ExecutionLogEntry,
    ExecutionState,
    Tryjob,
    TryjobCLPatchset,
    TryjobEvent,
    TryjobStatus,
)
from tryjobs.tests import actions_support
from tryjobs.tests.actions_support import (
    HOST,
    Result,
    RetryConfig,
    State,
    attempt_statuses,
    cvsite_run,
    defn,
    latest_tryjob,
    log_kinds,
    log_of,
    make_cls,
    requirement,
    state_of,
)

# Fixtures.
backend = actions_support.backend
slept = actions_support.slept

pytestmark = pytest.mark.django_db

UNAVAILABLE, NOT_FOUND, PERMISSION_DENIED, INTERNAL = 14, 5, 7, 13
RETRY = RetryConfig(
    single_quota=2, global_quota=4, failure_weight=3, transient_failure_weight=1, timeout_weight=2
)


def task_names() -> list[str]:
    return sorted(
        t.task_path.rsplit(".", 1)[-1]
        for t in DBTaskResult.objects.filter(status="READY").order_by("enqueued_at")
    )


def task_args(name: str) -> list[list]:
    return [
        t.args_kwargs["args"]
        for t in DBTaskResult.objects.filter(status="READY").order_by("enqueued_at")
        if t.task_path.endswith(name)
    ]


# Setting a requirement -------------------------------------------------------------------------


def test_a_requirement_launches_every_definition_in_one_saved_pass(backend):
    run = cvsite_run()
    result = operations.set_requirement(run.id, requirement(defn("a"), defn("b")), "op")

    state = state_of(run)
    assert state.status == State.RUNNING and state.requirement_version == 1
    assert attempt_statuses(state) == [["TRIGGERED"], ["TRIGGERED"]]
    stored = ExecutionState.objects.get(run=run)
    assert result.saved and result.state_version == stored.eversion == 1
    assert list(ExecutionLogEntry.objects.filter(run=run).values_list("kind", "state_version")) == [
        ("tryjobs_launched", 1)
    ]
    rows = list(Tryjob.objects.order_by("id"))
    assert [(t.builder_name, t.status, t.launched_by_id, t.eversion) for t in rows] == [
        ("a", TryjobStatus.TRIGGERED, run.id, 2),
        ("b", TryjobStatus.TRIGGERED, run.id, 2),
    ]
    assert {t.reuse_key for t in rows} == {result_reuse_key(run)}
    assert TryjobCLPatchset.objects.filter(tryjob=rows[0]).count() == 2
    [call] = backend.launch_calls
    assert [r.tryjob_id for r in call] == [t.id for t in rows]
    assert call[0].attempt_key == run.cqd_attempt_key and len(call[0].cls) == 2
    assert [a.external_id for a in (e.attempts[0] for e in state.executions)] == [
        t.external_id for t in rows
    ]


def result_reuse_key(run) -> str:
    return passes.run_view(run).reuse_key


def test_each_requirement_is_the_next_version_and_changes_keep_attempts(backend):
    run = cvsite_run()
    operations.set_requirement(run.id, requirement(defn("a"), defn("b")), "op")
    result = operations.set_requirement(
        run.id, requirement(defn("a", experiments=["x"]), defn("c")), "op"
    )
    state = state_of(run)
    assert state.requirement_version == 2
    assert [d.buildbucket.builder.builder for d in state.requirement.definitions] == ["a", "c"]
    assert attempt_statuses(state) == [["TRIGGERED"], ["TRIGGERED"]]
    assert [e.WhichOneof("kind") for e in result.log_entries] == [
        "requirement_changed",
        "tryjob_discarded",
        "tryjobs_launched",
    ]
    assert ExecutionState.objects.get(run=run).eversion == 2
    assert set(ExecutionLogEntry.objects.values_list("state_version", flat=True)) == {1, 2}


def test_an_empty_requirement_succeeds_a_dry_run():
    run = cvsite_run()
    operations.set_requirement(run.id, requirement(), "op")
    run.refresh_from_db()
    assert state_of(run).status == State.SUCCEEDED
    assert run.status == RunStatus.SUCCEEDED and run.end_reason == verdict.SUCCEEDED_REASON
    event = RunEvent.objects.get(run=run, kind=RunEventKind.STATUS_CHANGED)
    assert (event.from_status, event.to_status, event.actor) == (
        RunStatus.RUNNING,
        RunStatus.SUCCEEDED,
        "op",
    )


def test_a_succeeded_full_run_waits_for_submission_and_its_task_is_queued():
    run = cvsite_run(mode="FULL_RUN")
    operations.set_requirement(run.id, requirement(), "op")
    run.refresh_from_db()
    assert run.status == RunStatus.WAITING_FOR_SUBMISSION and run.end_time is None
    assert task_args("submit_run") == [[run.id]]


@pytest.mark.parametrize("status", [RunStatus.PENDING, RunStatus.SUBMITTING, RunStatus.FAILED])
def test_a_requirement_is_only_set_on_a_running_run(status):
    run = cvsite_run(status=status)
    with pytest.raises(ActionError) as e:
        operations.set_requirement(run.id, requirement(defn("a")), "op")
    assert e.value.code == Code.FAILED_PRECONDITION
    assert "only set on a RUNNING run" in e.value.message
    assert not ExecutionState.objects.exists()


def test_an_unknown_run_is_not_found():
    with pytest.raises(ActionError) as e:
        operations.run_executor("chromium/123-1-abc", "op")
    assert e.value.code == Code.NOT_FOUND


# Who verifies ----------------------------------------------------------------------------------


def test_runs_of_cqdaemon_verified_projects_are_never_touched(backend):
    run = cvsite_run("v8", verifier=Verifier.CQDAEMON)
    for call in (
        lambda: operations.set_requirement(run.id, requirement(defn("a")), "op"),
        lambda: operations.run_executor(run.id, "op"),
    ):
        with pytest.raises(ActionError) as e:
            call()
        assert e.value.code == Code.FAILED_PRECONDITION
        assert "'v8' is verified by CQDaemon" in e.value.message
    # A tryjob event (the project switched back mid-run) is left for a later pass.
    other = cvsite_run()
    operations.set_requirement(other.id, requirement(defn("a")), "op")
    tryjob = Tryjob.objects.get()
    tryjob.reused_by.add(run)
    TryjobEvent.objects.create(run=run, tryjob=tryjob, created_at=timezone.now())
    assert passes.process_tryjob_events(run.id, "task") is None
    assert TryjobEvent.objects.filter(run=run).count() == 1
    assert not ExecutionState.objects.filter(run=run).exists()
    assert backend.builders_launched() == ["a"]


# Tryjob updates and the inbox ------------------------------------------------------------------


def test_an_update_wakes_every_watching_run_that_has_not_ended(backend):
    launcher = cvsite_run()
    operations.set_requirement(launcher.id, requirement(defn("a")), "op")
    tryjob = Tryjob.objects.get()
    reuser, ended = cvsite_run(), cvsite_run(status=RunStatus.CANCELLED)
    tryjob.reused_by.add(reuser, ended)
    DBTaskResult.objects.all().delete()

    assert backend.finish_build(tryjob.external_id, Result.SUCCEEDED)

    assert sorted(TryjobEvent.objects.values_list("run_id", "tryjob_id")) == sorted(
        [(launcher.id, tryjob.id), (reuser.id, tryjob.id)]
    )
    assert sorted(a[0] for a in task_args("process_tryjob_events")) == sorted(
        [launcher.id, reuser.id]
    )
    tryjob.refresh_from_db()
    assert tryjob.status == TryjobStatus.ENDED and tryjob.eversion == 3


def test_a_batch_of_updates_is_one_task_and_one_pass_per_run(backend, run_tasks):
    run = cvsite_run()
    operations.set_requirement(run.id, requirement(defn("a"), defn("b"), defn("c")), "op")
    DBTaskResult.objects.all().delete()
    news = [
        updates.TryjobUpdate(t.external_id, pb.ENDED, backend.end_result(t.external_id, 2))
        for t in Tryjob.objects.order_by("id")
    ]
    assert len(updates.record_tryjob_updates(news)) == 3
    assert task_args("process_tryjob_events") == [[run.id]]
    run_tasks()
    assert log_kinds(run) == ["tryjobs_launched", "tryjobs_ended"]
    [ended] = [e for e in log_of(run) if e.WhichOneof("kind") == "tryjobs_ended"]
    assert len(ended.tryjobs_ended.tryjobs) == 3
    assert state_of(run).status == State.SUCCEEDED
    assert not TryjobEvent.objects.exists()


def test_repeated_and_older_updates_change_nothing(backend):
    run = cvsite_run()
    operations.set_requirement(run.id, requirement(defn("a")), "op")
    tryjob = Tryjob.objects.get()
    result = backend.end_result(tryjob.external_id, Result.SUCCEEDED)
    assert updates.record_tryjob_update(tryjob.external_id, pb.ENDED, result)
    assert not updates.record_tryjob_update(tryjob.external_id, pb.ENDED, result)
    older = pb.Result()
    older.CopyFrom(result)
    older.status = Result.UNKNOWN
    older.update_time.CopyFrom(to_timestamp(timezone.now() - timedelta(hours=1)))
    assert not updates.record_tryjob_update(tryjob.external_id, pb.TRIGGERED, older)
    assert TryjobEvent.objects.count() == 1
    tryjob.refresh_from_db()
    assert tryjob.status == TryjobStatus.ENDED and tryjob.eversion == 3


def test_bad_updates_are_refused_and_store_nothing(backend):
    run = cvsite_run()
    operations.set_requirement(run.id, requirement(defn("a")), "op")
    tryjob = Tryjob.objects.get()
    with pytest.raises(ActionError) as e:
        updates.record_tryjob_update("buildbucket/x/1", pb.TRIGGERED)
    assert (e.value.code, e.value.message) == (
        Code.NOT_FOUND,
        "unknown Tryjob with ExternalID buildbucket/x/1",
    )
    with pytest.raises(ActionError) as e:
        updates.record_tryjob_update(tryjob.external_id, pb.ENDED, None)
    assert e.value.code == Code.INVALID_ARGUMENT and "updates[0].result" in e.value.message
    assert not TryjobEvent.objects.exists()


def test_a_pass_consumes_exactly_the_events_it_read(backend):
    """An event written while a pass runs (here: by the backend, mid-launch) is kept."""
    run = cvsite_run()
    operations.set_requirement(
        run.id,
        requirement(
            defn("a"),
            defn("b"),
            retry=RetryConfig(single_quota=5, global_quota=5, transient_failure_weight=1),
        ),
        "op",
    )
    a, b = Tryjob.objects.order_by("id")
    backend.finish_build(a.external_id, Result.FAILED_TRANSIENTLY)
    read = list(TryjobEvent.objects.values_list("id", flat=True))
    launch = backend.launch

    def launch_and_meanwhile_end_b(requests):
        backend.launch = launch
        backend.finish_build(b.external_id, Result.SUCCEEDED)
        return launch(requests)

    backend.launch = launch_and_meanwhile_end_b
    result = passes.process_tryjob_events(run.id, "task")
    assert result.events == 1
    left = list(TryjobEvent.objects.values_list("id", "tryjob_id"))
    assert [t for _, t in left] == [b.id] and left[0][0] not in read
    assert attempt_statuses(state_of(run)) == [["ENDED", "TRIGGERED"], ["TRIGGERED"]]
    # The next pass picks it up.
    assert passes.process_tryjob_events(run.id, "task").events == 1
    assert attempt_statuses(state_of(run)) == [["ENDED", "TRIGGERED"], ["ENDED"]]


def test_events_of_an_ended_run_are_consumed_without_a_pass(backend):
    run = cvsite_run()
    operations.set_requirement(run.id, requirement(defn("a")), "op")
    backend.finish_build(Tryjob.objects.get().external_id, Result.SUCCEEDED)
    run.status, run.end_time = RunStatus.CANCELLED, timezone.now()
    run.save()
    before = state_of(run)
    result = passes.process_tryjob_events(run.id, "task")
    assert result.events == 1 and not result.saved
    assert state_of(run) == before and not TryjobEvent.objects.exists()


def test_a_pass_without_news_saves_nothing(backend):
    run = cvsite_run()
    operations.set_requirement(run.id, requirement(defn("a")), "op")
    result = operations.run_executor(run.id, "op")
    assert not result.saved and result.state_version == 1
    assert ExecutionLogEntry.objects.count() == 1


def test_run_executor_catches_up_with_tryjobs_changed_behind_its_back(backend):
    run = cvsite_run()
    operations.set_requirement(run.id, requirement(defn("a")), "op")
    tryjob = Tryjob.objects.get()
    result = backend.end_result(tryjob.external_id, Result.SUCCEEDED)
    Tryjob.objects.filter(id=tryjob.id).update(
        status=TryjobStatus.ENDED, **serializers.result_columns(result)
    )
    operations.run_executor(run.id, "op")
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED


def test_run_executor_needs_a_requirement():
    run = cvsite_run()
    with pytest.raises(ActionError) as e:
        operations.run_executor(run.id, "op")
    assert e.value.code == Code.FAILED_PRECONDITION
    assert "has no tryjob requirement yet" in e.value.message


# Reuse -----------------------------------------------------------------------------------------


def _ended_tryjob_of(run, name, status=Result.SUCCEEDED, backend=None):
    """A tryjob `run` launched (never reused: it matches by the builder that ran) and ended."""
    operations.set_requirement(run.id, requirement(defn(name, disable_reuse=True)), "op")
    tryjob = Tryjob.objects.filter(launched_by=run).latest("id")
    backend.finish_build(tryjob.external_id, status)
    tryjob.refresh_from_db()
    return tryjob


def test_a_fresh_succeeded_tryjob_of_the_same_cls_is_reused(backend):
    cls = make_cls()
    donor = cvsite_run(cls=cls)
    tryjob = _ended_tryjob_of(donor, "a", backend=backend)
    run = cvsite_run(cls=cls)
    result = operations.set_requirement(run.id, requirement(defn("a"), defn("b")), "op")

    assert [e.WhichOneof("kind") for e in result.log_entries] == [
        "tryjobs_reused",
        "tryjobs_launched",
    ]
    attempt = state_of(run).executions[0].attempts[0]
    assert (attempt.tryjob_id, attempt.reused, attempt.status) == (tryjob.id, True, pb.ENDED)
    tryjob.refresh_from_db()
    assert list(tryjob.reused_by.values_list("id", flat=True)) == [run.id]
    assert tryjob.eversion == 4
    assert backend.builders_launched() == ["a", "b"]  # the donor's a, then b


def test_reuse_needs_the_same_project_the_same_cls_and_a_fresh_success(backend):
    cls = make_cls()
    _ended_tryjob_of(cvsite_run("v8", cls=cls), "a", backend=backend)  # another project
    _ended_tryjob_of(cvsite_run(cls=cls), "b", Result.FAILED_PERMANENTLY, backend)  # failed
    _ended_tryjob_of(cvsite_run(), "c", backend=backend)  # other CLs
    stale = _ended_tryjob_of(cvsite_run(cls=cls), "d", backend=backend)
    Tryjob.objects.filter(id=stale.id).update(
        result_create_time=timezone.now() - timedelta(hours=25)
    )
    run = cvsite_run(cls=cls)
    operations.set_requirement(
        run.id, requirement(defn("a"), defn("b"), defn("c"), defn("d")), "op"
    )
    assert not any(a.reused for e in state_of(run).executions for a in e.attempts)
    assert backend.builders_launched()[-4:] == ["a", "b", "c", "d"]


def test_the_latest_created_candidate_wins_and_disable_reuse_launches(backend):
    cls = make_cls()
    _ended_tryjob_of(cvsite_run(cls=cls), "a", backend=backend)
    newer = _ended_tryjob_of(cvsite_run(cls=cls), "a", backend=backend)
    _ended_tryjob_of(cvsite_run(cls=cls), "p", backend=backend)
    run = cvsite_run(cls=cls)
    operations.set_requirement(run.id, requirement(defn("a"), defn("p", disable_reuse=True)), "op")
    state = state_of(run)
    assert state.executions[0].attempts[0].tryjob_id == newer.id
    assert not state.executions[1].attempts[0].reused
    assert backend.builders_launched()[-1] == "p"


def test_a_retry_never_reuses_an_earlier_attempt(backend, run_tasks):
    cls = make_cls()
    run = cvsite_run(cls=cls)
    operations.set_requirement(run.id, requirement(defn("a"), retry=RETRY), "op")
    first = latest_tryjob(run, 0)
    backend.finish_build(first.external_id, Result.FAILED_TRANSIENTLY)
    run_tasks()
    state = state_of(run)
    assert [a.tryjob_id == first.id for a in state.executions[0].attempts] == [True, False]
    assert state.executions[0].used_quota == 1


# Launch failures (§3.7) ------------------------------------------------------------------------


def test_a_retriable_launch_failure_is_retried_with_backoff(backend, slept):
    run = cvsite_run()
    backend.fail_launch(UNAVAILABLE, "try later", builder="a", times=2)
    result = operations.set_requirement(run.id, requirement(defn("a"), defn("b")), "op")
    assert slept == [0.1, 0.2]
    launched = [e.tryjobs_launched for e in result.log_entries]
    assert [[s.definition.buildbucket.builder.builder for s in e.tryjobs] for e in launched] == [
        ["b"],
        ["a"],
    ]
    assert attempt_statuses(state_of(run)) == [["TRIGGERED"], ["TRIGGERED"]]


def test_launch_retries_give_up_after_two_minutes_and_fail_the_run(backend, slept):
    run = cvsite_run()
    backend.fail_launch(UNAVAILABLE, "overloaded", builder="a", times=None)
    result = operations.set_requirement(run.id, requirement(defn("a"), defn("b")), "op")

    assert slept[:8] == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 10.0]
    assert set(slept[7:]) == {10.0} and sum(slept) <= 120 < sum(slept) + 10
    reason = "received Unavailable from buildbucket. message: overloaded"
    assert [e.WhichOneof("kind") for e in result.log_entries] == [
        "tryjobs_launched",
        "tryjobs_launch_failed",
    ]
    [failed] = result.log_entries[-1].tryjobs_launch_failed.tryjobs
    assert failed.reason == reason
    tryjob = Tryjob.objects.get(builder_name="a")
    assert (tryjob.status, tryjob.untriggered_reason, tryjob.external_id) == (
        TryjobStatus.UNTRIGGERED,
        reason,
        None,
    )
    run.refresh_from_db()
    assert state_of(run).status == State.FAILED and run.status == RunStatus.FAILED
    assert run.end_reason == f"Failed to launch 1 tryjob:\n* chromium/try/a: {reason}"


def test_a_non_retriable_failure_stops_the_retries_of_its_round(backend, slept):
    run = cvsite_run()
    backend.fail_launch(UNAVAILABLE, builder="a")
    backend.fail_launch(PERMISSION_DENIED, "no access", builder="b")
    operations.set_requirement(run.id, requirement(defn("a"), defn("b")), "op")
    assert slept == []
    assert dict(Tryjob.objects.values_list("builder_name", "untriggered_reason")) == {
        "a": "received Unavailable from buildbucket",
        "b": "received PermissionDenied from buildbucket. message: no access",
    }
    assert state_of(run).failures.launch_failures[1].reason.startswith("received Permission")


def test_an_optional_launch_failure_is_logged_but_does_not_fail(backend, slept):
    run = cvsite_run()
    backend.fail_launch(PERMISSION_DENIED, builder="o")
    result = operations.set_requirement(
        run.id, requirement(defn("a"), defn("o", critical=False)), "op"
    )
    assert result.log_entries[-1].WhichOneof("kind") == "tryjobs_launch_failed"
    assert state_of(run).status == State.RUNNING


@pytest.mark.parametrize(
    "script, reason",
    [
        (lambda b: b.fail_next_call(INTERNAL, "boom"), None),
        (lambda b: b.fail_launch(None, "not a status"), "unexpected internal error"),
    ],
)
def test_whole_call_and_non_status_errors(backend, slept, script, reason):
    run = cvsite_run()
    script(backend)
    operations.set_requirement(run.id, requirement(defn("a")), "op")
    tryjob = Tryjob.objects.get()
    if reason is None:  # INTERNAL is retriable: the second call starts it
        assert tryjob.status == TryjobStatus.TRIGGERED and slept == [0.1]
    else:
        assert tryjob.untriggered_reason == reason and slept == []


def test_a_backend_that_raises_something_else_is_an_unexpected_error(backend, monkeypatch):
    run = cvsite_run()

    def broken(requests):
        raise RuntimeError("bug")

    monkeypatch.setattr(backend, "launch", broken)
    operations.set_requirement(run.id, requirement(defn("a")), "op")
    assert Tryjob.objects.get().untriggered_reason == "unexpected internal error"


def test_without_a_backend_launches_fail_saying_so(settings):
    settings.TRYJOB_BACKEND = ""
    get_backend.cache_clear()
    run = cvsite_run()
    operations.set_requirement(run.id, requirement(defn("a")), "op")
    run.refresh_from_db()
    assert Tryjob.objects.get().untriggered_reason == NO_BACKEND_REASON
    assert run.status == RunStatus.FAILED
    assert run.end_reason == f"Failed to launch 1 tryjob:\n* chromium/try/a: {NO_BACKEND_REASON}"


def test_a_launched_build_cvsite_already_knows_keeps_its_tryjob(backend):
    other = cvsite_run()
    operations.set_requirement(other.id, requirement(defn("x")), "op")
    known = Tryjob.objects.get()
    run = cvsite_run()
    backend.give_next_external_id(known.external_id)
    operations.set_requirement(run.id, requirement(defn("a")), "op")
    dropped = Tryjob.objects.get(builder_name="a")
    assert dropped.status == TryjobStatus.UNTRIGGERED
    assert dropped.untriggered_reason == (
        f"launched {known.external_id}, but it already maps to tryjob {known.id}"
    )
    attempt = state_of(run).executions[0].attempts[0]
    assert (attempt.tryjob_id, attempt.reused) == (known.id, True)
    assert list(known.reused_by.values_list("id", flat=True)) == [run.id]


# The failure message ---------------------------------------------------------------------------


def _failed_state(*failures) -> State:
    state = State(status=State.FAILED)
    for i, (name, status, summary, visibility) in enumerate(failures, start=1):
        state.requirement.definitions.append(defn(name, result_visibility=visibility))
        attempt = state.executions.add().attempts.add(
            tryjob_id=i, external_id=f"buildbucket/{HOST}/{100 + i}", status=pb.ENDED
        )
        attempt.result.status = status
        attempt.result.buildbucket.summary_markdown = summary
        state.failures.unsuccessful_results.add(tryjob_id=i)
    return state


def test_the_failure_message_names_each_failed_builder_with_its_link_and_summary():
    state = _failed_state(
        ("linux", Result.FAILED_PERMANENTLY, "step compile failed", 0),
        ("mac", Result.TIMEOUT, "\n".join(f"line {i}" for i in range(12)), 0),
        ("secret", Result.FAILED_PERMANENTLY, "do not show", 2),
    )
    denial = pb.ExecutionLogEntry.RetryDenied(reason="insufficient quota")
    assert verdict.failure_message(state, [denial, denial]) == "\n".join(
        [
            "3 tryjobs failed:",
            f"* chromium/try/linux failed: https://{HOST}/build/101",
            "  step compile failed",
            f"* chromium/try/mac timed out: https://{HOST}/build/102",
            *[f"  line {i}" for i in range(10)],
            "  ...",
            f"* a tryjob failed: https://{HOST}/build/103",
            "Not retried: insufficient quota.",
        ]
    )


def test_the_failure_message_names_the_builder_that_ran():
    state = _failed_state(("linux", Result.FAILED_TRANSIENTLY, "", 0))
    ran = state.executions[0].attempts[0].result.buildbucket.builder
    ran.project, ran.bucket, ran.builder = "chromium", "try", "linux-equivalent"
    assert verdict.failure_message(state).splitlines()[1] == (
        f"* chromium/try/linux-equivalent failed (infra or transient failure): "
        f"https://{HOST}/build/101"
    )


# Requirements ----------------------------------------------------------------------------------

TEXT = """
definitions {
  buildbucket { host: "cr-buildbucket.appspot.com"
                builder { project: "chromium" bucket: "try" builder: "linux" } }
  critical: true
}
retry_config { single_quota: 2 global_quota: 4 transient_failure_weight: 1 }
"""
JSON = """{"definitions": [{"buildbucket": {"host": "cr-buildbucket.appspot.com",
  "builder": {"project": "chromium", "bucket": "try", "builder": "linux"}}, "critical": true}],
  "retryConfig": {"singleQuota": 2, "globalQuota": 4, "transientFailureWeight": 1}}"""


@pytest.mark.parametrize("data, fmt", [(TEXT, None), (JSON, None), (TEXT, "text"), (JSON, "json")])
def test_requirements_are_read_from_text_or_json(data, fmt):
    parsed = requirements.parse_requirement(data.encode(), fmt)
    expected = requirement(
        defn("linux"),
        retry=RetryConfig(single_quota=2, global_quota=4, transient_failure_weight=1),
    )
    assert parsed == expected


@pytest.mark.parametrize(
    "data, fmt, message",
    [
        ("definitions { critical: maybe }", None, "in protobuf text format: 1:"),
        ('{"definitions": 3}', None, "in JSON:"),
        (JSON, "text", "in protobuf text format"),
        ("definitions { critical: true }", None, "req.definitions[0]: a definition needs a"),
        (
            TEXT.replace("retry_config {", "retry_config { timeout_weight: -1"),
            "text",
            "req.retry_config.timeout_weight: must not be negative, got -1",
        ),
        (
            TEXT.replace("definitions {", TEXT.split("retry_config")[0] + "definitions {", 1),
            "text",
            "req.definitions[1]: builder cr-buildbucket.appspot.com/chromium/try/linux is "
            "already definitions[0]",
        ),
        (b"\xff", None, "req: not UTF-8 text"),
    ],
)
def test_bad_requirements_are_refused_naming_the_problem(data, fmt, message):
    with pytest.raises(ActionError) as e:
        requirements.parse_requirement(data, fmt, "req")
    assert e.value.code == Code.INVALID_ARGUMENT
    assert message in e.value.message


def test_the_format_follows_the_extension():
    assert [requirements.format_of(p) for p in ("r.json", "r.TXTPB", "r.textproto", "r")] == [
        "json",
        "text",
        "text",
        None,
    ]


# Stale tryjobs (§5) ----------------------------------------------------------------------------


def _stale_setup(backend, **definition_flags):
    cl = make_cls(1)[0]
    run = cvsite_run(cls=[cl])
    operations.set_requirement(run.id, requirement(defn("a", **definition_flags)), "op")
    run.status, run.end_time = RunStatus.CANCELLED, timezone.now()
    run.save()
    return cl, run, Tryjob.objects.get()


def test_scheduling_needs_a_previous_patchset_and_an_increase():
    assert not tasks.schedule_stale_tryjob_cancellation(1, 0, 3)
    with pytest.raises(ValueError, match="expected to increase monotonically"):
        tasks.schedule_stale_tryjob_cancellation(1, 3, 3)
    assert tasks.schedule_stale_tryjob_cancellation(1, 2, 4)
    [task] = DBTaskResult.objects.filter(task_path__endswith="cancel_stale_tryjobs")
    assert task.args_kwargs["args"] == [1, 2, 4] and task.run_after > timezone.now()


def test_unwatched_tryjobs_of_superseded_patchsets_are_cancelled(backend, run_tasks):
    cl, run, tryjob = _stale_setup(backend)
    tasks.schedule_stale_tryjob_cancellation(cl.id, 2, 4)
    run_tasks(including_delayed=True)
    tryjob.refresh_from_db()
    assert tryjob.status == TryjobStatus.CANCELLED and tryjob.result_status is None
    assert backend.cancelled == [tryjob.external_id]
    assert backend.builds[tryjob.external_id].cancelled_with == stale.STALE_SUMMARY
    assert not TryjobEvent.objects.exists()


@pytest.mark.parametrize("patchsets", [(1, 3), (4, 6)])
def test_tryjobs_of_other_patchsets_are_kept(backend, patchsets):
    cl, run, tryjob = _stale_setup(backend)  # the tryjob is of patchset 3: not in [lo, hi)
    assert stale.cancel_stale_tryjobs(cl.id, *patchsets).cancelled == []
    assert stale.cancel_stale_tryjobs(cl.id, 3, 4).cancelled == [tryjob.id]


def test_skip_stale_check_footer_and_foreign_tryjobs_are_kept(backend):
    cl, run, tryjob = _stale_setup(backend, skip_stale_check=True)
    assert stale.cancel_stale_tryjobs(cl.id, 2, 4).cancelled == []
    Tryjob.objects.filter(id=tryjob.id).update(skip_stale_check=False, launched_by=None)
    assert stale.cancel_stale_tryjobs(cl.id, 2, 4).cancelled == []
    Tryjob.objects.filter(id=tryjob.id).update(launched_by=run)
    info = gerrit_pb2.ChangeInfo(current_revision="abc")
    info.revisions["abc"].commit.message = "Fix\n\nBug: 1\nCq-Do-Not-Cancel-Tryjobs:  True \n"
    cl.info = info.SerializeToString()
    cl.save()
    report = stale.cancel_stale_tryjobs(cl.id, 2, 4)
    assert report.kept_by_footer and report.cancelled == []
    assert backend.cancelled == []


def test_a_watched_tryjob_is_tried_again_later(backend, run_tasks):
    cl, run, tryjob = _stale_setup(backend)
    watcher = cvsite_run()
    tryjob.reused_by.add(watcher)
    tasks.schedule_stale_tryjob_cancellation(cl.id, 2, 4)
    run_tasks(including_delayed=True)
    tryjob.refresh_from_db()
    assert tryjob.status == TryjobStatus.TRIGGERED
    [again] = DBTaskResult.objects.filter(status="READY")
    assert again.args_kwargs["args"] == [cl.id, 2, 4, 1]
    assert again.run_after >= timezone.now() + timedelta(seconds=9)
    watcher.status, watcher.end_time = RunStatus.CANCELLED, timezone.now()
    watcher.save()
    run_tasks(including_delayed=True)
    tryjob.refresh_from_db()
    assert tryjob.status == TryjobStatus.CANCELLED


def test_a_backend_refusing_to_cancel_leaves_the_tryjob(backend):
    cl, run, tryjob = _stale_setup(backend)
    backend.fail_next_cancel(PERMISSION_DENIED, "nope")
    report = stale.cancel_stale_tryjobs(cl.id, 2, 4)
    assert report.failed == {tryjob.id: "received PermissionDenied from buildbucket. message: nope"}
    assert report.retry_in is None
    backend.fail_next_cancel(UNAVAILABLE)
    assert stale.cancel_stale_tryjobs(cl.id, 2, 4).retry_in is not None
    tryjob.refresh_from_db()
    assert tryjob.status == TryjobStatus.TRIGGERED


def test_backend_errors_carry_their_code():
    error = BackendError(UNAVAILABLE, "down")
    assert (error.code, error.message, str(error)) == (UNAVAILABLE, "down", "down")


def test_an_output_denying_retry_fails_the_run_saying_so(backend, run_tasks):
    run = cvsite_run()
    operations.set_requirement(run.id, requirement(defn("a"), retry=RETRY), "op")
    tryjob = Tryjob.objects.get()
    backend.finish_build(
        tryjob.external_id,
        Result.FAILED_PERMANENTLY,
        summary="bad CL",
        output=cq_pb2.Output(retry=cq_pb2.Output.OUTPUT_RETRY_DENIED),
    )
    run_tasks()
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.end_reason.endswith(
        "  bad CL\nNot retried: tryjob explicitly denies retry in its output."
    )


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("database is locked"),
        ActionError(Code.UNAVAILABLE, "its execution state changed under 10 passes in a row"),
    ],
)
def test_a_busy_database_or_run_puts_the_pass_off_with_backoff(monkeypatch, run_tasks, error):
    run = cvsite_run()

    def busy(*args, **kwargs):
        raise error

    monkeypatch.setattr(passes, "process_tryjob_events", busy)
    tasks.process_tryjob_events.enqueue(run.id)
    run_tasks()
    [again] = DBTaskResult.objects.filter(status="READY")
    assert again.args_kwargs["args"] == [run.id, 1]
    assert again.run_after > timezone.now()
