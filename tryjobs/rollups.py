"""Rollups of tryjobs and executions for the dashboards (`TryjobRollup`), one count per hour
and per day, kept current by the actions and rebuilt from the rows on demand.

What is counted, and when (the same functions count for the actions and for `rebuild`):

- **Builders** (project = the builder's project, label = `project/bucket/builder`), by the
  tryjob's create time, as tryjobs.stats defines them: every ENDED tryjob (BUILDER_ENDED) and
  the failed ones (FAILED_PERMANENTLY, FAILED_TRANSIENTLY, TIMEOUT: BUILDER_FAILED); per run
  that launched ended tryjobs of a builder, one BUILDER_RUNS, and one BUILDER_FLAKY_RUNS when
  one of them failed and a later-created one succeeded, by the create time of the run's first
  ended tryjob of the builder. Kept by `save_changed_tryjobs` (tryjobs.changes): the counts of
  the tryjobs and (run, builder) pairs it changes, before and after.
- **Executions** (project = the run's), when a run's execution state ends (SUCCEEDED or
  FAILED), by its end time: EXECUTIONS_ENDED, its ATTEMPTS and REUSED_ATTEMPTS, the retry
  QUOTA_SPENT (sum of `used_quota`), RETRIED_RUNS (quota spent > 0), QUOTA_EXHAUSTED (spent ≥
  the global quota), and LAUNCH_LATENCY: the duration bucket (runs.rollups) of the time from
  the run's first trigger (its CLs' earliest trigger time) to the creation of the first tryjob
  the run launched (none when it launched none). Runs cancelled before their execution ended
  are not counted. Kept by the executor pass that saves the ended state (tryjobs.passes).
- **Launch failures** (project = the run's), by the time of the execution log entry that
  records them: one LAUNCH_FAILURES per tryjob that failed to launch, labelled with the first
  line of its reason. Kept by the executor pass that writes the entry.
"""

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.db.models.functions import TruncDay, TruncHour

from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from cvproto.times import to_datetime
from runs.models import RollupPeriod, RunCL
from runs.rollups import (
    CHUNK,
    add_counts,
    duration_bucket,
    period_start,
    period_starts,
    replace_rows,
)
from tryjobs.models import (
    ExecutionAttempt,
    ExecutionLogEntry,
    ExecutionState,
    ExecutionStatus,
    LogKind,
    ResultStatus,
    Tryjob,
    TryjobMetric,
    TryjobRollup,
    TryjobStatus,
)
from tryjobs.serializers import log_entry_from_row

LogEntry = tryjob_pb.ExecutionLogEntry
KEY = ("period", "start", "project", "metric", "label")
FAILED_RESULTS = (
    ResultStatus.FAILED_PERMANENTLY,
    ResultStatus.FAILED_TRANSIENTLY,
    ResultStatus.TIMEOUT,
)
BUILDER_METRICS = [
    TryjobMetric.BUILDER_ENDED,
    TryjobMetric.BUILDER_FAILED,
    TryjobMetric.BUILDER_RUNS,
    TryjobMetric.BUILDER_FLAKY_RUNS,
]
EXECUTION_METRICS = [
    TryjobMetric.EXECUTIONS_ENDED,
    TryjobMetric.ATTEMPTS,
    TryjobMetric.REUSED_ATTEMPTS,
    TryjobMetric.QUOTA_SPENT,
    TryjobMetric.RETRIED_RUNS,
    TryjobMetric.QUOTA_EXHAUSTED,
    TryjobMetric.LAUNCH_LATENCY,
]
LABEL_LENGTH = TryjobRollup._meta.get_field("label").max_length


def _add(counts: Counter, when: datetime, project: str, metric: str, label: str, n: int = 1):
    for period, start in period_starts(when):
        counts[(period, start, project, metric, label)] += n


# Builders --------------------------------------------------------------------------------------

TRYJOB_FIELDS = (
    "id",
    "status",
    "result_status",
    "create_time",
    "launched_by_id",
    "builder_project",
    "builder_bucket",
    "builder_name",
)


@dataclass(frozen=True)
class _Row:
    id: int
    status: int
    result_status: int | None
    create_time: datetime
    launched_by_id: str | None
    builder_project: str
    builder_bucket: str
    builder_name: str

    @property
    def builder(self) -> str:
        return f"{self.builder_project}/{self.builder_bucket}/{self.builder_name}"


def _tryjob_counts(rows: Iterable[_Row]) -> Counter:
    counts: Counter = Counter()
    for row in rows:
        if row.status != TryjobStatus.ENDED:
            continue
        _add(counts, row.create_time, row.builder_project, TryjobMetric.BUILDER_ENDED, row.builder)
        if row.result_status in FAILED_RESULTS:
            metric = TryjobMetric.BUILDER_FAILED
            _add(counts, row.create_time, row.builder_project, metric, row.builder)
    return counts


def _run_builder_counts(rows: Iterable[_Row]) -> Counter:
    """BUILDER_RUNS and BUILDER_FLAKY_RUNS of the (run, builder) pairs of ended `rows`, which
    hold every ended tryjob of those pairs."""
    by_pair: dict[tuple[str, str], list[_Row]] = defaultdict(list)
    for row in rows:
        if row.status == TryjobStatus.ENDED and row.launched_by_id is not None:
            by_pair[(row.launched_by_id, row.builder)].append(row)
    counts: Counter = Counter()
    for pair_rows in by_pair.values():
        first = min(r.create_time for r in pair_rows)
        project, builder = pair_rows[0].builder_project, pair_rows[0].builder
        _add(counts, first, project, TryjobMetric.BUILDER_RUNS, builder)
        failures = [r.create_time for r in pair_rows if r.result_status in FAILED_RESULTS]
        successes = [r.create_time for r in pair_rows if r.result_status == ResultStatus.SUCCEEDED]
        if failures and successes and min(failures) < max(successes):
            _add(counts, first, project, TryjobMetric.BUILDER_FLAKY_RUNS, builder)
    return counts


def _rows(queryset) -> list[_Row]:
    return [_Row(*values) for values in queryset.order_by().values_list(*TRYJOB_FIELDS)]


def _pairs_counts(ids: Sequence[int], runs: set[str], pairs: set[tuple[str, str]]) -> Counter:
    """The counts of tryjobs `ids` and of the (run, builder) `pairs` of `runs`, as stored."""
    rows = _rows(
        Tryjob.objects.filter(
            Q(id__in=ids) | Q(launched_by_id__in=sorted(runs)), status=TryjobStatus.ENDED
        )
    )
    counts = _tryjob_counts(r for r in rows if r.id in set(ids))
    counts.update(_run_builder_counts(r for r in rows if (r.launched_by_id, r.builder) in pairs))
    return counts


@dataclass
class PendingChange:
    """What the tryjobs about to be saved counted before (see `tryjobs_changing`)."""

    ids: list[int]
    runs: set[str]
    pairs: set[tuple[str, str]]
    before: Counter


def tryjobs_changing(
    changed: Sequence[Tryjob], stored_statuses: Collection[int] | None = None
) -> PendingChange | None:
    """Called with changed rows before they are saved; None when no count can change (neither
    the stored nor the new status is ENDED). `stored_statuses`: the stored rows' statuses,
    when the caller read them under its lock (no read here when none of them is ENDED)."""
    changes_ended = any(row.status == TryjobStatus.ENDED for row in changed)
    if not changes_ended and stored_statuses is not None:
        if TryjobStatus.ENDED not in stored_statuses:
            return None
    ids = [row.id for row in changed]
    stored = _rows(Tryjob.objects.filter(id__in=ids))
    if not changes_ended and not any(r.status == TryjobStatus.ENDED for r in stored):
        return None
    launched = [r for r in stored if r.launched_by_id is not None]
    runs = {r.launched_by_id for r in launched}
    pairs = {(r.launched_by_id, r.builder) for r in launched}
    return PendingChange(ids, runs, pairs, _pairs_counts(ids, runs, pairs))


def tryjobs_changed(pending: PendingChange | None) -> None:
    """Called after the rows were saved: adds the difference their change made."""
    if pending is None:
        return
    delta = _pairs_counts(pending.ids, pending.runs, pending.pairs)
    delta.subtract(pending.before)
    add_counts(TryjobRollup, "value", KEY, delta)


def tryjobs_created(rows: Sequence[Tryjob]) -> None:
    """Counts tryjobs created already ended (a backend's builds found for reuse)."""
    created = [_Row(*(getattr(row, f) for f in TRYJOB_FIELDS)) for row in rows]
    add_counts(TryjobRollup, "value", KEY, _tryjob_counts(created))


# Executions ------------------------------------------------------------------------------------


def _execution_counts(run_ids: Sequence[str]) -> Counter:
    """The execution metrics of the runs `run_ids` whose execution state has ended."""
    states = list(
        ExecutionState.objects.filter(run_id__in=run_ids)
        .exclude(status=ExecutionStatus.RUNNING)
        .order_by()
        .values_list("run_id", "run__project", "end_time", "retry_global_quota")
    )
    if not states:
        return Counter()
    ended = [run_id for run_id, *_ in states]
    spent = dict(
        ExecutionState.objects.filter(run_id__in=ended)
        .order_by()
        .values_list("run_id")
        .annotate(spent=Sum("executions__used_quota"))
    )
    attempts = {
        run_id: (total, reused)
        for run_id, total, reused in ExecutionAttempt.objects.filter(execution__state_id__in=ended)
        .order_by()
        .values_list("execution__state_id")
        .annotate(total=Count("id"), reused=Count("id", filter=Q(reused=True)))
    }
    first_launch = dict(
        Tryjob.objects.filter(launched_by_id__in=ended)
        .order_by()
        .values_list("launched_by_id")
        .annotate(first=Min("create_time"))
    )
    triggered = dict(
        RunCL.objects.filter(run_id__in=ended)
        .order_by()
        .values_list("run_id")
        .annotate(first=Min("trigger_time"))
    )
    counts: Counter = Counter()
    for run_id, project, end_time, global_quota in states:
        total, reused = attempts.get(run_id, (0, 0))
        latency = None
        if run_id in first_launch and run_id in triggered:
            latency = (first_launch[run_id] - triggered[run_id]).total_seconds()
        quota = spent.get(run_id) or 0
        _count_execution(counts, end_time, project, total, reused, quota, global_quota, latency)
    return counts


def _count_execution(
    counts: Counter,
    end_time: datetime,
    project: str,
    attempts: int,
    reused: int,
    quota: int,
    global_quota: int | None,
    launch_latency: float | None,
) -> None:
    """One ended execution state; `launch_latency`: seconds from the run's first trigger to
    its first tryjob's creation, None when it launched none."""
    _add(counts, end_time, project, TryjobMetric.EXECUTIONS_ENDED, "")
    _add(counts, end_time, project, TryjobMetric.ATTEMPTS, "", attempts)
    _add(counts, end_time, project, TryjobMetric.REUSED_ATTEMPTS, "", reused)
    _add(counts, end_time, project, TryjobMetric.QUOTA_SPENT, "", quota)
    _add(counts, end_time, project, TryjobMetric.RETRIED_RUNS, "", int(quota > 0))
    exhausted = global_quota is not None and global_quota > 0 and quota >= global_quota
    _add(counts, end_time, project, TryjobMetric.QUOTA_EXHAUSTED, "", int(exhausted))
    if launch_latency is not None:
        bucket = str(duration_bucket(launch_latency))
        _add(counts, end_time, project, TryjobMetric.LAUNCH_LATENCY, bucket)


def execution_ended(run_id: str) -> None:
    """Counts a run's execution state that this pass saved as ended (once: the pass that
    moves it from RUNNING)."""
    add_counts(TryjobRollup, "value", KEY, _execution_counts([run_id]))


def reason_label(reason: str) -> str:
    first = reason.strip().splitlines()[0] if reason.strip() else "(no reason given)"
    return first[:LABEL_LENGTH]


def _launch_failure_counts(project: str, entries: Iterable[LogEntry]) -> Counter:
    counts: Counter = Counter()
    for entry in entries:
        if entry.WhichOneof("kind") != LogKind.TRYJOBS_LAUNCH_FAILED:
            continue
        when = to_datetime(entry.time)
        for failed in entry.tryjobs_launch_failed.tryjobs:
            _add(counts, when, project, TryjobMetric.LAUNCH_FAILURES, reason_label(failed.reason))
    return counts


def entries_logged(project: str, entries: Sequence[LogEntry]) -> None:
    """Counts the launch failures of log entries an executor pass saved."""
    add_counts(TryjobRollup, "value", KEY, _launch_failure_counts(project, entries))


# Rebuilding ------------------------------------------------------------------------------------


def rebuild(since: datetime | None) -> dict[str, int]:
    """Recomputes every TryjobRollup row from `since`'s day on (all when None) from the rows,
    in one transaction; returns the rows written. Streams: memory stays flat in the rows."""
    day = period_start(since, RollupPeriod.DAY) if since is not None else None

    def from_day(queryset, field):
        return queryset if day is None else queryset.filter(**{f"{field}__gte": day})

    with transaction.atomic():
        ended = from_day(Tryjob.objects.filter(status=TryjobStatus.ENDED), "create_time")
        counts = _builder_counts(ended)
        counts.update(_run_builder_rebuild(ended, day))
        ended_states = ExecutionState.objects.exclude(status=ExecutionStatus.RUNNING)
        states = from_day(ended_states, "end_time").order_by().values_list("run_id", flat=True)
        for chunk in _chunks(states.iterator(chunk_size=CHUNK)):
            counts.update(_execution_counts(chunk))
        failures = from_day(
            ExecutionLogEntry.objects.filter(kind=LogKind.TRYJOBS_LAUNCH_FAILED), "time"
        ).select_related("run")
        for row in failures.iterator(chunk_size=CHUNK):
            counts.update(_launch_failure_counts(row.run.project, [log_entry_from_row(row)]))
        return replace(day, counts)


def replace(day: datetime | None, counts: Counter) -> dict[str, int]:
    """Replaces the TryjobRollup rows from `day` on (all when None) with `counts`, in one
    transaction; returns the rows written."""
    with transaction.atomic():
        replace_rows(TryjobRollup, "start", day, KEY, "value", counts)
    return {"tryjob rollups": sum(1 for v in counts.values() if v)}


class TryjobTally:
    """What `rebuild` counts from the rows, counted instead by a writer that knows each row it
    writes (a bulk load into tables that had none: importers.seed_scale), with the functions
    the actions count with, for `replace`."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()

    def run_tryjobs(self, rows: Iterable[tuple]) -> None:
        """Every tryjob one run launched, as tuples of `TRYJOB_FIELDS`."""
        tryjobs = [_Row(*row) for row in rows]
        self.counts.update(_tryjob_counts(tryjobs))
        self.counts.update(_run_builder_counts(tryjobs))

    def execution_ended(
        self,
        end_time: datetime,
        project: str,
        attempts: int,
        reused: int,
        quota: int,
        global_quota: int | None,
        launch_latency: float | None,
    ) -> None:
        """An ended execution state (see `_count_execution`)."""
        _count_execution(
            self.counts, end_time, project, attempts, reused, quota, global_quota, launch_latency
        )


_BUILDER = ("builder_project", "builder_bucket", "builder_name")


def _builder_counts(ended) -> Counter:
    """BUILDER_ENDED and BUILDER_FAILED of ended tryjobs, summed by the database per hour and
    per day (as _tryjob_counts counts them one by one)."""
    counts: Counter = Counter()
    for period, trunc in ((RollupPeriod.HOUR, TruncHour), (RollupPeriod.DAY, TruncDay)):
        rows = (
            ended.order_by()
            .annotate(start=trunc("create_time", tzinfo=UTC))
            .values_list("start", *_BUILDER)
            .annotate(n=Count("id"), failed=Count("id", filter=Q(result_status__in=FAILED_RESULTS)))
        )
        for start, project, bucket, name, n, failed in rows.iterator(chunk_size=CHUNK):
            builder = f"{project}/{bucket}/{name}"
            counts[(period, start, project, TryjobMetric.BUILDER_ENDED, builder)] += n
            counts[(period, start, project, TryjobMetric.BUILDER_FAILED, builder)] += failed
    return counts


def _run_builder_rebuild(ended, day: datetime | None) -> Counter:
    """BUILDER_RUNS and BUILDER_FLAKY_RUNS of the (run, builder) pairs whose first ended
    tryjob was created from `day` on, aggregated per pair by the database."""
    pairs = Tryjob.objects.filter(status=TryjobStatus.ENDED, launched_by__isnull=False)
    if day is not None:
        pairs = pairs.filter(launched_by_id__in=ended.values("launched_by_id"))
    rows = (
        pairs.order_by()
        .values_list("launched_by_id", *_BUILDER)
        .annotate(
            first=Min("create_time"),
            first_failure=Min("create_time", filter=Q(result_status__in=FAILED_RESULTS)),
            last_success=Max("create_time", filter=Q(result_status=ResultStatus.SUCCEEDED)),
        )
    )
    counts: Counter = Counter()
    for _, project, bucket, name, first, failure, success in rows.iterator(chunk_size=CHUNK):
        if day is not None and first < day:
            continue  # counted on an older day, which this rebuild keeps
        builder = f"{project}/{bucket}/{name}"
        _add(counts, first, project, TryjobMetric.BUILDER_RUNS, builder)
        if failure is not None and success is not None and failure < success:
            _add(counts, first, project, TryjobMetric.BUILDER_FLAKY_RUNS, builder)
    return counts


def _chunks(items: Iterable[str]) -> Iterable[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
