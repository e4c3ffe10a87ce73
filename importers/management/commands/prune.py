"""python manage.py prune --older-than 540d [--batch-size N] [--dry-run]"""

import re
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from importers import prune
from importers.backfill.progress import Progress

AGE = re.compile(r"(\d+)([dh])")


def parse_age(text: str) -> timedelta:
    match = AGE.fullmatch(text.strip())
    if not match or int(match.group(1)) == 0:
        raise CommandError(f"--older-than {text!r}: give days or hours, e.g. 540d or 36h")
    number, unit = int(match.group(1)), match.group(2)
    return timedelta(days=number) if unit == "d" else timedelta(hours=number)


class Command(BaseCommand):
    help = (
        "Deletes ended runs (with their events, posts, execution state and log), API call "
        "records, refused-call counts and finished task rows older than --older-than, in "
        "batches of their own transactions: safe to stop and run again. CV keeps 540 days."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", required=True, help="an age: 540d, 36h")
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would go; delete nothing"
        )
        parser.add_argument(
            "--progress-interval",
            type=float,
            default=10.0,
            metavar="SECONDS",
            help="Seconds between progress lines when the output is not a terminal.",
        )

    def handle(self, *args, older_than, batch_size, dry_run, progress_interval, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        cutoff = timezone.now() - parse_age(older_than)
        counts = prune.count(cutoff)
        self.stdout.write(f"Older than {cutoff:%Y-%m-%d %H:%M:%S} UTC:")
        for label, n in counts.items():
            self.stdout.write(f"  {label}: {n}")
        if dry_run:
            self.stdout.write("Dry run: nothing deleted.")
            return
        total = sum(counts.values())
        progress = Progress(self.stdout, unit="rows", interval=progress_interval)
        deleted: dict[str, int] = dict.fromkeys(counts, 0)
        done = 0
        for label, n in prune.prune(cutoff, batch_size):
            deleted[label] += n
            done += n
            progress.update(done, done / total if total else None)
        progress.update(done, 1.0 if total else None, force=True)
        progress.finish()
        summary = ", ".join(f"{label} {n}" for label, n in deleted.items())
        self.stdout.write(self.style.SUCCESS(f"Deleted {done} rows: {summary}."))
