"""Hypothesis strategies for valid run-side messages (what runs/serializers.py accepts).

Strings that end up in a column stay within the column's length and hold no NUL (PostgreSQL
refuses NUL in text); strings that only travel inside a verbatim message (bigquery.Attempt,
gerrit.ChangeInfo) are free text.
"""

from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import strategies as st

from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.gerrit import gerrit_pb2
from cvproto.migration import migration_pb2 as migration_pb

Action = migration_pb.ReportVerifiedRunRequest.Action

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=20)
hosts = st.builds(lambda a, b: f"{a}-review.{b}.com", names, names)
emails = st.builds(lambda user, domain: f"{user}@{domain}.com", names, names)
free_text = st.text(max_size=40)
# Text for columns: any character UTF-8 can encode but NUL.
_column_chars = st.characters(exclude_characters="\x00", codec="utf-8")
column_text = st.text(_column_chars, max_size=40)
int32s = st.integers(min_value=-(2**31), max_value=2**31 - 1)
int64s = st.integers(min_value=-(2**63), max_value=2**63 - 1)
positive_ids = st.integers(min_value=1, max_value=2**63 - 1)
shas = st.text(alphabet="0123456789abcdef", min_size=40, max_size=40)
# Gerrit votes, including the negative ones (10 bytes each on the wire).
votes = st.integers(min_value=-2, max_value=2)
# RevisionInfo.number is an int32, so a patchset that has a current revision is one too.
patchsets = st.integers(min_value=1, max_value=2**31 - 1)

_seconds = st.integers(min_value=-62135596800, max_value=253402300799)  # years 1..9999
# Whole microseconds: what the databases keep, so these survive columns unchanged.
timestamps = st.builds(
    Timestamp, seconds=_seconds, nanos=st.integers(0, 999_999).map(lambda us: us * 1000)
)
# Any valid Timestamp: columns truncate it to microseconds, verbatim messages keep it whole.
any_timestamps = st.builds(Timestamp, seconds=_seconds, nanos=st.integers(0, 999_999_999))


def enum_values(enum_type, *, unknown: bool = False):
    """Values of a (proto3, open) enum; with `unknown`, also numbers it does not name."""
    known = st.sampled_from(enum_type.values())
    if not unknown:
        return known
    # Columns holding enums are smallints.
    return st.one_of(known, st.integers(min_value=-(2**15), max_value=2**15 - 1))


# bigquery.Attempt ------------------------------------------------------------------------------


@st.composite
def gerrit_changes(draw):
    msg = bq_pb.GerritChange(
        host=draw(free_text),
        project=draw(free_text),
        change=draw(int64s),
        patchset=draw(int64s),
        earliest_equivalent_patchset=draw(int64s),
        mode=draw(enum_values(bq_pb.Mode, unknown=True)),
        submit_status=draw(enum_values(bq_pb.GerritChange.SubmitStatus, unknown=True)),
    )
    if draw(st.booleans()):
        msg.trigger_time.CopyFrom(draw(any_timestamps))
    return msg


@st.composite
def builds(draw):
    return bq_pb.Build(
        id=draw(int64s),
        host=draw(free_text),
        origin=draw(enum_values(bq_pb.Build.Origin, unknown=True)),
        critical=draw(st.booleans()),
    )


@st.composite
def attempts(draw):
    """A bigquery.Attempt with every field drawn; only the key must be set."""
    msg = bq_pb.Attempt(
        key=draw(st.text(_column_chars, min_size=1, max_size=64)),
        luci_project=draw(st.one_of(st.just(""), names)),
        cl_group_key=draw(free_text),
        equivalent_cl_group_key=draw(free_text),
        gerrit_changes=draw(st.lists(gerrit_changes(), max_size=3)),
        builds=draw(st.lists(builds(), max_size=3)),
        status=draw(enum_values(bq_pb.AttemptStatus, unknown=True)),
        substatus=draw(enum_values(bq_pb.AttemptSubstatus, unknown=True)),
        config_group=draw(column_text),
        has_custom_requirement=draw(st.booleans()),
    )
    if draw(st.booleans()):
        msg.start_time.CopyFrom(draw(any_timestamps))
    if draw(st.booleans()):
        msg.end_time.CopyFrom(draw(any_timestamps))
    return msg


run_ids = st.builds(
    lambda project, n, key: f"{project}/{n:013d}-1-{key}",
    names,
    st.integers(0, 10**13 - 1),
    st.text(alphabet="0123456789abcdef", min_size=16, max_size=16),
)


@st.composite
def reported_runs(draw):
    return migration_pb.ReportedRun(
        id=draw(st.one_of(st.just(""), run_ids)), attempt=draw(attempts())
    )


@st.composite
def report_verified_run_requests(draw, run_id: str):
    """A request about run `run_id`; its run.id is either that ID or empty."""
    action = draw(
        st.sampled_from([Action.ACTION_SUBMIT, Action.ACTION_DRY_RUN_OK, Action.ACTION_FAIL])
    )
    message = draw(column_text)
    if action == Action.ACTION_FAIL and not message:
        message = "failed: " + draw(column_text)
    return migration_pb.ReportVerifiedRunRequest(
        run=migration_pb.ReportedRun(
            id=draw(st.sampled_from(["", run_id])), attempt=draw(attempts())
        ),
        action=action,
        final_message=message,
    )


# gerrit.ChangeInfo -----------------------------------------------------------------------------


@st.composite
def accounts(draw):
    return gerrit_pb2.AccountInfo(
        name=draw(free_text),
        email=draw(st.one_of(st.just(""), emails)),
        secondary_emails=draw(st.lists(emails, max_size=2)),
        username=draw(free_text),
        account_id=draw(int64s),
    )


@st.composite
def revisions(draw, number: int):
    msg = gerrit_pb2.RevisionInfo(
        kind=draw(enum_values(gerrit_pb2.RevisionInfo.Kind)),
        number=number,
        ref=draw(free_text),
        description=draw(free_text),
    )
    if draw(st.booleans()):
        msg.uploader.CopyFrom(draw(accounts()))
    if draw(st.booleans()):
        msg.commit.id = draw(shas)
        msg.commit.message = draw(free_text)
        for parent in draw(st.lists(shas, max_size=2)):
            msg.commit.parents.add(id=parent)
    for path in draw(st.lists(free_text, max_size=2, unique=True)):
        msg.files[path].CopyFrom(
            gerrit_pb2.FileInfo(
                status=draw(enum_values(gerrit_pb2.FileInfo.Status)),
                binary=draw(st.booleans()),
                old_path=draw(free_text),
                lines_inserted=draw(int32s),
                lines_deleted=draw(int32s),
                size_delta=draw(int64s),
                size=draw(int64s),
            )
        )
    if draw(st.booleans()):
        msg.created.CopyFrom(draw(timestamps))
    return msg


@st.composite
def approvals(draw):
    msg = gerrit_pb2.ApprovalInfo(
        user=draw(accounts()),
        value=draw(votes),
        tag=draw(free_text),
        post_submit=draw(st.booleans()),
    )
    if draw(st.booleans()):
        msg.permitted_voting_range.min = draw(st.integers(-2, 0))
        msg.permitted_voting_range.max = draw(st.integers(0, 2))
    if draw(st.booleans()):
        msg.date.CopyFrom(draw(timestamps))
    return msg


@st.composite
def labels(draw):
    msg = gerrit_pb2.LabelInfo(
        optional=draw(st.booleans()),
        blocking=draw(st.booleans()),
        value=draw(votes),
        default_value=draw(votes),
        all=draw(st.lists(approvals(), max_size=3)),
    )
    for name in ("approved", "rejected", "recommended", "disliked"):
        if draw(st.booleans()):
            getattr(msg, name).CopyFrom(draw(accounts()))
    for vote, text in draw(
        st.dictionaries(st.one_of(votes, int32s), free_text, max_size=5)
    ).items():
        msg.values[vote] = text
    return msg


@st.composite
def change_messages(draw):
    msg = gerrit_pb2.ChangeMessageInfo(id=draw(free_text), message=draw(free_text))
    if draw(st.booleans()):
        msg.author.CopyFrom(draw(accounts()))
    if draw(st.booleans()):
        msg.real_author.CopyFrom(draw(accounts()))
    if draw(st.booleans()):
        msg.date.CopyFrom(draw(timestamps))
    return msg


@st.composite
def change_infos(draw, patchset: int, project: str | None = None):
    """A rich ChangeInfo whose current revision is patchset `patchset`.

    `project` fixes ChangeInfo.project; None draws one. Timestamps are whole microseconds.
    """
    msg = gerrit_pb2.ChangeInfo(
        number=draw(int64s),
        owner=draw(accounts()),
        project=draw(names) if project is None else project,
        ref="refs/heads/" + draw(names),
        status=draw(enum_values(gerrit_pb2.ChangeStatus)),
        current_revision=draw(shas),
        messages=draw(st.lists(change_messages(), max_size=3)),
        submittable=draw(st.booleans()),
        is_private=draw(st.booleans()),
        requirements=[
            gerrit_pb2.Requirement(status=status, fallback_text=text, type=kind)
            for status, text, kind in draw(
                st.lists(
                    st.tuples(enum_values(gerrit_pb2.Requirement.Status), free_text, free_text),
                    max_size=2,
                )
            )
        ],
        revert_of=draw(int64s),
        cherry_pick_of_change=draw(int64s),
    )
    msg.revisions[msg.current_revision].CopyFrom(draw(revisions(patchset)))
    older = draw(
        st.lists(st.integers(1, 2**31 - 1).filter(lambda n: n != patchset), max_size=2, unique=True)
    )
    for number in older:
        sha = draw(shas.filter(lambda s: s not in msg.revisions))
        msg.revisions[sha].CopyFrom(draw(revisions(number)))
    for name in draw(st.lists(names, max_size=3, unique=True)):
        msg.labels[name].CopyFrom(draw(labels()))
    if draw(st.booleans()):
        msg.created.CopyFrom(draw(timestamps))
    if draw(st.booleans()):
        msg.updated.CopyFrom(draw(timestamps))
    return msg


# migration.RunCL -------------------------------------------------------------------------------


@st.composite
def run_cls(draw, clid: int, host: str, change: int, run_clids):
    """A migration.RunCL for CL `clid` (= host/change) in a run whose CLs are `run_clids`."""
    patchset = draw(patchsets)
    trigger_time = draw(timestamps)
    project = draw(names)
    msg = migration_pb.RunCL(
        id=clid,
        gc=bq_pb.GerritChange(
            host=host,
            project=project,
            change=change,
            patchset=patchset,
            earliest_equivalent_patchset=draw(st.integers(1, patchset)),
            mode=draw(st.sampled_from([bq_pb.DRY_RUN, bq_pb.FULL_RUN, bq_pb.QUICK_DRY_RUN])),
        ),
        info=draw(change_infos(patchset, project=draw(st.sampled_from(["", project])))),
        files=draw(st.lists(column_text, max_size=4)),
        trigger=migration_pb.RunCL.Trigger(
            time=trigger_time,
            account_id=draw(int64s),
            email=draw(st.one_of(st.just(""), emails)),
        ),
    )
    others = sorted(set(run_clids) - {clid})
    if others:
        for dep in draw(st.lists(st.sampled_from(others), unique=True, max_size=len(others))):
            msg.deps.add(id=dep, hard=draw(st.booleans()))
    return msg


@st.composite
def runs_of_cls(draw, max_cls: int = 4):
    """[(CL identity, RunCL)] for one run: distinct CLIDs and distinct host/change pairs."""
    clids = draw(st.lists(positive_ids, min_size=1, max_size=max_cls, unique=True))
    changes = draw(
        st.lists(
            st.tuples(hosts, st.integers(1, 2**63 - 1)),
            min_size=len(clids),
            max_size=len(clids),
            unique=True,
        )
    )
    return [
        ((clid, host, change), draw(run_cls(clid, host, change, clids)))
        for clid, (host, change) in zip(clids, changes, strict=True)
    ]
