"""Running builds fetched when their news is overdue (Pub/Sub only fires on create, start and
end, and deliveries get lost). The work of `manage.py poll_builds` and of its periodic task.

Each build is fetched outside any transaction; the updates are stored together afterwards
through `tryjobs.updates.record_tryjob_updates`, so an update a push stored meanwhile is
never overwritten by an older one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tryjobs.backend import BackendError
from tryjobs.buildbucket import messages
from tryjobs.changes import calling_projects
from tryjobs.models import Tryjob, TryjobStatus
from tryjobs.updates import TryjobUpdate, record_tryjob_updates

__all__ = ["PollReport", "poll_builds"]

logger = logging.getLogger(__name__)

# fetch(external_id, project=the LUCI project to call as), e.g. BuildbucketBackend.fetch.
Fetch = Callable[..., messages.ParsedBuild]


@dataclass
class PollReport:
    """What one poll did: tryjobs fetched and changed, and failures by external ID."""

    fetched: int = 0
    changed: list[int] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def poll_builds(
    fetch: Fetch, *, now: datetime, older_than: timedelta, limit: int = 500
) -> PollReport:
    """Fetches up to `limit` TRIGGERED Buildbucket tryjobs cvsite has not changed for
    `older_than`, least recently changed first, and stores what changed."""
    overdue = list(
        Tryjob.objects.filter(
            status=TryjobStatus.TRIGGERED,
            external_id__startswith="buildbucket/",
            update_time__lt=now - older_than,
        )
        .order_by("update_time", "id")
        .values_list("id", "external_id")[:limit]
    )
    projects = calling_projects(tryjob_id for tryjob_id, _ in overdue)
    report = PollReport()
    updates = []
    for tryjob_id, external_id in overdue:
        try:
            parsed = fetch(external_id, project=projects.get(tryjob_id, ""))
        except (BackendError, messages.BuildParseError) as e:
            report.failed[external_id] = str(e)
            continue
        report.fetched += 1
        updates.append(TryjobUpdate(external_id, parsed.status, parsed.result))
    if updates:
        report.changed = record_tryjob_updates(updates)
    for external_id, reason in report.failed.items():
        logger.warning("polling %s failed: %s", external_id, reason)
    return report
