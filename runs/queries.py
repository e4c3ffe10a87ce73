"""Read-side queries over runs, each in a constant number of database queries."""

import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import NamedTuple

from django.db import connection

from runs.models import CL, ProjectVerifier, Run, RunCL, RunCLDep, RunStatus, Verifier
from runs.serializers import CL_VIEW_COLUMNS, RUN_CL_VIEW_COLUMNS, RunCLView

CLView = NamedTuple("CLView", [(name, object) for name in CL_VIEW_COLUMNS])


class CQDaemonRuns(NamedTuple):
    """Runs handed to CQDaemon, newest first, as plain values (no model instances)."""

    run_ids: list[str]
    cls: dict[str, list[RunCLView]]  # by run ID, in run order
    deps: dict[str, dict[int, list[tuple[int, int]]]]  # by run ID, CLID: [(CLID, DepKind)]
    outside_cls: dict[int, CLView]  # CLs depended on from outside their run, by CLID


def runs_for_cqdaemon(project: str) -> CQDaemonRuns:
    """RUNNING runs of `project` that CQDaemon should verify, with their CLs and deps.

    Left out: runs CQDaemon already reported verified, runs cvsite intends to cancel, and
    every run of a project cvsite's own executor verifies. Five queries, however many runs:
    the rows are read as values because model instances cost more than the answer.
    """
    if ProjectVerifier.of(project) != Verifier.CQDAEMON:
        return CQDaemonRuns([], {}, {}, {})
    runs = Run.objects.filter(
        project=project,
        status=RunStatus.RUNNING,
        cqd_verified__isnull=True,
        delay_cancel_until__isnull=True,
    )
    run_ids = list(runs.order_by("id").values_list("id", flat=True))
    cls = defaultdict(list)
    rows = (
        RunCL.objects.filter(run__in=runs)
        .order_by("run_id", "position")
        .values_list("run_id", *RUN_CL_VIEW_COLUMNS)
    )
    # Django's per-value converters cost more than the rest of the call: convert the two
    # columns that need it (trigger_time, files) directly.
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for run_id, *view in cursor.fetchall():
            view[6] = _aware(view[6])
            view[11] = json.loads(view[11])
            cls[run_id].append(RunCLView(*view))
    deps = defaultdict(lambda: defaultdict(list))
    for run_id, clid, depends_on, kind in (
        RunCLDep.objects.filter(run_cl__run__in=runs)
        .order_by("run_cl_id", "position")
        .values_list("run_cl__run_id", "run_cl__cl_id", "depends_on_id", "kind")
    ):
        deps[run_id][clid].append((depends_on, kind))
    outside = set()
    for run_id, by_cl in deps.items():
        in_run = {view.cl_id for view in cls[run_id]}
        outside |= {d for ds in by_cl.values() for d, _ in ds} - in_run
    outside_cls = {}
    if outside:
        for values in CL.objects.filter(id__in=outside).values_list(*CL_VIEW_COLUMNS):
            outside_cls[values[0]] = CLView(*values)
    return CQDaemonRuns(run_ids, cls, deps, outside_cls)


def _aware(value) -> datetime:
    """A DateTimeField value as the database driver returns it, as an aware datetime."""
    if isinstance(value, str):  # SQLite keeps UTC text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def cls_excluded_from_cqdaemon(project: str) -> list[CL]:
    """CLs of the project's active runs CQDaemon already verified, by CLID.

    PENDING runs are not active here, as upstream: only RUNNING up to SUBMITTING.
    """
    return list(
        CL.objects.filter(
            run_cls__run__project=project,
            run_cls__run__status__in=[
                RunStatus.RUNNING,
                RunStatus.WAITING_FOR_SUBMISSION,
                RunStatus.SUBMITTING,
            ],
            run_cls__run__cqd_verified__isnull=False,
        )
        .distinct()
        .order_by("id")
        .only("id", "host", "change")
    )
