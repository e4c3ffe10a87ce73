"""Progress of a long backfill: a live bar on a terminal, plain periodic lines otherwise.

On a terminal the bar is redrawn in place (at most a few times a second) with the fraction
done, the count, the rate and the time left. Elsewhere (a log file, CI, a pipe) a plain line is
printed every `interval` seconds, so logs stay readable and still show that work goes on.
"""

import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["Progress", "format_duration"]

_BAR_WIDTH = 24
_REDRAW_SECONDS = 0.2


def format_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


class Progress:
    """Reports `count` records done; `fraction` (0..1, or None when the size is unknown) drives
    the bar and the time left."""

    def __init__(
        self,
        stream: TextIO,
        *,
        unit: str = "records",
        interactive: bool | None = None,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        enabled: bool = True,
    ):
        self.stream = stream
        self.unit = unit
        self.interactive = stream.isatty() if interactive is None else interactive
        self.interval = interval
        self.clock = clock
        self.enabled = enabled
        self.started = clock()
        self._last = self.started
        self._drawn = False

    def update(self, count: int, fraction: float | None, force: bool = False) -> None:
        if not self.enabled:
            return
        now = self.clock()
        wait = _REDRAW_SECONDS if self.interactive else self.interval
        if not force and now - self._last < wait:
            return
        self._last = now
        text = self.describe(count, fraction, now)
        if self.interactive:
            self.stream.write("\r\x1b[2K" + text)
            self._drawn = True
        else:
            self.stream.write(f"progress: {text}\n")
        self.stream.flush()

    def describe(self, count: int, fraction: float | None, now: float | None = None) -> str:
        elapsed = (self.clock() if now is None else now) - self.started
        rate = count / elapsed if elapsed > 0 else 0.0
        parts = []
        if fraction is not None:
            fraction = min(max(fraction, 0.0), 1.0)
            if self.interactive:
                filled = round(fraction * _BAR_WIDTH)
                parts.append("[" + "#" * filled + "." * (_BAR_WIDTH - filled) + "]")
            parts.append(f"{fraction * 100:5.1f}%")
        parts.append(f"{count:,} {self.unit}")
        parts.append(f"{rate:,.0f} {self.unit}/s")
        if fraction:
            parts.append(f"ETA {format_duration(elapsed * (1 - fraction) / fraction)}")
        parts.append(f"elapsed {format_duration(elapsed)}")
        return "  ".join(parts)

    def finish(self) -> None:
        """Clears the bar so the summary starts on a clean line."""
        if self.enabled and self.interactive and self._drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
