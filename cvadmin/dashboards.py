"""A project's (or every project's) health at a glance: the numbers of the dashboards page.

Every number comes from a rollup (runs.rollups, tryjobs.rollups: ended runs, tryjobs, failed
Gerrit posts) or from a small, indexed set of live rows (active runs, unposted Gerrit messages,
disagreements), read for a window of whole hours or days; so the page costs the same number
of queries, and about the same time, at ten thousand runs as at a million.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Sum

from cvadmin.charts import STATUS_COLOURS, Series, horizontal_bars, stacked_bars
from cvadmin.gantt import elapsed
from runs import rollups
from runs.models import CQDDisagreement, RollupPeriod, RunStatus
from tryjobs.models import TryjobMetric, TryjobRollup
from tryjobs.rollups import BUILDER_METRICS, EXECUTION_METRICS

TOP = 10
LATEST_DISAGREEMENTS = 20
ENDED_STATUSES = [RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED]
QUANTILES = [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)]


@dataclass(frozen=True)
class Quantiles:
    label: str
    count: int
    values: list[str]  # p50, p90, p99 in words


@dataclass(frozen=True)
class BuilderLine:
    builder: str
    numerator: int
    denominator: int

    @property
    def rate(self) -> float:
        return self.numerator / self.denominator if self.denominator else 0.0

    @property
    def percent(self) -> str:
        return f"{100 * self.rate:.1f} %"


@dataclass
class Dashboard:
    project: str | None
    window: rollups.Window
    projects: list[str]
    period_rows: list[tuple[str, list[int], int]] = field(default_factory=list)
    runs_chart: str = ""
    active: list[tuple[str, int]] = field(default_factory=list)
    durations: list[Quantiles] = field(default_factory=list)
    latency: Quantiles | None = None
    latency_rows: list[tuple[str, int]] = field(default_factory=list)
    latency_chart: str = ""
    failing: list[BuilderLine] = field(default_factory=list)
    failing_chart: str = ""
    flaky: list[BuilderLine] = field(default_factory=list)
    flaky_chart: str = ""
    executions: dict[str, int] = field(default_factory=dict)
    reuse_rate: str = "-"
    launch_failures: list[tuple[str, int]] = field(default_factory=list)
    launch_failures_chart: str = ""
    backlog: rollups.PostBacklog | None = None
    backlog_age: str = "-"
    post_failures: list[tuple[str, int]] = field(default_factory=list)
    disagreement_count: int = 0
    disagreements: list[CQDDisagreement] = field(default_factory=list)

    statuses = [s.label for s in ENDED_STATUSES]
    quantile_names = [name for name, _ in QUANTILES]
    precision = rollups.PERCENTILE_PRECISION
    disagreement_definition = rollups.DISAGREEMENT_DEFINITION

    @property
    def scope(self) -> str:
        return f"project {self.project}" if self.project else "all projects"


def seconds_in_words(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return "< 1s"
    return elapsed_seconds(seconds)


def elapsed_seconds(seconds: float) -> str:
    return elapsed(timedelta(seconds=round(seconds)))


def _quantiles(label: str, histogram: dict[int, int]) -> Quantiles:
    values = [seconds_in_words(rollups.percentile(histogram, q)) for _, q in QUANTILES]
    return Quantiles(label, sum(histogram.values()), values)


def _period_label(window: rollups.Window, start: datetime) -> str:
    return f"{start:%H}h" if window.period == RollupPeriod.HOUR else f"{start:%m-%d}"


def load(project: str | None, window: rollups.Window) -> Dashboard:
    board = Dashboard(project, window, [])
    _runs(board)
    _tryjobs(board)
    board.backlog = rollups.gerrit_backlog(project)
    if board.backlog.oldest is not None:
        board.backlog_age = elapsed(window.until - board.backlog.oldest)
    board.post_failures = rollups.gerrit_failures(window, project, TOP)
    board.disagreement_count, board.disagreements = rollups.disagreements(
        window, project, LATEST_DISAGREEMENTS
    )
    return board


def _runs(board: Dashboard) -> None:
    window, project = board.window, board.project
    ended: dict[tuple[datetime, int], int] = {}
    for (row_project, start, status), n in rollups.ended_runs_by_project(window).items():
        board.projects.append(row_project)
        if project is None or row_project == project:
            ended[(start, status)] = ended.get((start, status), 0) + n
    board.projects = sorted(set(board.projects))
    starts = window.starts()
    values = [[ended.get((start, status), 0) for status in ENDED_STATUSES] for start in starts]
    board.period_rows = [
        (
            f"{start:%Y-%m-%d %H:00}"
            if window.period == RollupPeriod.HOUR
            else f"{start:%Y-%m-%d}",
            column,
            sum(column),
        )
        for start, column in zip(starts, values, strict=True)
    ]
    unit = "hour" if window.period == RollupPeriod.HOUR else "day"
    board.runs_chart = stacked_bars(
        f"Runs ended per {unit} by final status, {board.scope}",
        [_period_label(window, start) for start in starts],
        [Series(status.label, STATUS_COLOURS[status.name]) for status in ENDED_STATUSES],
        values,
        label_every=1 if len(starts) <= 12 else 3,
    )
    board.active = [
        (RunStatus(status).label, n) for status, n in sorted(rollups.active_runs(project).items())
    ]
    board.durations = [
        _quantiles(mode, histogram)
        for mode, histogram in sorted(rollups.duration_histograms(window, project).items())
    ]


def _tryjob_rows(board: Dashboard, metrics: list[str]):
    rows = TryjobRollup.objects.filter(
        period=board.window.period, start__gte=board.window.since, metric__in=metrics
    )
    if board.project is not None:
        rows = rows.filter(project=board.project)
    return rows.order_by().values_list("metric", "label").annotate(n=Sum("value"))


def _tryjobs(board: Dashboard) -> None:
    builders: dict[str, dict[str, int]] = {}
    for metric, label, n in _tryjob_rows(board, BUILDER_METRICS):
        builders.setdefault(label, {})[metric] = n

    def ranked(numerator: str, denominator: str) -> list[BuilderLine]:
        lines = [
            BuilderLine(builder, counts.get(numerator, 0), counts.get(denominator, 0))
            for builder, counts in builders.items()
            if counts.get(numerator, 0)
        ]
        lines.sort(key=lambda line: (-line.numerator, -line.rate, line.builder))
        return lines[:TOP]

    board.failing = ranked(TryjobMetric.BUILDER_FAILED, TryjobMetric.BUILDER_ENDED)
    board.failing_chart = horizontal_bars(
        f"Builders with the most failed tryjobs, {board.scope}",
        [
            (b.builder, b.numerator, f"{b.numerator} of {b.denominator} ({b.percent})")
            for b in board.failing
        ],
        STATUS_COLOURS["FAILED"],
    )
    board.flaky = ranked(TryjobMetric.BUILDER_FLAKY_RUNS, TryjobMetric.BUILDER_RUNS)
    board.flaky_chart = horizontal_bars(
        f"Builders that most often failed then succeeded on retry in a run, {board.scope}",
        [
            (b.builder, b.numerator, f"{b.numerator} of {b.denominator} runs ({b.percent})")
            for b in board.flaky
        ],
        "#ef6c00",
    )

    executions: dict[str, int] = {}
    latency: dict[int, int] = {}
    failures: dict[str, int] = {}
    for metric, label, n in _tryjob_rows(board, [*EXECUTION_METRICS, TryjobMetric.LAUNCH_FAILURES]):
        if metric == TryjobMetric.LAUNCH_LATENCY:
            latency[int(label)] = n
        elif metric == TryjobMetric.LAUNCH_FAILURES:
            failures[label] = n
        else:
            executions[metric] = n
    board.executions = {
        TryjobMetric(metric).label: executions.get(metric, 0)
        for metric in EXECUTION_METRICS
        if metric != TryjobMetric.LAUNCH_LATENCY
    }
    attempts = executions.get(TryjobMetric.ATTEMPTS, 0)
    if attempts:
        reused = executions.get(TryjobMetric.REUSED_ATTEMPTS, 0)
        board.reuse_rate = f"{100 * reused / attempts:.1f} %"
    board.latency = _quantiles("trigger to first launch", latency)
    board.latency_rows = [(_bucket_words(bucket), n) for bucket, n in sorted(latency.items())]
    board.latency_chart = horizontal_bars(
        f"Runs by time from trigger to first tryjob launch, {board.scope}",
        [(words, n, f"{n:,}") for words, n in board.latency_rows],
        "#1565c0",
        label_width=160,
    )
    board.launch_failures = sorted(failures.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    board.launch_failures_chart = horizontal_bars(
        f"Tryjob launch failures by reason, {board.scope}",
        [(reason, n, f"{n:,}") for reason, n in board.launch_failures],
        STATUS_COLOURS["FAILED"],
        label_width=420,
        keep_end=False,
    )


def _bucket_words(bucket: int) -> str:
    low, high = rollups.bucket_bounds(bucket)
    if not low:
        return "under 1s"
    return f"{elapsed_seconds(low)} – {elapsed_seconds(high)}"
