"""Building and encoding a 20-execution ExecutionState from stored rows, against building it
directly from in-memory values.

ratio = direct time / from-rows time; the goal is >= 0.5, i.e. the serializer costs at most
twice what constructing the message by hand costs. Rows are loaded once, outside the timing:
this measures conversion, not the database.
"""

import timeit
from datetime import UTC, datetime

from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from runs.ids import RunID
from runs.models import Run, RunStatus
from tryjobs import serializers

EXECUTIONS = 20
ATTEMPTS = 3
GOAL = 0.5
BUILDBUCKET = "cr-buildbucket.appspot.com"


def in_memory_values() -> list[dict]:
    """The state as plain Python values, as a caller holding no rows would have it."""
    return [
        {
            "host": BUILDBUCKET,
            "builder": ("chromium", "try", f"builder-{i}"),
            "equivalent": ("chromium", "try", f"builder-{i}-eq") if i % 2 else None,
            "critical": i % 3 != 0,
            "experiments": ["luci.buildbucket.exp"],
            "used_quota": i % 3,
            "attempts": [
                {
                    "tryjob_id": i * 10 + j + 1,
                    "external_id": f"buildbucket/{BUILDBUCKET}/{8800000000 + i * 10 + j}",
                    "status": tryjob_pb.ENDED if j < ATTEMPTS - 1 else tryjob_pb.TRIGGERED,
                    "result_status": (
                        tryjob_pb.Result.FAILED_TRANSIENTLY
                        if j < ATTEMPTS - 1
                        else tryjob_pb.Result.UNKNOWN
                    ),
                    "create_time": 1_700_000_000 + i * 60 + j,
                    "build_id": 8800000000 + i * 10 + j,
                    "summary": "step 'compile' failed" if j < ATTEMPTS - 1 else "",
                }
                for j in range(ATTEMPTS)
            ],
        }
        for i in range(EXECUTIONS)
    ]


def build_directly(values: list[dict]) -> bytes:
    state = tryjob_pb.ExecutionState(status=tryjob_pb.ExecutionState.RUNNING, requirement_version=3)
    state.requirement.retry_config.single_quota = 2
    state.requirement.retry_config.global_quota = 8
    state.requirement.retry_config.failure_weight = 100
    state.requirement.retry_config.transient_failure_weight = 1
    state.requirement.retry_config.timeout_weight = 2
    for value in values:
        definition = state.requirement.definitions.add(
            critical=value["critical"], experiments=value["experiments"]
        )
        definition.buildbucket.host = value["host"]
        project, bucket, builder = value["builder"]
        definition.buildbucket.builder.project = project
        definition.buildbucket.builder.bucket = bucket
        definition.buildbucket.builder.builder = builder
        if value["equivalent"]:
            project, bucket, builder = value["equivalent"]
            definition.equivalent_to.buildbucket.host = value["host"]
            definition.equivalent_to.buildbucket.builder.project = project
            definition.equivalent_to.buildbucket.builder.bucket = bucket
            definition.equivalent_to.buildbucket.builder.builder = builder
        execution = state.executions.add(used_quota=value["used_quota"])
        for a in value["attempts"]:
            attempt = execution.attempts.add(
                tryjob_id=a["tryjob_id"], external_id=a["external_id"], status=a["status"]
            )
            attempt.result.status = a["result_status"]
            attempt.result.create_time.seconds = a["create_time"]
            attempt.result.buildbucket.id = a["build_id"]
            attempt.result.buildbucket.summary_markdown = a["summary"]
    return state.SerializeToString()


def best_of(fn, number: int, repeat: int = 7) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def run() -> None:
    values = in_memory_values()
    message = tryjob_pb.ExecutionState.FromString(build_directly(values))
    create_time = datetime(2026, 1, 1, tzinfo=UTC)
    run_row, _ = Run.objects.get_or_create(
        id=str(RunID.new("bench", create_time, "00000000000000be")),
        defaults={
            "project": "bench",
            "cqd_attempt_key": "00000000000000be",
            "status": RunStatus.RUNNING,
            "create_time": create_time,
        },
    )
    serializers.save_execution_state(run_row.id, message)
    rows = serializers.load_execution_state_rows(run_row.id)

    def from_rows() -> bytes:
        return serializers.execution_state_from_rows(rows).SerializeToString()

    assert from_rows() == build_directly(values), "the two paths must build the same bytes"
    direct = best_of(lambda: build_directly(values), number=200)
    converted = best_of(from_rows, number=200)
    ratio = direct / converted
    verdict = "meets" if ratio >= GOAL else "misses"
    print(
        f"serializers: {EXECUTIONS}-execution ExecutionState: direct {direct * 1e6:.0f} us, "
        f"from rows {converted * 1e6:.0f} us; ratio {ratio:.2f} ({verdict} goal >= {GOAL})"
    )
