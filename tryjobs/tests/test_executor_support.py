"""Builders shared by the executor tests (this module holds no tests).

Everything is spelled out field by field (not built with the executor's own helpers), so a
scenario's expected state and log say exactly what the spec says.
"""

from datetime import UTC, datetime, timedelta

from google.protobuf import text_format

from cvproto.buildbucket.v2 import builder_common_pb2
from cvproto.cq.recipe import cq_pb2
from cvproto.cv.config import config_pb2
from cvproto.cv.internal.tryjob import storage_pb2 as pb
from cvproto.times import to_timestamp
from tryjobs.views import AttemptRequest, RunCL, RunView, TryjobView

State = pb.ExecutionState
Execution = State.Execution
Attempt = Execution.Attempt
LogEntry = pb.ExecutionLogEntry
Snapshot = LogEntry.TryjobSnapshot
Result = pb.Result
RetryConfig = config_pb2.Verifiers.Tryjob.RetryConfig
Output = cq_pb2.Output

HOST = "cr-buildbucket.appspot.com"
NOW = datetime(2024, 3, 9, 12, 0, tzinfo=UTC)
HOUR_AGO = NOW - timedelta(hours=1)
T = to_timestamp(NOW)

RUN = RunView(
    id="chromium/8290000000000-1-aaaaaaaaaaaaaaaa",
    mode="DRY_RUN",
    cls=(RunCL(11111, 12, 11), RunCL(22222, 22, 22)),
)
OTHER_RUN = "chromium/8291000000000-1-bbbbbbbbbbbbbbbb"

PENDING, TRIGGERED, ENDED, CANCELLED, UNTRIGGERED = (
    pb.PENDING,
    pb.TRIGGERED,
    pb.ENDED,
    pb.CANCELLED,
    pb.UNTRIGGERED,
)
SUCCEEDED = Result.SUCCEEDED
FAILED_PERMANENTLY = Result.FAILED_PERMANENTLY
FAILED_TRANSIENTLY = Result.FAILED_TRANSIENTLY
TIMEOUT = Result.TIMEOUT
UNKNOWN = Result.UNKNOWN

# From the worked examples of §4.3.
RC_A = RetryConfig(
    single_quota=2, global_quota=3, failure_weight=3, transient_failure_weight=1, timeout_weight=2
)
RC_B = RetryConfig(single_quota=2, global_quota=10, failure_weight=5, transient_failure_weight=1)


def builder_id(name: str, project: str = "chromium", bucket: str = "try"):
    return builder_common_pb2.BuilderID(project=project, bucket=bucket, builder=name)


def defn(name: str, *, critical: bool = True, equivalent: str = "", **flags) -> pb.Definition:
    msg = pb.Definition(critical=critical, **flags)
    msg.buildbucket.host = HOST
    msg.buildbucket.builder.CopyFrom(builder_id(name))
    if equivalent:
        msg.equivalent_to.buildbucket.host = HOST
        msg.equivalent_to.buildbucket.builder.CopyFrom(builder_id(equivalent))
    return msg


ZERO = defn("builder-zero")
ONE = defn("builder-one")
OPT = defn("optional-a", critical=False, optional=True)
NO_REUSE = defn("presubmit", disable_reuse=True)


def eid_of(tryjob_id: int) -> str:
    return f"buildbucket/{HOST}/{tryjob_id}"


def res(
    status: int,
    *,
    created: datetime | None = HOUR_AGO,
    retry: int | None = None,
    modes: tuple[str, ...] | None = None,
    builder: str = "",
) -> Result:
    msg = Result(status=status)
    if created is not None:
        msg.create_time.CopyFrom(to_timestamp(created))
    if retry is not None:
        msg.output.retry = retry
    if modes is not None:
        msg.output.SetInParent()
        msg.output.reusability.mode_allowlist.extend(modes)
    if builder:
        msg.buildbucket.builder.CopyFrom(builder_id(builder))
    return msg


def _external_id(tryjob_id: int, status: int) -> str:
    return eid_of(tryjob_id) if status in (TRIGGERED, ENDED, CANCELLED) else ""


def att(tryjob_id: int, status: int, result: Result | None = None, reused: bool = False):
    msg = Attempt(
        tryjob_id=tryjob_id,
        external_id=_external_id(tryjob_id, status),
        status=status,
        reused=reused,
    )
    if result is not None:
        msg.result.CopyFrom(result)
    return msg


def ended(tryjob_id: int, result_status: int, reused: bool = False, **kw) -> Attempt:
    return att(tryjob_id, ENDED, res(result_status, **kw), reused)


def running(tryjob_id: int, reused: bool = False) -> Attempt:
    return att(tryjob_id, TRIGGERED, res(UNKNOWN), reused)


def ex(*attempts: Attempt, used: int = 0) -> Execution:
    return Execution(attempts=attempts, used_quota=used)


def state(
    definitions,
    executions,
    *,
    status: int = State.RUNNING,
    retry: RetryConfig | None = None,
    version: int = 1,
    unsuccessful: tuple[int, ...] = (),
    launch_failures: tuple[tuple[pb.Definition, str], ...] = (),
    end: bool | None = None,
) -> State:
    msg = State(status=status, requirement_version=version)
    msg.requirement.SetInParent()
    msg.requirement.definitions.extend(definitions)
    if retry is not None:
        msg.requirement.retry_config.CopyFrom(retry)
    msg.executions.extend(executions)
    if unsuccessful or launch_failures:
        for tryjob_id in unsuccessful:
            msg.failures.unsuccessful_results.add(tryjob_id=tryjob_id)
        for definition, reason in launch_failures:
            msg.failures.launch_failures.add(definition=definition, reason=reason)
    if end if end is not None else status != State.RUNNING:
        msg.end_time.CopyFrom(T)
    return msg


def requirement(*definitions, retry: RetryConfig | None = None) -> pb.Requirement:
    msg = pb.Requirement(definitions=definitions)
    if retry is not None:
        msg.retry_config.CopyFrom(retry)
    return msg


def tj(
    tryjob_id: int,
    status: int,
    definition: pb.Definition,
    result: Result | None = None,
    *,
    launched_by: str = RUN.id,
    reused_by: tuple[str, ...] = (),
    reason: str = "",
    external_id: str | None = None,
    created: datetime | None = None,
) -> TryjobView:
    return TryjobView(
        id=tryjob_id,
        status=status,
        external_id=_external_id(tryjob_id, status) if external_id is None else external_id,
        definition=definition,
        result=result,
        launched_by=launched_by,
        reused_by=reused_by,
        untriggered_reason=reason,
        entity_create_time=created,
    )


def snap(attempt: Attempt, definition: pb.Definition) -> Snapshot:
    msg = Snapshot(
        id=attempt.tryjob_id,
        external_id=attempt.external_id,
        definition=definition,
        status=attempt.status,
        reused=attempt.reused,
    )
    if attempt.HasField("result"):
        msg.result.CopyFrom(attempt.result)
    return msg


def entry(kind: str, detail=None) -> LogEntry:
    msg = LogEntry(time=T)
    getattr(msg, kind).SetInParent()
    if detail is not None:
        getattr(msg, kind).MergeFrom(detail)
    return msg


def requirement_changed() -> LogEntry:
    return entry("requirement_changed")


def tryjobs_ended(*snapshots: Snapshot) -> LogEntry:
    return entry("tryjobs_ended", LogEntry.TryjobsEnded(tryjobs=snapshots))


def retry_denied(reason: str, *snapshots: Snapshot) -> LogEntry:
    return entry("retry_denied", LogEntry.RetryDenied(tryjobs=snapshots, reason=reason))


def tryjobs_reused(*snapshots: Snapshot) -> LogEntry:
    return entry("tryjobs_reused", LogEntry.TryjobsReused(tryjobs=snapshots))


def tryjobs_launched(*snapshots: Snapshot) -> LogEntry:
    return entry("tryjobs_launched", LogEntry.TryjobsLaunched(tryjobs=snapshots))


def tryjobs_launch_failed(*failures: tuple[pb.Definition, str]) -> LogEntry:
    return entry(
        "tryjobs_launch_failed",
        LogEntry.TryjobsLaunchFailed(
            tryjobs=[LogEntry.TryjobLaunchFailed(definition=d, reason=r) for d, r in failures]
        ),
    )


def tryjob_discarded(snapshot: Snapshot) -> LogEntry:
    return entry(
        "tryjob_discarded",
        LogEntry.TryjobDiscarded(
            snapshot=snapshot, reason="Tryjob is no longer required in Project Config"
        ),
    )


def request(
    index: int,
    definition: pb.Definition,
    number: int = 1,
    known: tuple[int, ...] = (),
    known_eids: tuple[str, ...] | None = None,
) -> AttemptRequest:
    """A planned attempt; `known_eids` defaults to the external IDs of `known` tryjobs."""
    if known_eids is None:
        known_eids = tuple(eid_of(i) for i in known)
    return AttemptRequest(
        index=index,
        definition=definition,
        reuse_allowed=not definition.disable_reuse,
        reuse_key=RUN.reuse_key,
        cl_patchsets=RUN.cl_patchsets,
        known_tryjob_ids=frozenset(known),
        known_external_ids=frozenset(known_eids),
        attempt_number=number,
    )


def show(msg) -> str:
    return text_format.MessageToString(msg)
