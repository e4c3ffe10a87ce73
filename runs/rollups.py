"""Rollups of runs for the dashboards: counted when a run ends, rebuilt from the runs on demand.

A dashboard over 30 days of a big project must not read a million runs: the action that ends
a run (runs.lifecycle.set_status) adds it to `RunRollup` (per hour and per day of its end, per
project, mode and final status, with a histogram of durations) and notes whether CQDaemon said
otherwise (`CQDDisagreement`); the actions that try to post a message on Gerrit move the post
between the counts of its last error (`PostFailureRollup`, per hour and day of its creation).
`rebuild` recomputes them from the runs and posts (`manage.py rebuild_rollups`).

Durations are kept as histogram buckets a quarter of a doubling wide (bucket b holds
[2^((b-1)/4), 2^(b/4)) seconds), so a percentile read from them is the bucket's geometric
middle, within ±9 % of the true value (PERCENTILE_PRECISION).
"""

import hashlib
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, models, transaction
from django.db.models import F, Min, Q, Sum

from runs.models import (
    AttemptStatus,
    CQDDisagreement,
    FinishedCQDRun,
    GerritPost,
    PostFailureRollup,
    RollupPeriod,
    Run,
    RunRollup,
    RunStatus,
    VerifiedCQDRun,
    VerifyAction,
)

BUCKETS_PER_DOUBLING = 4
MAX_BUCKET = 4 * 26  # 2^26 s is two years: anything longer is counted there
PERCENTILE_PRECISION = "±9 %"

# Rebuilds read runs in chunks of this many rows.
CHUNK = 5000


# Histograms ------------------------------------------------------------------------------------


def duration_bucket(seconds: float) -> int:
    """0 for under a second (or negative: clocks disagree), else 1 + floor(4 log2 seconds)."""
    if seconds < 1:
        return 0
    return min(MAX_BUCKET, 1 + math.floor(BUCKETS_PER_DOUBLING * math.log2(seconds)))


def bucket_bounds(bucket: int) -> tuple[float, float]:
    """[low, high) seconds of a bucket."""
    if bucket <= 0:
        return 0.0, 1.0
    return 2 ** ((bucket - 1) / BUCKETS_PER_DOUBLING), 2 ** (bucket / BUCKETS_PER_DOUBLING)


def percentile(counts: Mapping[int, int], q: float) -> float | None:
    """The q-quantile (0 < q ≤ 1) of a histogram, as its bucket's geometric middle (seconds);
    None for an empty histogram."""
    total = sum(counts.values())
    if not total:
        return None
    rank = math.ceil(q * total)
    seen = 0
    for bucket in sorted(counts):
        seen += counts[bucket]
        if seen >= rank:
            low, high = bucket_bounds(bucket)
            return math.sqrt(low * high) if low else 0.5
    raise AssertionError("unreachable: rank <= total")


# Periods and windows ---------------------------------------------------------------------------


def period_start(when: datetime, period: str) -> datetime:
    when = when.astimezone(UTC)
    if period == RollupPeriod.HOUR:
        return when.replace(minute=0, second=0, microsecond=0)
    return when.replace(hour=0, minute=0, second=0, microsecond=0)


# Read once: a rebuild or a seed counts millions of events, and the enum builds its value on
# each read.
HOUR, DAY = RollupPeriod.HOUR.value, RollupPeriod.DAY.value


def period_starts(when: datetime) -> tuple[tuple[str, datetime], tuple[str, datetime]]:
    """The rollup rows an event at `when` counts in: its hour and its day (the hour's, in
    UTC: one time zone conversion for both)."""
    hour = when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return (HOUR, hour), (DAY, hour.replace(hour=0))


@dataclass(frozen=True)
class Window:
    """A dashboard's time window: whole periods from `since` to now."""

    name: str
    period: str
    periods: int
    since: datetime
    until: datetime

    @property
    def step(self) -> timedelta:
        return timedelta(hours=1) if self.period == RollupPeriod.HOUR else timedelta(days=1)

    def starts(self) -> list[datetime]:
        return [self.since + i * self.step for i in range(self.periods)]

    @property
    def words(self) -> str:
        unit = "hours" if self.period == RollupPeriod.HOUR else "days"
        return (
            f"the last {self.periods} {unit} (whole {unit} in UTC): "
            f"{self.since:%Y-%m-%d %H:%M} UTC to now"
        )


WINDOWS = {
    "24h": (RollupPeriod.HOUR, 24),
    "7d": (RollupPeriod.DAY, 7),
    "30d": (RollupPeriod.DAY, 30),
}


def window(name: str, now: datetime) -> Window:
    """The window named `name` (a key of WINDOWS) ending now; KeyError for another name."""
    period, periods = WINDOWS[name]
    step = timedelta(hours=1) if period == RollupPeriod.HOUR else timedelta(days=1)
    since = period_start(now, period) - (periods - 1) * step
    return Window(name, period, periods, since, now)


# Counting --------------------------------------------------------------------------------------


def add_counts(
    model: type[models.Model], value_field: str, key_fields: tuple[str, ...], deltas: Counter
) -> None:
    """Adds each delta to the row of its key (a tuple of `key_fields` values), creating it.

    Keys are taken in sorted order so that concurrent writers lock rows in the same order.
    """
    for key in sorted((k for k, v in deltas.items() if v), key=_sortable):
        delta = deltas[key]
        row = dict(zip(key_fields, key, strict=True))
        if model.objects.filter(**row).update(**{value_field: F(value_field) + delta}):
            continue
        try:
            with transaction.atomic():
                model.objects.create(**row, **{value_field: delta})
        except IntegrityError:
            # A concurrent writer created it first; its row is ours to add to now.
            model.objects.filter(**row).update(**{value_field: F(value_field) + delta})


def _sortable(key: tuple) -> tuple:
    return tuple(str(part) for part in key)


RUN_KEY = ("period", "start", "project", "mode", "status")


def run_duration(create_time: datetime, start_time: datetime | None, end_time: datetime) -> float:
    """What the admin calls a run's duration: from its start (or creation) to its end."""
    return (end_time - (start_time or create_time)).total_seconds()


@dataclass
class RunCounts:
    """What one RunRollup row holds: runs, and runs by duration bucket (a string, as JSON
    object keys are)."""

    runs: int = 0
    durations: Counter = field(default_factory=Counter)

    def add(self, bucket: int) -> None:
        self.runs += 1
        self.durations[str(bucket)] += 1


def _count_run(counts: dict[tuple, RunCounts], project, mode, status, created, started, ended):
    bucket = duration_bucket(run_duration(created, started, ended))
    for period, start in period_starts(ended):
        counts.setdefault((period, start, project, mode, status), RunCounts()).add(bucket)


def run_ended(run: Run) -> None:
    """Counts a run that just ended (in the transaction that ended it): its hour's and its
    day's rows, locked in that order (as every writer takes them), created when missing."""
    counts: dict[tuple, RunCounts] = {}
    _count_run(
        counts, run.project, run.mode, run.status, run.create_time, run.start_time, run.end_time
    )
    for key in sorted(counts, key=_sortable):
        _add_run_counts(dict(zip(RUN_KEY, key, strict=True)), counts[key])
    note_cqdaemon_word(run, just_ended=True)


def _add_run_counts(key: dict, counts: RunCounts) -> None:
    row = RunRollup.objects.select_for_update().filter(**key).first()
    if row is None:
        try:
            with transaction.atomic():
                RunRollup.objects.create(**key, runs=counts.runs, durations=counts.durations)
            return
        except IntegrityError:
            # A concurrent writer created it first; its row is ours to add to now.
            row = RunRollup.objects.select_for_update().get(**key)
    row.runs += counts.runs
    row.durations = dict(Counter(row.durations) + counts.durations)
    row.save(update_fields=["runs", "durations"])


# Gerrit posts that failed ---------------------------------------------------------------------

POST_FAILURE_KEY = ("period", "start", "project", "error_digest", "error")


def _count_post(counts: Counter, created_at: datetime, project: str, error: str, n: int) -> None:
    if not error:
        return  # posted, or not tried yet
    digest = hashlib.sha256(error.encode()).hexdigest()
    for period, start in period_starts(created_at):
        counts[(period, start, project, digest, error)] += n


def post_error_changed(created_at: datetime, project: str, old: str, new: str) -> None:
    """Moves a post from the count of its old last error (none when "") to its new one's, in
    the transaction that changed it."""
    if old == new:
        return
    counts: Counter = Counter()
    _count_post(counts, created_at, project, old, -1)
    _count_post(counts, created_at, project, new, 1)
    add_counts(PostFailureRollup, "posts", POST_FAILURE_KEY, counts)


# CQDaemon versus cvsite ------------------------------------------------------------------------

DISAGREEMENT_DEFINITION = (
    "An ended run disagrees with CQDaemon when its final status is not the one CQDaemon's own "
    "word on it implies: its ReportVerifiedRun verdict (ACTION_SUBMIT or ACTION_DRY_RUN_OK: "
    "SUCCEEDED; ACTION_FAIL: FAILED) or its ReportFinishedRun attempt status (SUCCESS: "
    "SUCCEEDED; FAILURE or INFRA_FAILURE: FAILED; ABORTED: CANCELLED), whichever CQDaemon sent "
    "(when both, the finished run's). E.g. CQDaemon said submit but cvsite's submission failed, "
    "or cvsite cancelled a run CQDaemon then reported as failed. Runs CQDaemon said nothing "
    "final about are not counted. Counted by the run's end time."
)

VERDICT_STATUS = {
    VerifyAction.SUBMIT: RunStatus.SUCCEEDED,
    VerifyAction.DRY_RUN_OK: RunStatus.SUCCEEDED,
    VerifyAction.FAIL: RunStatus.FAILED,
}
ATTEMPT_STATUS = {
    AttemptStatus.SUCCESS: RunStatus.SUCCEEDED,
    AttemptStatus.FAILURE: RunStatus.FAILED,
    AttemptStatus.INFRA_FAILURE: RunStatus.FAILED,
    AttemptStatus.ABORTED: RunStatus.CANCELLED,
}


def cqdaemon_word(verdict: int | None, finished: int | None) -> tuple[str, RunStatus] | None:
    """(what CQDaemon said, the run status it implies) from a run's VerifiedCQDRun action and
    FinishedCQDRun attempt status (None when absent); None when it said nothing final."""
    if finished in ATTEMPT_STATUS:
        said = f"ReportFinishedRun {AttemptStatus(finished).name}"
        return said, ATTEMPT_STATUS[AttemptStatus(finished)]
    if verdict in VERDICT_STATUS:
        return f"ReportVerifiedRun ACTION_{VerifyAction(verdict).name}", VERDICT_STATUS[verdict]
    return None


def _disagreement(run_id, project, status, end_time, verdict, finished) -> CQDDisagreement | None:
    word = cqdaemon_word(verdict, finished)
    if word is None or word[1] == status:
        return None
    said, expected = word
    return CQDDisagreement(
        run_id=run_id,
        project=project,
        end_time=end_time,
        status=status,
        expected_status=expected,
        cqdaemon_said=said,
    )


def note_cqdaemon_word(run: Run, just_ended: bool = False) -> None:
    """Records (or clears) whether an ended run disagrees with what CQDaemon said of it;
    `just_ended`: it ended in this transaction, so no earlier record needs clearing."""
    if not run.is_ended:
        return
    verdict = VerifiedCQDRun.objects.filter(run_id=run.id).values("action")[:1]
    finished = (
        FinishedCQDRun.objects.filter(run_id=run.id)
        .order_by("-update_time")
        .values("attempt_status")[:1]
    )
    said = (
        Run.objects.filter(id=run.id)
        .values_list(models.Subquery(verdict), models.Subquery(finished))
        .first()
    )
    row = _disagreement(run.id, run.project, run.status, run.end_time, *(said or (None, None)))
    if row is not None:
        row.save()
    elif not just_ended:
        CQDDisagreement.objects.filter(run_id=run.id).delete()


# Rebuilding ------------------------------------------------------------------------------------


def replace_rows(
    model, time_field: str, day: datetime | None, key_fields, value_field: str, counts: Counter
) -> None:
    """Replaces the rows of `model` from `day` on (all when None) with `counts`."""
    (model.objects.filter(**{f"{time_field}__gte": day}) if day else model.objects.all()).delete()
    model.objects.bulk_create(
        [
            model(**dict(zip(key_fields, key, strict=True)), **{value_field: n})
            for key, n in counts.items()
            if n
        ],
        batch_size=CHUNK,
    )


@dataclass
class RunTally:
    """What `rebuild` counts from the rows, counted instead by a writer that knows each row it
    writes (a bulk load into tables that had none: importers.seed_scale), with the same
    functions, for `replace`."""

    runs: dict[tuple, RunCounts] = field(default_factory=dict)
    disagreements: list[CQDDisagreement] = field(default_factory=list)
    post_failures: Counter = field(default_factory=Counter)

    def run_ended(self, run_id, project, mode, status, created, started, ended, verdict, finished):
        """An ended run; `verdict` and `finished`: its VerifiedCQDRun action and its latest
        FinishedCQDRun attempt status, None when absent."""
        _count_run(self.runs, project, mode, status, created, started, ended)
        row = _disagreement(run_id, project, status, ended, verdict, finished)
        if row is not None:
            self.disagreements.append(row)

    def post(self, created_at: datetime, project: str, last_error: str) -> None:
        _count_post(self.post_failures, created_at, project, last_error, 1)


def rebuild(since: datetime | None) -> dict[str, int]:
    """Recomputes the rollups of runs that ended from `since`'s day on (all when None), in one
    transaction; returns the rows written per table."""
    day = period_start(since, RollupPeriod.DAY) if since is not None else None
    ended = Run.objects.ended()
    if day is not None:
        ended = ended.filter(end_time__gte=day)
    with transaction.atomic():
        tally = RunTally()
        columns = ("project", "mode", "status", "create_time", "start_time", "end_time")
        for values in ended.order_by().values_list(*columns).iterator(chunk_size=CHUNK):
            _count_run(tally.runs, *values)
        said = _cqdaemon_words(day)
        tally.disagreements = [
            row
            for run_id, project, status, end_time in ended.filter(id__in=list(said))
            .order_by()
            .values_list("id", "project", "status", "end_time")
            .iterator(chunk_size=CHUNK)
            if (row := _disagreement(run_id, project, status, end_time, *said[run_id]))
        ]
        tally.post_failures = _post_failure_counts(day)
        return replace(day, tally)


def replace(day: datetime | None, tally: RunTally) -> dict[str, int]:
    """Replaces the rollup rows from `day` on (all when None) with `tally`'s, in one
    transaction; returns the rows written per table."""
    with transaction.atomic():
        (RunRollup.objects.filter(start__gte=day) if day else RunRollup.objects.all()).delete()
        RunRollup.objects.bulk_create(
            [
                RunRollup(
                    **dict(zip(RUN_KEY, key, strict=True)),
                    runs=c.runs,
                    durations=dict(c.durations),
                )
                for key, c in tally.runs.items()
            ],
            batch_size=CHUNK,
        )
        (
            CQDDisagreement.objects.filter(end_time__gte=day)
            if day
            else CQDDisagreement.objects.all()
        ).delete()
        CQDDisagreement.objects.bulk_create(tally.disagreements, batch_size=CHUNK)
        failures = tally.post_failures
        replace_rows(PostFailureRollup, "start", day, POST_FAILURE_KEY, "posts", failures)
    return {
        "run rollups": len(tally.runs),
        "CQDaemon disagreements": len(tally.disagreements),
        "Gerrit post failure rollups": sum(1 for n in failures.values() if n),
    }


def _post_failure_counts(day: datetime | None) -> Counter:
    """The posts created from `day` on whose last try failed (the partial index's rows)."""
    failed = GerritPost.objects.exclude(last_error="")
    if day is not None:
        failed = failed.filter(created_at__gte=day)
    counts: Counter = Counter()
    rows = failed.order_by().values_list("created_at", "project", "last_error")
    for created_at, project, error in rows.iterator(chunk_size=CHUNK):
        _count_post(counts, created_at, project, error, 1)
    return counts


def _cqdaemon_words(day: datetime | None) -> dict[str, list]:
    """run ID -> [verdict action, finished attempt status] for the runs ended from `day`."""
    words: dict[str, list] = {}
    verdicts = VerifiedCQDRun.objects.all()
    finished = FinishedCQDRun.objects.filter(run__isnull=False)
    if day is not None:
        verdicts = verdicts.filter(run__end_time__gte=day)
        finished = finished.filter(run__end_time__gte=day)
    for run_id, action in verdicts.values_list("run_id", "action").iterator(chunk_size=CHUNK):
        words.setdefault(run_id, [None, None])[0] = action
    for run_id, status in (
        finished.order_by("update_time")
        .values_list("run_id", "attempt_status")
        .iterator(chunk_size=CHUNK)
    ):
        words.setdefault(run_id, [None, None])[1] = status  # the latest report wins
    return words


# Reading ---------------------------------------------------------------------------------------


def _in_window(queryset, win: Window, project: str | None):
    queryset = queryset.filter(period=win.period, start__gte=win.since)
    return queryset if project is None else queryset.filter(project=project)


def ended_runs_by_project(win: Window) -> dict[tuple[str, datetime, int], int]:
    """(project, period start, final status) -> runs ended, for every project: the dashboard
    sums or picks from it, and names the projects from it (one query for both)."""
    rows = (
        _in_window(RunRollup.objects, win, None)
        .order_by()
        .values_list("project", "start", "status")
        .annotate(n=Sum("runs"))
    )
    return {(project, start, status): n for project, start, status, n in rows}


def duration_histograms(win: Window, project: str | None) -> dict[str, dict[int, int]]:
    """mode -> duration bucket -> runs ended in the window (rows of every status, summed)."""
    histograms: dict[str, Counter] = {}
    rows = _in_window(RunRollup.objects, win, project).order_by().values_list("mode", "durations")
    for mode, durations in rows:
        histograms.setdefault(mode, Counter()).update(durations)
    return {mode: {int(b): n for b, n in h.items()} for mode, h in histograms.items()}


def active_runs(project: str | None) -> dict[int, int]:
    """Status -> runs not ended now (served by the status indexes: the active set is small)."""
    runs = Run.objects.active() if project is None else Run.objects.filter(project=project).active()
    return dict(
        runs.order_by()
        .values_list("status")
        .annotate(n=models.Count("id"))
        .values_list("status", "n")
    )


def disagreements(win: Window, project: str | None, latest: int):
    """(count, the `latest` newest) disagreements of runs ended in the window."""
    rows = CQDDisagreement.objects.filter(end_time__gte=win.since)
    if project is not None:
        rows = rows.filter(project=project)
    return rows.count(), list(rows.order_by("-end_time", "run_id")[:latest])


@dataclass(frozen=True)
class PostBacklog:
    waiting: int
    oldest: datetime | None
    failing: int  # of the waiting ones, those whose last try failed


def gerrit_backlog(project: str | None) -> PostBacklog:
    """Messages not posted yet (served by the partial index of unposted posts)."""
    waiting = GerritPost.objects.filter(posted_at__isnull=True)
    if project is not None:
        waiting = waiting.filter(project=project)
    summary = waiting.aggregate(
        waiting=models.Count("id"),
        oldest=Min("created_at"),
        failing=models.Count("id", filter=~Q(last_error="")),
    )
    return PostBacklog(summary["waiting"], summary["oldest"], summary["failing"])


def gerrit_failures(win: Window, project: str | None, top: int) -> list[tuple[str, int]]:
    """(error, posts) of posts created in the window whose last try failed, most first (from
    the rollup: failed posts pile up with history)."""
    rows = (
        _in_window(PostFailureRollup.objects, win, project)
        .order_by()
        .values_list("error")
        .annotate(n=Sum("posts"))
        .filter(n__gt=0)
        .order_by("-n", "error")[:top]
    )
    return [(error, n) for error, n in rows]
