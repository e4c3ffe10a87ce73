"""LUCI group memberships as cvsite knows them (projectconfig.models.GroupMembership).

``parse_groups(text, source) -> dict[group, list[email]]`` reads a memberships file, a JSON
object mapping each group to the emails in it, e.g.
``{"googlers": ["dev@google.com"], "project-chromium-tryjob-access": ["dev@chromium.org"]}``;
anything else raises GroupsRejected naming the file and the entry.
``import_groups(groups, source, imported_at=None) -> GroupsImport`` replaces the memberships an
earlier import of `source` stored (other sources keep theirs).
``groups_of(emails) -> {email: frozenset(groups)}``: what the requirement computation is given
for a run's owners (tryjobs.config_requirements).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from projectconfig.models import GroupMembership

MAX_LENGTH = 255


class GroupsRejected(Exception):
    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.message = f"{source}: {problem}"


def parse_groups(text: str, source: str) -> dict[str, list[str]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise GroupsRejected(source, f"not JSON: {e}") from None
    if not isinstance(data, dict):
        raise GroupsRejected(source, "must be a JSON object mapping each group to its emails")
    for group, emails in data.items():
        if not group or len(group) > MAX_LENGTH:
            raise GroupsRejected(source, f"group name {group!r} must hold 1 to 255 characters")
        if not isinstance(emails, list):
            raise GroupsRejected(source, f"{group}: must be a list of emails")
        for i, email in enumerate(emails):
            if not isinstance(email, str) or "@" not in email or len(email) > MAX_LENGTH:
                raise GroupsRejected(source, f"{group}[{i}]: {email!r} is not an email")
    return data


@dataclass(frozen=True)
class GroupsImport:
    groups: int
    memberships: int
    replaced: int

    def summary(self) -> str:
        return (
            f"{self.memberships} memberships in {self.groups} groups stored "
            f"({self.replaced} from the previous import of this file replaced)"
        )


def import_groups(
    groups: dict[str, list[str]], source: str, imported_at: datetime | None = None
) -> GroupsImport:
    imported_at = imported_at or timezone.now()
    rows = {(group, email) for group, emails in groups.items() for email in emails}
    with transaction.atomic():
        replaced, _ = GroupMembership.objects.filter(source=source).delete()
        GroupMembership.objects.bulk_create(
            GroupMembership(group=group, email=email, source=source, imported_at=imported_at)
            for group, email in sorted(rows)
        )
    return GroupsImport(len(groups), len(rows), replaced)


def groups_of(emails: Iterable[str]) -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    rows = GroupMembership.objects.filter(email__in=sorted(set(emails)))
    for email, group in rows.values_list("email", "group"):
        found.setdefault(email, set()).add(group)
    return {email: frozenset(groups) for email, groups in found.items()}
