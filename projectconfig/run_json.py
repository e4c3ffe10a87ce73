"""The run file of ``manage.py compute_requirement``: everything §8 reads, as JSON.

``{"luci_project", "mode", "cls": [{"id", "host", "project", "ref", "owner", "trigger_time",
"commit_message", "files", "parents", ...}], "groups", "can_add_builds", "linked_accounts"}``.
``groups``, ``can_add_builds``, ``linked_accounts``, a CL's ``trigger_time`` and ``parents``
may be absent (no groups, no permissions, no trigger, one parent). Every refusal names the
field, e.g. ``cls[0].trigger_time``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from projectconfig.requirement import ChangeList, Identities, RunInput


class RunFileError(ValueError):
    """The run file is unreadable or a field is missing or of the wrong type."""


@dataclass(frozen=True)
class RunFile:
    luci_project: str
    run: RunInput


INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1  # CL IDs are hashed as 8 bytes
JSON_KINDS = {int: "an integer", str: "a string", list: "a list", dict: "an object"}


def _field(data: dict, key: str, kind: type, where: str, default=...):
    if key not in data:
        if default is ...:
            raise RunFileError(f"{where}{key}: required")
        return default
    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise RunFileError(f"{where}{key}: must be {JSON_KINDS[kind]}, not {json.dumps(value)}")
    return value


def _strings(values, where: str) -> tuple[str, ...]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise RunFileError(f"{where}: must be a list of strings")
    return tuple(values)


def _per_email(data: dict, key: str) -> dict[str, tuple[str, ...]]:
    mapping = _field(data, key, dict, "", {})
    return {email: _strings(values, f"{key}[{email!r}]") for email, values in mapping.items()}


def _time(value: str, where: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise RunFileError(
            f"{where}: {value!r} is not an RFC 3339 time (e.g. 2026-12-01T10:00:00Z)"
        ) from None
    if parsed.tzinfo is None:
        raise RunFileError(f"{where}: {value!r} has no time zone (add Z for UTC)")
    return parsed


def _change_list(data, index: int) -> ChangeList:
    where = f"cls[{index}]."
    if not isinstance(data, dict):
        raise RunFileError(f"cls[{index}]: must be an object")
    trigger = _field(data, "trigger_time", str, where, None)
    cl_id = _field(data, "id", int, where)
    if not INT64_MIN <= cl_id <= INT64_MAX:
        raise RunFileError(f"{where}id: {cl_id} does not fit an int64")
    return ChangeList(
        id=cl_id,
        host=_field(data, "host", str, where),
        project=_field(data, "project", str, where),
        ref=_field(data, "ref", str, where),
        owner=_field(data, "owner", str, where),
        trigger_time=_time(trigger, f"{where}trigger_time") if trigger is not None else None,
        files=_strings(_field(data, "files", list, where, []), f"{where}files"),
        parent_count=len(_strings(_field(data, "parents", list, where, [""]), f"{where}parents")),
        commit_message=_field(data, "commit_message", str, where, ""),
    )


def parse_run_file(text: str) -> RunFile:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise RunFileError(f"not JSON: {e}") from None
    if not isinstance(data, dict):
        raise RunFileError("must be a JSON object")
    cls = _field(data, "cls", list, "")
    if not cls:
        raise RunFileError("cls: a run has at least one CL")
    groups = _per_email(data, "groups")
    can_add_builds = _per_email(data, "can_add_builds")
    return RunFile(
        luci_project=_field(data, "luci_project", str, ""),
        run=RunInput(
            mode=_field(data, "mode", str, ""),
            cls=tuple(_change_list(cl, i) for i, cl in enumerate(cls)),
            identities=Identities(
                groups={email: frozenset(v) for email, v in groups.items()},
                can_add_builds={email: frozenset(v) for email, v in can_add_builds.items()},
                linked_accounts=_per_email(data, "linked_accounts"),
            ),
        ),
    )
