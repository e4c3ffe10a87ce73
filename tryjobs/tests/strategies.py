"""Hypothesis strategies for valid cv.internal.tryjob messages (what cvsite accepts)."""

from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import strategies as st

from cvproto.buildbucket.v2 import build_pb2, builder_common_pb2
from cvproto.cq.recipe import cq_pb2
from cvproto.cv.config import config_pb2
from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=20)
# Text the databases store: PostgreSQL refuses NUL characters.
free_text = st.text(
    st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=40
)
int32s = st.integers(min_value=-(2**31), max_value=2**31 - 1)
positive_ids = st.integers(min_value=1, max_value=2**63 - 1)

# Whole microseconds between years 1 and 9999: what the databases keep.
timestamps = st.builds(
    Timestamp,
    seconds=st.integers(min_value=-62135596800, max_value=253402300799),
    nanos=st.integers(min_value=0, max_value=999_999).map(lambda us: us * 1000),
)


@st.composite
def builder_ids(draw):
    return builder_common_pb2.BuilderID(
        project=draw(names), bucket=draw(names), builder=draw(names)
    )


@st.composite
def definitions(draw):
    msg = tryjob_pb.Definition(
        buildbucket=tryjob_pb.Definition.Buildbucket(host=draw(names), builder=draw(builder_ids())),
        disable_reuse=draw(st.booleans()),
        skip_stale_check=draw(st.booleans()),
        critical=draw(st.booleans()),
        optional=draw(st.booleans()),
        result_visibility=draw(st.sampled_from(config_pb2.CommentLevel.values())),
        experiments=draw(st.lists(names, max_size=3)),
        disable_reuse_footers=draw(st.lists(names, max_size=2)),
    )
    if draw(st.booleans()):
        msg.reuse_window.max_commit_distance = draw(st.integers(0, 2**32 - 1))
    if draw(st.booleans()):
        msg.equivalent_to.buildbucket.host = draw(names)
        msg.equivalent_to.buildbucket.builder.CopyFrom(draw(builder_ids()))
    return msg


@st.composite
def outputs(draw):
    msg = cq_pb2.Output(
        triggered_build_ids=draw(st.lists(positive_ids, max_size=3)),
        retry=draw(st.sampled_from(cq_pb2.Output.Retry.values())),
    )
    for _ in range(draw(st.integers(0, 2))):
        msg.reuse.add(mode_regexp=draw(names), deny=draw(st.booleans()))
    if draw(st.booleans()):
        msg.reusability.mode_allowlist.extend(draw(st.lists(names, max_size=2)))
    return msg


@st.composite
def infras(draw):
    msg = build_pb2.BuildInfra()
    msg.resultdb.hostname = draw(names)
    msg.resultdb.invocation = "invocations/" + draw(names)
    msg.resultdb.enable = draw(st.booleans())
    return msg


@st.composite
def results(draw, status=None):
    statuses = [s for s in tryjob_pb.Result.Status.values() if s]
    msg = tryjob_pb.Result(status=draw(st.sampled_from(statuses)) if status is None else status)
    if draw(st.booleans()):
        msg.create_time.CopyFrom(draw(timestamps))
    if draw(st.booleans()):
        msg.update_time.CopyFrom(draw(timestamps))
    if draw(st.booleans()):
        msg.output.CopyFrom(draw(outputs()))
    if draw(st.booleans()):
        bb = msg.buildbucket
        bb.SetInParent()
        bb.id = draw(st.integers(min_value=0, max_value=2**63 - 1))
        bb.status = draw(st.sampled_from([0, 1, 2, 12, 20, 36, 68]))
        bb.summary_markdown = draw(free_text)
        if draw(st.booleans()):
            bb.builder.CopyFrom(draw(builder_ids()))
        if draw(st.booleans()):
            bb.infra.CopyFrom(draw(infras()))
    return msg


def external_ids():
    return st.builds(lambda host, build: f"buildbucket/{host}/{build}", names, positive_ids)


@st.composite
def status_external_id_result(draw):
    """A (status, external ID, result) triple that satisfies the seed's invariants."""
    status = draw(st.sampled_from([s for s in tryjob_pb.Status.values() if s]))
    external_id = ""
    result = None
    if status in (tryjob_pb.TRIGGERED, tryjob_pb.ENDED, tryjob_pb.CANCELLED):
        external_id = draw(external_ids())
    if status == tryjob_pb.TRIGGERED and draw(st.booleans()):
        result = draw(results())
    if status == tryjob_pb.ENDED:
        final = [s for s in tryjob_pb.Result.Status.values() if s > tryjob_pb.Result.UNKNOWN]
        result = draw(results(status=draw(st.sampled_from(final))))
    return status, external_id, result


@st.composite
def attempts(draw):
    status, external_id, result = draw(status_external_id_result())
    msg = tryjob_pb.ExecutionState.Execution.Attempt(
        tryjob_id=draw(positive_ids),
        external_id=external_id,
        status=status,
        reused=draw(st.booleans()),
    )
    if result is not None:
        msg.result.CopyFrom(result)
    return msg


@st.composite
def execution_states(draw, max_executions=4):
    State = tryjob_pb.ExecutionState
    status = draw(st.sampled_from([State.RUNNING, State.FAILED, State.SUCCEEDED]))
    msg = State(status=status, requirement_version=draw(int32s))
    if draw(st.booleans()):
        requirement = msg.requirement
        requirement.SetInParent()
        if draw(st.booleans()):
            requirement.retry_config.SetInParent()
            for name in (
                "single_quota",
                "global_quota",
                "failure_weight",
                "transient_failure_weight",
                "timeout_weight",
            ):
                setattr(requirement.retry_config, name, draw(int32s))
        for _ in range(draw(st.integers(0, max_executions))):
            requirement.definitions.append(draw(definitions()))
            msg.executions.add(
                used_quota=draw(int32s), attempts=draw(st.lists(attempts(), max_size=3))
            )
    if status == State.FAILED or draw(st.booleans()):
        failures = msg.failures
        failures.SetInParent()
        for _ in range(draw(st.integers(0, 2))):
            failures.launch_failures.add(definition=draw(definitions()), reason=draw(free_text))
        for tryjob_id in draw(st.lists(positive_ids, max_size=2)):
            failures.unsuccessful_results.add(tryjob_id=tryjob_id)
    if status != State.RUNNING:
        msg.end_time.CopyFrom(draw(timestamps))
    return msg


@st.composite
def tryjob_snapshots(draw):
    status, external_id, result = draw(status_external_id_result())
    msg = tryjob_pb.ExecutionLogEntry.TryjobSnapshot(
        id=draw(positive_ids),
        external_id=external_id,
        definition=draw(definitions()),
        status=status,
        reused=draw(st.booleans()),
    )
    if result is not None:
        msg.result.CopyFrom(result)
    return msg


@st.composite
def log_entries(draw):
    Entry = tryjob_pb.ExecutionLogEntry
    msg = Entry(time=draw(timestamps))
    kind = draw(st.sampled_from([f.name for f in Entry.DESCRIPTOR.oneofs_by_name["kind"].fields]))
    snapshots = st.lists(tryjob_snapshots(), max_size=2)
    if kind == "requirement_changed":
        msg.requirement_changed.SetInParent()
    elif kind in ("tryjobs_launched", "tryjobs_reused", "tryjobs_ended"):
        getattr(msg, kind).SetInParent()
        getattr(msg, kind).tryjobs.extend(draw(snapshots))
    elif kind == "tryjobs_launch_failed":
        msg.tryjobs_launch_failed.SetInParent()
        for _ in range(draw(st.integers(0, 2))):
            msg.tryjobs_launch_failed.tryjobs.add(
                definition=draw(definitions()), reason=draw(free_text)
            )
    elif kind == "tryjob_discarded":
        msg.tryjob_discarded.snapshot.CopyFrom(draw(tryjob_snapshots()))
        msg.tryjob_discarded.reason = draw(free_text)
    else:
        msg.retry_denied.SetInParent()
        msg.retry_denied.tryjobs.extend(draw(snapshots))
        msg.retry_denied.reason = draw(free_text)
    return msg
