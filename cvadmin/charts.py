"""The dashboards' charts as server-rendered SVG: no script, no CDN. Pure: numbers in, markup out.

Each chart says what it shows in its <title> (read by screen readers and shown on hover); the
page puts the same numbers in a table beside it.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

FONT = 11
STATUS_COLOURS = {
    "SUCCEEDED": "#2e7d32",
    "FAILED": "#c62828",
    "CANCELLED": "#757575",
}


@dataclass(frozen=True)
class Series:
    name: str
    colour: str


def _nice_max(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^k at least `value` (an axis' top)."""
    if value <= 0:
        return 1
    magnitude = 1.0
    while magnitude * 10 <= value:
        magnitude *= 10
    while magnitude > value:
        magnitude /= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def stacked_bars(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    values: Sequence[Sequence[int]],
    label_every: int = 1,
) -> SafeString:
    """One bar per label, stacked by series (`values[i][j]`: series j at label i), with a
    y axis and a legend."""
    left, top, plot_height, bottom = 48, 24, 180, 36
    bar_step = max(8, min(40, 720 // max(1, len(labels))))
    width = left + bar_step * len(labels) + 12
    height = top + plot_height + bottom
    top_value = _nice_max(max((sum(column) for column in values), default=0))

    def y(value: float) -> float:
        return top + plot_height - plot_height * value / top_value

    parts = []
    for tick in (0, top_value / 2, top_value):
        parts.append(
            format_html(
                '<line class="chart-grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="chart-axis" x="{}" y="{}" text-anchor="end">{}</text>',
                left,
                width - 8,
                f"{y(tick):.1f}",
                f"{y(tick):.1f}",
                left - 4,
                f"{y(tick) + 4:.1f}",
                _number(tick),
            )
        )
    for i, (label, column) in enumerate(zip(labels, values, strict=True)):
        x = left + i * bar_step + 2
        base = 0
        for serie, value in zip(series, column, strict=True):
            if value:
                parts.append(
                    format_html(
                        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
                        "<title>{}: {} {}</title></rect>",
                        x,
                        f"{y(base + value):.1f}",
                        bar_step - 4,
                        f"{y(base) - y(base + value):.1f}",
                        serie.colour,
                        label,
                        _number(value),
                        serie.name,
                    )
                )
            base += value
        if i % label_every == 0:
            parts.append(
                format_html(
                    '<text class="chart-axis" x="{}" y="{}" text-anchor="middle">{}</text>',
                    x + (bar_step - 4) / 2,
                    top + plot_height + 14,
                    label,
                )
            )
    legend_x = left
    for serie in series:
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="10" height="10" fill="{}"/>'
                '<text class="chart-label" x="{}" y="{}">{}</text>',
                legend_x,
                top + plot_height + 24,
                serie.colour,
                legend_x + 14,
                top + plot_height + 33,
                serie.name,
            )
        )
        legend_x += 14 + 8 * len(serie.name) + 16
    return _svg(title, width, height, parts)


def horizontal_bars(
    title: str,
    rows: Sequence[tuple[str, float, str]],
    colour: str,
    label_width: int = 300,
    keep_end: bool = True,
) -> SafeString:
    """One bar per (label, value, text shown after the bar), longest scale = largest value.
    A label too long is cut at its start (`keep_end`: a builder's name is at its end) or end."""
    row_height, plot_width, text_width = 22, 360, 140
    width = label_width + plot_width + text_width
    height = max(1, len(rows)) * row_height + 8
    top_value = max((value for _, value, _ in rows), default=0) or 1
    parts = []
    for i, (label, value, text) in enumerate(rows):
        y = 4 + i * row_height
        parts.append(
            format_html(
                '<text class="chart-label" x="{}" y="{}" text-anchor="end">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>'
                '<text class="chart-label" x="{}" y="{}">{}</text>',
                label_width - 6,
                y + 15,
                _clip(label, label_width // 7, keep_end),
                label_width,
                y + 3,
                f"{max(1.0, plot_width * value / top_value):.1f}",
                row_height - 6,
                colour,
                label,
                text,
                label_width + plot_width * value / top_value + 6,
                y + 15,
                text,
            )
        )
    if not rows:
        parts.append(
            format_html('<text class="chart-label" x="8" y="{}">nothing in this window</text>', 16)
        )
    return _svg(title, width, height, parts)


def _clip(text: str, length: int, keep_end: bool) -> str:
    if len(text) <= length:
        return text
    return "…" + text[-(length - 1) :] if keep_end else text[: length - 1] + "…"


def _svg(title: str, width: int, height: int, parts: list) -> SafeString:
    return format_html(
        '<svg class="chart" role="img" width="{}" height="{}" viewBox="0 0 {} {}" '
        'font-size="{}" xmlns="http://www.w3.org/2000/svg"><title>{}</title>{}</svg>',
        width,
        height,
        width,
        height,
        FONT,
        title,
        format_html_join("", "{}", ((part,) for part in parts)) or mark_safe(""),
    )
