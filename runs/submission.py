"""The order in which a run's CLs are submitted (and handed to a tryjob): dependencies first."""

from runs.models import RunCL


def submission_order(run_cls: list[RunCL]) -> list[RunCL]:
    """CLs ordered so that every CL comes after the CLs of the run it depends on.

    Ties keep the run's CL order; soft dependencies can form cycles, which are broken in
    that order too.
    """
    by_cl = {rc.cl_id: rc for rc in run_cls}
    waiting_on = {
        rc.cl_id: {d.depends_on_id for d in rc.deps.all() if d.depends_on_id in by_cl}
        for rc in run_cls
    }
    ordered = []
    remaining = sorted(run_cls, key=lambda rc: rc.position)
    while remaining:
        ready = next((rc for rc in remaining if not waiting_on[rc.cl_id]), remaining[0])
        ordered.append(ready)
        remaining.remove(ready)
        for deps in waiting_on.values():
            deps.discard(ready.cl_id)
    return ordered
