"""The time actions stamp on what they write: the real time, unless a caller set it.

Actions and tasks ask `clock.now()` instead of `timezone.now()`, so a caller that replays
history (the demo, a test) can run the real actions at the times it chooses with
`clock.frozen_at(when)`. The setting is per context (thread or task), never process-wide.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from django.utils import timezone

_frozen: ContextVar[datetime | None] = ContextVar("cvsite_clock", default=None)


def now() -> datetime:
    return _frozen.get() or timezone.now()


@contextmanager
def frozen_at(when: datetime) -> Iterator[None]:
    """Inside the block, `now()` is `when` (an aware datetime)."""
    if timezone.is_naive(when):
        raise ValueError(f"the clock needs an aware datetime, got {when!r}")
    token = _frozen.set(when)
    try:
        yield
    finally:
        _frozen.reset(token)
