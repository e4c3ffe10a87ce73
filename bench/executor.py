"""One executor pass over a 50-definition ExecutionState with 5 attempts each, after one
tryjob update, through the real pass (tryjobs.passes.process_tryjob_events) with the fake
backend, against decoding that state from its rows and re-encoding it into rows
(tryjobs.serializers.load_execution_state + save_execution_state).

The update ends the latest attempt of one definition with a transient failure, so the pass
locks the run, reads its event, loads the state and the tryjob, runs the executor (retry
quota, a new attempt), searches the run's 250 tryjobs for one to reuse, creates and launches
a tryjob, saves the state with its log entries, and consumes the event.

ratio = pass time / decode+encode time; the goal is <= 3. Each repetition starts from the
same stored state (restored outside the timing).
"""

import time
from datetime import UTC, datetime, timedelta

from django.test.utils import override_settings
from django.utils import timezone

from cvproto.cv.config import config_pb2
from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from cvproto.times import to_timestamp
from runs import actions as run_actions
from runs.ids import RunID
from runs.models import CL, Run, RunCL, RunStatus, Verifier
from runs.serializers import set_served_message
from tryjobs import passes, serializers
from tryjobs.backend import get_backend
from tryjobs.models import ExecutionLogEntry, Tryjob, TryjobEvent
from tryjobs.views import RunCL as ViewCL
from tryjobs.views import RunView

DEFINITIONS = 50
ATTEMPTS = 5
REPEAT = 15
GOAL = 3.0
PROJECT = "bench-executor"
HOST = "cr-buildbucket.appspot.com"
CREATED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
Result = tryjob_pb.Result


def make_run() -> Run:
    run_actions.set_project_verifier(PROJECT, Verifier.CVSITE, "bench")
    key = "00000000000000ec"
    run = Run.objects.create(
        id=str(RunID.new(PROJECT, CREATED, key)),
        project=PROJECT,
        cqd_attempt_key=key,
        status=RunStatus.RUNNING,
        mode="DRY_RUN",
        create_time=CREATED,
    )
    for position in range(2):
        cl = CL.objects.create(
            host="bench-review.googlesource.com",
            change=900_000 + position,
            patchset=3,
            min_equivalent_patchset=3,
            info=b"",
        )
        run_cl = RunCL(
            run=run,
            cl=cl,
            position=position,
            trigger_time=CREATED,
            trigger_mode="DRY_RUN",
            trigger_account_id=1,
            patchset=3,
            min_equivalent_patchset=3,
            info=b"",
        )
        set_served_message(run_cl).save()
    return run


def definition(i: int) -> tryjob_pb.Definition:
    msg = tryjob_pb.Definition(critical=i % 5 != 4, optional=i % 5 == 4)
    msg.buildbucket.host = HOST
    msg.buildbucket.builder.project = "chromium"
    msg.buildbucket.builder.bucket = "try"
    msg.buildbucket.builder.builder = f"builder-{i:02d}"
    return msg


def build_state(run: Run) -> tryjob_pb.ExecutionState:
    """50 definitions, each with 4 transient failures and a 5th attempt still running."""
    now = timezone.now()
    view = RunView(run.id, run.mode, tuple(ViewCL(cl.cl_id, 3, 3) for cl in run.run_cls.all()))
    state = tryjob_pb.ExecutionState(status=tryjob_pb.ExecutionState.RUNNING, requirement_version=1)
    state.requirement.retry_config.CopyFrom(
        config_pb2.Verifiers.Tryjob.RetryConfig(
            single_quota=10, global_quota=1000, failure_weight=3, transient_failure_weight=1
        )
    )
    rows = []
    for i in range(DEFINITIONS):
        state.requirement.definitions.append(definition(i))
        execution = state.executions.add(used_quota=ATTEMPTS - 1)
        for j in range(ATTEMPTS):
            build_id = 8_700_000_000 + i * 10 + j
            ended = j < ATTEMPTS - 1
            result = Result(
                status=Result.FAILED_TRANSIENTLY if ended else Result.UNKNOWN,
                create_time=to_timestamp(now - timedelta(minutes=60 - j * 10)),
                update_time=to_timestamp(now - timedelta(minutes=55 - j * 10)),
            )
            result.buildbucket.id = build_id
            result.buildbucket.status = 36 if ended else 2
            result.buildbucket.builder.CopyFrom(definition(i).buildbucket.builder)
            result.buildbucket.summary_markdown = "infra failure: bot died" if ended else ""
            status = tryjob_pb.ENDED if ended else tryjob_pb.TRIGGERED
            external_id = f"buildbucket/{HOST}/{build_id}"
            rows.append(
                Tryjob(
                    **serializers.tryjob_columns(
                        definition=definition(i),
                        status=status,
                        external_id=external_id,
                        result=result,
                    ),
                    reuse_key=view.reuse_key,
                    launched_by=run,
                    create_time=now,
                    update_time=now,
                )
            )
            attempt = execution.attempts.add(external_id=external_id, status=status)
            attempt.result.CopyFrom(result)
    Tryjob.objects.bulk_create(rows)
    for attempt, row in zip((a for e in state.executions for a in e.attempts), rows, strict=True):
        attempt.tryjob_id = row.id
    return state


def run() -> None:
    with override_settings(TRYJOB_BACKEND="tryjobs.fake_backend.FakeBackend"):
        get_backend.cache_clear()
        try:
            _measure()
        finally:
            get_backend.cache_clear()


def _measure() -> None:
    run_row = make_run()
    state = build_state(run_row)
    updated = Tryjob.objects.get(id=state.executions[0].attempts[-1].tryjob_id)
    stored_columns = {
        name: getattr(updated, name)
        for name in ("status", "eversion", "update_time", *serializers.NO_RESULT_COLUMNS)
    }
    failed = Result()
    failed.CopyFrom(state.executions[0].attempts[-1].result)
    failed.status = Result.FAILED_TRANSIENTLY
    failed.update_time.CopyFrom(to_timestamp(timezone.now()))
    ended_columns = {
        "status": tryjob_pb.ENDED,
        **serializers.result_columns(failed),
    }
    known = set(Tryjob.objects.values_list("id", flat=True))

    def reset() -> None:
        Tryjob.objects.exclude(id__in=known).delete()
        Tryjob.objects.filter(id=updated.id).update(**stored_columns)
        ExecutionLogEntry.objects.filter(run=run_row).delete()
        serializers.save_execution_state(run_row.id, state)
        # What the tryjob update wrote (record_tryjob_update): the new result and the event.
        Tryjob.objects.filter(id=updated.id).update(**ended_columns)
        TryjobEvent.objects.create(run=run_row, tryjob_id=updated.id, created_at=timezone.now())

    def one_pass() -> passes.PassResult:
        return passes.process_tryjob_events(run_row.id, "bench")

    def decode_encode() -> None:
        loaded, _ = serializers.load_execution_state(run_row.id)
        serializers.save_execution_state(run_row.id, loaded)

    reset()
    result = one_pass()
    kinds = [e.WhichOneof("kind") for e in result.log_entries]
    assert kinds == ["tryjobs_ended", "tryjobs_launched"], kinds
    assert len(result.state.executions[0].attempts) == ATTEMPTS + 1
    assert result.state.executions[0].used_quota == ATTEMPTS

    pass_times, baselines = [], []
    for _ in range(REPEAT):
        reset()
        start = time.perf_counter()
        one_pass()
        pass_times.append(time.perf_counter() - start)
        reset()
        start = time.perf_counter()
        decode_encode()
        baselines.append(time.perf_counter() - start)
    executor_pass, baseline = min(pass_times), min(baselines)
    ratio = executor_pass / baseline
    verdict = "meets" if ratio <= GOAL else "misses"
    print(
        f"executor: {DEFINITIONS}x{ATTEMPTS}-attempt ExecutionState, one tryjob update: "
        f"pass {executor_pass * 1e3:.1f} ms, decode+encode {baseline * 1e3:.1f} ms; "
        f"ratio {ratio:.2f} ({verdict} goal <= {GOAL})"
    )
