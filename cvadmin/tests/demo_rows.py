"""Rows of the seeded demo that several tests look for."""

from django.db.models import Count

from runs.models import RunCL


def cl_with_two_runs() -> tuple[int, str, str]:
    """(CL ID, its newer run, the run before it) of the first CL with two runs or more."""
    cl_id = (
        RunCL.objects.values("cl_id")
        .order_by()
        .annotate(runs=Count("id"))
        .filter(runs__gte=2)
        .order_by("cl_id")
        .values_list("cl_id", flat=True)
        .first()
    )
    assert cl_id is not None, "the demo has no CL with two runs"
    # Run IDs sort newest first.
    newer, older = sorted(RunCL.objects.filter(cl_id=cl_id).values_list("run_id", flat=True))[:2]
    return cl_id, newer, older
