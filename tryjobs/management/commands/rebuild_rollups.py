"""`python manage.py rebuild_rollups [--since DATE]`: recomputes the dashboards' rollups.

The actions keep the rollups current; this recomputes them from the rows, for data written
around the actions (a bulk load, an import) or to check them. Rows from DATE's day (UTC) on are
replaced; without --since, all of them. Each table is rebuilt in one transaction.
"""

import time
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from runs import rollups as run_rollups
from tryjobs import rollups as tryjob_rollups


def parse_day(text: str) -> datetime:
    try:
        day = datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise CommandError(f"--since: {text!r} is not a date like 2026-11-30") from None
    return day.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Recomputes the dashboards' rollups of runs and tryjobs from the rows."

    def add_arguments(self, parser):
        parser.add_argument(
            "--since", type=parse_day, metavar="YYYY-MM-DD", help="rebuild from this day (UTC)"
        )

    def handle(self, *args, since, **options):
        started = time.monotonic()
        where = f"from {since:%Y-%m-%d}" if since else "all"
        self.stdout.write(f"rebuilding the run rollups ({where})...")
        written = run_rollups.rebuild(since)
        self.stdout.write(f"rebuilding the tryjob rollups ({where})...")
        written |= tryjob_rollups.rebuild(since)
        summary = ", ".join(f"{n} {name}" for name, n in written.items())
        self.stdout.write(f"rebuilt: {summary} in {time.monotonic() - started:.1f} s")
