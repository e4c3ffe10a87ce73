"""Gerrit REST JSON entities -> `gerrit` protobuf messages (cvproto.gerrit.gerrit_pb2).

REST uses snake_case keys with a few underscore-prefixed ones (`_number`, `_account_id`), a
branch name instead of a ref, and timestamps as "YYYY-MM-DD hh:mm:ss.fffffffff" in UTC. Fields
the proto has no place for (change_id, subject, message tags, ...) are dropped; everything the
proto can hold is copied as Gerrit sent it, nothing is invented.
"""

import calendar
import re
from collections.abc import Mapping
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from cvproto.gerrit import gerrit_pb2

_TIME_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$")

_CHANGE_STATUS = {
    "NEW": gerrit_pb2.NEW,
    "MERGED": gerrit_pb2.MERGED,
    "ABANDONED": gerrit_pb2.ABANDONED,
}
_REQUIREMENT_STATUS = {
    "OK": gerrit_pb2.Requirement.REQUIREMENT_STATUS_OK,
    "NOT_READY": gerrit_pb2.Requirement.REQUIREMENT_STATUS_NOT_READY,
    "RULE_ERROR": gerrit_pb2.Requirement.REQUIREMENT_STATUS_RULE_ERROR,
}


class ConversionError(ValueError):
    """Gerrit sent JSON that does not have the shape of the entity asked for."""


def parse_timestamp(value: str) -> Timestamp:
    """Gerrit's "2021-05-03 12:34:56.123456789" (UTC) -> Timestamp, nanoseconds kept."""
    m = _TIME_RE.match(value)
    if not m:
        raise ConversionError(f"malformed Gerrit timestamp {value!r}")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    try:
        datetime(year, month, day, hour, minute, second)
    except ValueError as e:
        raise ConversionError(f"malformed Gerrit timestamp {value!r}: {e}") from None
    fraction = m.group(7) or ""
    return Timestamp(
        seconds=calendar.timegm((year, month, day, hour, minute, second)),
        nanos=int(fraction.ljust(9, "0")) if fraction else 0,
    )


def format_timestamp(value: datetime | Timestamp) -> str:
    """An aware datetime or a Timestamp -> Gerrit's timestamp text (always 9 fraction digits)."""
    if isinstance(value, Timestamp):
        seconds, nanos = value.seconds, value.nanos
    else:
        if value.tzinfo is None:
            raise ValueError("naive datetime; Gerrit times are UTC-aware")
        seconds = calendar.timegm(value.astimezone(UTC).timetuple())
        nanos = value.microsecond * 1000
    base = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return f"{base}.{nanos:09d}"


def branch_to_ref(branch: str) -> str:
    return branch if branch.startswith("refs/") else f"refs/heads/{branch}"


def change_info(data: Mapping) -> gerrit_pb2.ChangeInfo:
    """A REST ChangeInfo (as decoded JSON) -> gerrit.ChangeInfo."""
    if not isinstance(data, Mapping):
        raise ConversionError("ChangeInfo is not a JSON object")
    try:
        return _change_info(data)
    except (TypeError, ValueError, AttributeError, KeyError) as e:
        if isinstance(e, ConversionError):
            raise
        raise ConversionError(f"unexpected ChangeInfo shape: {e}") from None


def _change_info(d: Mapping) -> gerrit_pb2.ChangeInfo:
    info = gerrit_pb2.ChangeInfo(
        number=int(d.get("_number", 0)),
        project=d.get("project", ""),
        status=_CHANGE_STATUS.get(d.get("status", ""), gerrit_pb2.CHANGE_STATUS_INVALID),
        current_revision=d.get("current_revision", ""),
        submittable=bool(d.get("submittable", False)),
        is_private=bool(d.get("is_private", False)),
        revert_of=int(d.get("revert_of", 0) or 0),
        cherry_pick_of_change=int(d.get("cherry_pick_of_change", 0) or 0),
    )
    if d.get("branch"):
        info.ref = branch_to_ref(d["branch"])
    if "owner" in d:
        info.owner.CopyFrom(account_info(d["owner"]))
    for sha, revision in (d.get("revisions") or {}).items():
        info.revisions[sha].CopyFrom(revision_info(revision))
    for name, label in (d.get("labels") or {}).items():
        info.labels[name].CopyFrom(label_info(label))
    info.messages.extend(change_message_info(m) for m in d.get("messages") or ())
    _set_time(info.created, d.get("created"))
    _set_time(info.updated, d.get("updated"))
    info.requirements.extend(
        gerrit_pb2.Requirement(
            status=_REQUIREMENT_STATUS.get(
                r.get("status", ""), gerrit_pb2.Requirement.REQUIREMENT_STATUS_UNSPECIFIED
            ),
            fallback_text=r.get("fallback_text", ""),
            type=r.get("type", ""),
        )
        for r in d.get("requirements") or ()
    )
    return info


def account_info(d: Mapping) -> gerrit_pb2.AccountInfo:
    return gerrit_pb2.AccountInfo(
        account_id=int(d.get("_account_id", 0)),
        name=d.get("name", ""),
        email=d.get("email", ""),
        secondary_emails=d.get("secondary_emails") or (),
        username=d.get("username", ""),
    )


def revision_info(d: Mapping) -> gerrit_pb2.RevisionInfo:
    kind_name = d.get("kind", "")
    kinds = gerrit_pb2.RevisionInfo.Kind
    revision = gerrit_pb2.RevisionInfo(
        kind=kinds.Value(kind_name) if kind_name in kinds.keys() else kinds.KIND_INVALID,
        number=int(d.get("_number", 0)),
        ref=d.get("ref", ""),
        description=d.get("description", ""),
    )
    if "uploader" in d:
        revision.uploader.CopyFrom(account_info(d["uploader"]))
    if "commit" in d:
        commit = d["commit"]
        revision.commit.id = commit.get("commit", "")
        revision.commit.message = commit.get("message", "")
        revision.commit.parents.extend(
            gerrit_pb2.CommitInfo.Parent(id=p.get("commit", ""))
            for p in commit.get("parents") or ()
        )
    for path, file in (d.get("files") or {}).items():
        revision.files[path].CopyFrom(file_info(file))
    _set_time(revision.created, d.get("created"))
    return revision


def file_info(d: Mapping) -> gerrit_pb2.FileInfo:
    statuses = gerrit_pb2.FileInfo.Status
    status = d.get("status", "M")
    return gerrit_pb2.FileInfo(
        status=statuses.Value(status) if status in statuses.keys() else statuses.M,
        binary=bool(d.get("binary", False)),
        old_path=d.get("old_path", ""),
        lines_inserted=int(d.get("lines_inserted", 0)),
        lines_deleted=int(d.get("lines_deleted", 0)),
        size_delta=int(d.get("size_delta", 0)),
        size=int(d.get("size", 0)),
    )


def label_info(d: Mapping) -> gerrit_pb2.LabelInfo:
    label = gerrit_pb2.LabelInfo(
        optional=bool(d.get("optional", False)),
        blocking=bool(d.get("blocking", False)),
        value=int(d.get("value", 0)),
        default_value=int(d.get("default_value", 0)),
    )
    for field in ("approved", "rejected", "recommended", "disliked"):
        if field in d:
            getattr(label, field).CopyFrom(account_info(d[field]))
    label.all.extend(approval_info(a) for a in d.get("all") or ())
    for value, description in (d.get("values") or {}).items():
        # Gerrit writes vote values as " 0", "+1", "-2".
        label.values[int(value.strip())] = description
    return label


def approval_info(d: Mapping) -> gerrit_pb2.ApprovalInfo:
    # REST's ApprovalInfo is an AccountInfo with vote fields added; the proto nests the user.
    approval = gerrit_pb2.ApprovalInfo(
        user=account_info(d),
        value=int(d.get("value", 0)),
        tag=d.get("tag", ""),
        post_submit=bool(d.get("post_submit", False)),
    )
    if "permitted_voting_range" in d:
        r = d["permitted_voting_range"]
        approval.permitted_voting_range.min = int(r.get("min", 0))
        approval.permitted_voting_range.max = int(r.get("max", 0))
    _set_time(approval.date, d.get("date"))
    return approval


def change_message_info(d: Mapping) -> gerrit_pb2.ChangeMessageInfo:
    message = gerrit_pb2.ChangeMessageInfo(id=d.get("id", ""), message=d.get("message", ""))
    if "author" in d:
        message.author.CopyFrom(account_info(d["author"]))
    if "real_author" in d:
        message.real_author.CopyFrom(account_info(d["real_author"]))
    _set_time(message.date, d.get("date"))
    return message


def _set_time(field: Timestamp, value: str | None) -> None:
    if value:
        field.CopyFrom(parse_timestamp(value))
