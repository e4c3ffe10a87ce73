"""Read-side queries over runs, each in a constant number of database queries."""

from collections import defaultdict
from typing import NamedTuple

from django.db.models import Exists, OuterRef

from runs.models import CL, ProjectVerifier, Run, RunCL, RunCLDep, RunStatus, Verifier
from runs.serializers import CL_VIEW_COLUMNS

CLView = NamedTuple("CLView", [(name, object) for name in CL_VIEW_COLUMNS])


class CQDaemonRuns(NamedTuple):
    """Runs handed to CQDaemon, newest first, as plain values (no model instances)."""

    run_ids: list[str]
    cls: dict[str, list[bytes]]  # by run ID, in run order: RunCL.served_message
    fyi_deps: dict[str, list[int]]  # by run ID: CLIDs its CLs depend on outside it, ascending
    outside_cls: dict[int, CLView]  # the latter's latest snapshots, by CLID


def runs_for_cqdaemon(project: str) -> CQDaemonRuns:
    """RUNNING runs of `project` that CQDaemon should verify, with their CLs and deps.

    Left out: runs CQDaemon already reported verified, runs cvsite intends to cancel, and
    every run of a project cvsite's own executor verifies. Four queries, however many runs:
    the run CLs are read as the bytes they are served as.
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
    # Ordered here, not by the database: sorting every served message there costs more.
    positioned = defaultdict(list)
    for run_id, position, served in (
        RunCL.objects.filter(run__in=runs)
        .order_by()
        .values_list("run_id", "position", "served_message")
    ):
        positioned[run_id].append((position, served))
    cls = {run_id: [served for _, served in sorted(rows)] for run_id, rows in positioned.items()}
    in_same_run = RunCL.objects.filter(
        run_id=OuterRef("run_cl__run_id"), cl_id=OuterRef("depends_on_id")
    )
    outside_deps = (
        RunCLDep.objects.filter(run_cl__run__in=runs)
        .filter(~Exists(in_same_run))
        .order_by()
        .values_list("run_cl__run_id", *(f"depends_on__{name}" for name in CL_VIEW_COLUMNS))
    )
    fyi_clids = defaultdict(set)  # two CLs of a run may depend on the same one
    outside_cls = {}
    for run_id, *snapshot in outside_deps:
        clid = snapshot[0]
        fyi_clids[run_id].add(clid)
        outside_cls[clid] = CLView(*snapshot)
    fyi_deps = {run_id: sorted(clids) for run_id, clids in fyi_clids.items()}
    return CQDaemonRuns(run_ids, cls, fyi_deps, outside_cls)


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
