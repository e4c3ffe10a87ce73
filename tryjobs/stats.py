"""A builder's recent results: counts, failure rate and flake rate over a time window.

The definitions (shared with whatever else reports them, e.g. dashboards):

- the window holds the builder's tryjobs created in [since, until), the builder being the
  definition's main builder (`builder_project/builder_bucket/builder_name`);
- *ended* tryjobs are those with status ENDED (a result is final); cancelled and untriggered
  ones have no result and count nowhere;
- failure rate = ended tryjobs whose result is FAILED_PERMANENTLY, FAILED_TRANSIENTLY or
  TIMEOUT / ended tryjobs;
- flake rate = runs in which the builder failed and then succeeded on a retry (a failed
  tryjob, then a later-created succeeded one, both launched by the run) / runs that launched
  at least one ended tryjob of the builder. Reused tryjobs count for the run that launched them.

Either rate is None when its denominator is 0. Four queries, bounded by the builder's index.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, Max, Min, Q

from tryjobs.models import ResultStatus, Tryjob, TryjobStatus

FAILED_RESULTS = (
    ResultStatus.FAILED_PERMANENTLY,
    ResultStatus.FAILED_TRANSIENTLY,
    ResultStatus.TIMEOUT,
)


@dataclass(frozen=True)
class BuilderStats:
    ended: int
    results: dict[str, int]  # ResultStatus name -> ended tryjobs with it
    failure_rate: float | None
    runs: int
    flaky_runs: int
    flake_rate: float | None
    recent: list[Tryjob]  # newest ended first


def builder_tryjobs(project: str, bucket: str, builder: str):
    return Tryjob.objects.filter(
        builder_project=project, builder_bucket=bucket, builder_name=builder
    )


def builder_stats(
    project: str, bucket: str, builder: str, since: datetime, until: datetime, recent: int
) -> BuilderStats:
    ended = builder_tryjobs(project, bucket, builder).filter(
        status=TryjobStatus.ENDED, create_time__gte=since, create_time__lt=until
    )
    by_result = dict(
        ended.order_by()
        .values_list("result_status")
        .annotate(n=Count("id"))
        .values_list("result_status", "n")
    )
    results = {status.name: by_result.get(status, 0) for status in ResultStatus}
    total = sum(results.values())
    failed = sum(by_result.get(status, 0) for status in FAILED_RESULTS)
    per_run = (
        ended.filter(launched_by__isnull=False)
        .order_by()
        .values("launched_by_id")
        .annotate(
            first_failure=Min("create_time", filter=Q(result_status__in=FAILED_RESULTS)),
            last_success=Max("create_time", filter=Q(result_status=ResultStatus.SUCCEEDED)),
        )
    )
    runs = per_run.count()
    flaky_runs = per_run.filter(first_failure__lt=F("last_success")).count()
    return BuilderStats(
        ended=total,
        results=results,
        failure_rate=failed / total if total else None,
        runs=runs,
        flaky_runs=flaky_runs,
        flake_rate=flaky_runs / runs if runs else None,
        recent=list(ended.order_by("-id")[:recent]),
    )
