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
    cls = defaultdict(list)
    for run_id, served in (
        RunCL.objects.filter(run__in=runs)
        .order_by("run_id", "position")
        .values_list("run_id", "served_message")
    ):
        cls[run_id].append(served)
    in_same_run = RunCL.objects.filter(
        run_id=OuterRef("run_cl__run_id"), cl_id=OuterRef("depends_on_id")
    )
    outside_deps = (
        RunCLDep.objects.filter(run_cl__run__in=runs)
        .filter(~Exists(in_same_run))
        .order_by("run_cl__run_id", "depends_on_id")
        .values_list("run_cl__run_id", *(f"depends_on__{name}" for name in CL_VIEW_COLUMNS))
    )
    fyi_deps = defaultdict(list)
    outside_cls = {}
    for run_id, *snapshot in outside_deps:
        clid = snapshot[0]
        run_fyi = fyi_deps[run_id]
        if not run_fyi or run_fyi[-1] != clid:  # two CLs of a run may depend on the same one
            run_fyi.append(clid)
        outside_cls[clid] = CLView(*snapshot)
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
