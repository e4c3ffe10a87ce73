"""Read-side queries over runs, each in a constant number of database queries."""

from django.db.models import Prefetch

from runs.models import CL, ProjectVerifier, Run, RunCL, RunStatus, Verifier


def runs_for_cqdaemon(project: str) -> list[Run]:
    """RUNNING runs of `project` that CQDaemon should verify, newest first, with their CLs.

    Left out: runs CQDaemon already reported verified, and runs cvsite intends to cancel;
    and every run of a project cvsite's own executor verifies.
    Each run's `run_cls` are prefetched in run order, with `cl` and `deps`.
    """
    if ProjectVerifier.of(project) != Verifier.CQDAEMON:
        return []
    return list(
        Run.objects.filter(
            project=project,
            status=RunStatus.RUNNING,
            cqd_verified__isnull=True,
            delay_cancel_until__isnull=True,
        )
        .order_by("id")
        .prefetch_related(
            Prefetch(
                "run_cls",
                queryset=RunCL.objects.select_related("cl")
                .prefetch_related("deps")
                .order_by("position"),
            )
        )
    )


def dependency_cls_outside(runs: list[Run]) -> dict[int, CL]:
    """The CLs that CLs of `runs` depend on but that are not in the same run, by CLID."""
    wanted = set()
    for run in runs:
        run_cls = run.run_cls.all()
        in_run = {rc.cl_id for rc in run_cls}
        wanted |= {d.depends_on_id for rc in run_cls for d in rc.deps.all()} - in_run
    # Not in_bulk(): on SQLite it splits into one query per 999 IDs.
    return {cl.id: cl for cl in CL.objects.filter(id__in=wanted)} if wanted else {}


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
