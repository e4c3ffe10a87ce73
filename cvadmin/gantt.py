"""The attempts of a run as a server-rendered SVG Gantt chart: no script, no CDN.

Pure: takes rows already loaded (`GanttRow`s of `GanttBar`s) and the run's times.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

LABEL_WIDTH = 260
PLOT_WIDTH = 620
ROW_HEIGHT = 24
AXIS_HEIGHT = 28
TICK_STEPS = [timedelta(seconds=s) for s in (30, 60, 120, 300, 600, 900, 1800, 3600, 7200)]
RESULT_COLOURS = {
    "succeeded": "#2e7d32",
    "failed": "#c62828",
    "transient": "#ef6c00",
    "timeout": "#6a1b9a",
    "running": "#1565c0",
    "other": "#757575",
}


@dataclass(frozen=True)
class GanttBar:
    start: datetime
    end: datetime | None  # None: still running, drawn up to the chart's end
    outcome: str  # a key of RESULT_COLOURS
    reused: bool
    title: str  # the tooltip: builder, build, result


@dataclass(frozen=True)
class GanttRow:
    label: str
    bars: list[GanttBar]


def short_duration(delta: timedelta) -> str:
    """+4m12s style, as the timeline writes offsets from the run's start."""
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{sign}{minutes}m{secs:02d}s"
    return f"{sign}{secs}s"


def elapsed(delta: timedelta) -> str:
    """4m12s style: how long something took."""
    return short_duration(delta).lstrip("+")


def render(
    rows: list[GanttRow], run_start: datetime, run_end: datetime | None, now: datetime
) -> SafeString:
    """The chart; the time axis is relative to the run's start, which is drawn with its end."""
    if not rows:
        return SafeString("")
    earliest = min([run_start, *(bar.start for row in rows for bar in row.bars)])
    latest = max(
        [run_end or now, *(bar.end or now for row in rows for bar in row.bars)],
    )
    span = max((latest - earliest).total_seconds(), 1.0)

    def x(moment: datetime) -> float:
        return round(LABEL_WIDTH + (moment - earliest).total_seconds() / span * PLOT_WIDTH, 1)

    height = AXIS_HEIGHT + ROW_HEIGHT * len(rows) + 4
    step = next((s for s in TICK_STEPS if span / s.total_seconds() <= 8), TICK_STEPS[-1])
    ticks = []
    offset = -((run_start - earliest) // step) * step
    while run_start + offset <= latest:
        ticks.append((x(run_start + offset), short_duration(offset)))
        offset += step
    axis = format_html_join(
        "",
        '<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" class="gantt-tick"/>'
        '<text x="{0}" y="14" class="gantt-tick-label">{3}</text>',
        ((tx, AXIS_HEIGHT - 8, height, label) for tx, label in ticks),
    )
    labels = format_html_join(
        "",
        '<text x="4" y="{}" class="gantt-label">{}</text>',
        ((AXIS_HEIGHT + i * ROW_HEIGHT + 16, row.label) for i, row in enumerate(rows)),
    )
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" class="{}"><title>{}</title></rect>',
        (
            (
                x(bar.start),
                AXIS_HEIGHT + i * ROW_HEIGHT + 4,
                max(round(x(bar.end or now) - x(bar.start), 1), 2.0),
                ROW_HEIGHT - 8,
                RESULT_COLOURS.get(bar.outcome, RESULT_COLOURS["other"]),
                "gantt-bar gantt-reused" if bar.reused else "gantt-bar",
                bar.title,
            )
            for i, row in enumerate(rows)
            for bar in row.bars
        ),
    )
    run_marks = format_html(
        '<line x1="{0}" y1="{2}" x2="{0}" y2="{3}" class="gantt-run-mark"><title>run start'
        "</title></line>{1}",
        x(run_start),
        format_html(
            '<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" class="gantt-run-mark">'
            "<title>run end</title></line>",
            x(run_end),
            AXIS_HEIGHT - 8,
            height,
        )
        if run_end
        else "",
        AXIS_HEIGHT - 8,
        height,
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="gantt" width="{}" height="{}" '
        'viewBox="0 0 {} {}" role="img" aria-label="Attempts over time">{}{}{}{}</svg>',
        LABEL_WIDTH + PLOT_WIDTH + 10,
        height,
        LABEL_WIDTH + PLOT_WIDTH + 10,
        height,
        axis,
        labels,
        bars,
        run_marks,
    )
