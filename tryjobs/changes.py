"""The one way a stored tryjob changes, and how the runs that watch it hear of it.

`save_changed_tryjobs(rows, now)` bumps each row's `eversion`, stamps its update time and saves
it, then writes a `TryjobEvent` for every run that watches one of them (launched or reused it)
and has not ended; that run's next executor pass reads the event. It returns those runs: waking
them (a `tryjobs.tasks.process_tryjob_events` task each) is for the caller, since the executor
pass that writes here is itself the work of that task. New rows are created, not changed
(eversion 1), and do not come here. Every change is counted in the dashboards' rollups
(tryjobs.rollups).
"""

import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime

from django.db import connection

from runs import serializers as run_serializers
from runs.models import ChangeSnapshot, RunStatus
from tryjobs import rollups, serializers
from tryjobs.models import Tryjob, TryjobEvent
from tryjobs.views import TryjobView

__all__ = [
    "REUSED_BY",
    "calling_projects",
    "footer_values",
    "save_changed_tryjobs",
    "views_with_watchers",
    "watched_by_running_run",
    "write_events",
]

REUSED_BY = Tryjob.reused_by.through
_ENDED_RUN = RunStatus.ended()
# What a save without `fields` writes: every column but the primary key.
_ALL_COLUMNS = [f.name for f in Tryjob._meta.concrete_fields if not f.primary_key]
_FOOTER_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*)\s*:\s*(.*)$")


def footer_values(change: ChangeSnapshot, key: str) -> list[str]:
    """Values of footer `key` (lower case) in the change's current commit message."""
    info = run_serializers.change_info_from_row(change)
    revision = info.revisions.get(info.current_revision)
    if revision is None:
        return []
    paragraphs = [p for p in re.split(r"\n\s*\n", revision.commit.message.strip()) if p.strip()]
    if not paragraphs:
        return []
    values = []
    for line in paragraphs[-1].splitlines():
        match = _FOOTER_RE.match(line.strip())
        if match and match.group(1).lower() == key:
            values.append(match.group(2).strip())
    return values


def save_changed_tryjobs(
    rows: Sequence[Tryjob],
    now: datetime,
    *,
    notify: bool = True,
    except_run: str | None = None,
    fields: Sequence[str] | None = None,
    stored_statuses: Collection[int] | None = None,
) -> list[str]:
    """Saves rows the caller changed (and holds locked); returns the runs given an event.

    `notify=False` when the change is no news to the watching runs (a run joining
    `reused_by`); `except_run` is the run whose pass made the change and applies it itself;
    `fields`, when given, are the only columns changed (fewer to write); `stored_statuses`,
    when given, are the rows' statuses as the caller read them under its lock (the rollups
    then read the rows only if one is ENDED).
    """
    if not rows:
        return []
    pending = rollups.tryjobs_changing(rows, stored_statuses)
    for row in rows:
        row.eversion += 1
        row.update_time = now
    _write_columns(rows, _ALL_COLUMNS if fields is None else [*fields, "eversion", "update_time"])
    rollups.tryjobs_changed(pending)
    if not notify:
        return []
    return write_events(rows, now, except_run)


def _write_columns(rows: Sequence[Tryjob], names: Sequence[str]) -> None:
    """Writes the named columns of every row in one statement run once per row (executemany):
    the rows' values differ, and a statement per row costs more in Django than in the
    database; a CASE per column (bulk_update) costs more still."""
    meta = Tryjob._meta
    columns = [meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(column.column)} = %s" for column in columns)
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {assignments} "  # noqa: S608
        f"WHERE {quote(meta.pk.column)} = %s"
    )
    params = [
        [column.get_db_prep_save(getattr(row, column.attname), connection) for column in columns]
        + [row.pk]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def write_events(rows: Sequence[Tryjob], now: datetime, except_run: str | None = None) -> list[str]:
    """An event per (watching run that has not ended, tryjob) of the rows (locked by the
    caller); returns those runs, sorted."""
    ids = sorted({row.id for row in rows})
    # The rows name their launchers: only those of other runs need their status read.
    launched_elsewhere = sorted(
        {row.id for row in rows if row.launched_by_id not in (None, except_run)}
    )
    pairs = set()
    if launched_elsewhere:
        pairs.update(
            Tryjob.objects.filter(id__in=launched_elsewhere)
            .exclude(launched_by__status__in=_ENDED_RUN)
            .values_list("launched_by_id", "id")
        )
    pairs.update(
        REUSED_BY.objects.filter(tryjob_id__in=ids)
        .exclude(run__status__in=_ENDED_RUN)
        .values_list("run_id", "tryjob_id")
    )
    pairs = sorted(p for p in pairs if p[0] != except_run)
    TryjobEvent.objects.bulk_create(
        [TryjobEvent(run_id=run_id, tryjob_id=tj, created_at=now) for run_id, tj in pairs]
    )
    return sorted({run_id for run_id, _ in pairs})


def views_with_watchers(rows: Sequence[Tryjob]) -> list[TryjobView]:
    """Views of tryjob rows with their `reused_by` runs, oldest first."""
    watchers: dict[int, list[str]] = defaultdict(list)
    for tryjob_id, run_id in (
        REUSED_BY.objects.filter(tryjob_id__in=[r.id for r in rows])
        .order_by("id")
        .values_list("tryjob_id", "run_id")
    ):
        watchers[tryjob_id].append(run_id)
    return [serializers.tryjob_view_from_row(r, watchers.get(r.id, ())) for r in rows]


def watched_by_running_run(tryjob_id: int) -> bool:
    """Whether a run that has not ended launched or reuses the tryjob."""
    return (
        Tryjob.objects.filter(id=tryjob_id, launched_by__isnull=False)
        .exclude(launched_by__status__in=_ENDED_RUN)
        .exists()
        or REUSED_BY.objects.filter(tryjob_id=tryjob_id)
        .exclude(run__status__in=_ENDED_RUN)
        .exists()
    )


def calling_projects(tryjob_ids: Iterable[int]) -> dict[int, str]:
    """The LUCI project each tryjob's backend is called as: its launching run's, else its
    first reuser's (a build found elsewhere belongs to the run that reused it). Tryjobs with
    neither are left out."""
    ids = sorted(set(tryjob_ids))
    projects = dict(
        Tryjob.objects.filter(id__in=ids, launched_by__isnull=False).values_list(
            "id", "launched_by__project"
        )
    )
    for tryjob_id, project in (
        REUSED_BY.objects.filter(tryjob_id__in=[i for i in ids if i not in projects])
        .order_by("-id")
        .values_list("tryjob_id", "run__project")
    ):
        projects[tryjob_id] = project  # ordered newest first: the first reuser's stays
    return projects
