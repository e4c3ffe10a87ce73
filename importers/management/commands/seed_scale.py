"""`python manage.py seed_scale --runs N [--projects P] [--days D] [--seed S]`: realistic rows
at scale (runs, CLs, tryjobs, CQDaemon records, API calls), appended fast."""

import argparse
import time
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from importers.seed_scale import ScalePlan, seed_scale


def aware_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date and time") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} names no time zone (add Z or +00:00)")
    return value


class Command(BaseCommand):
    help = (
        "Appends N runs spread over the last D days, with their CLs, run CLs, events, tryjobs "
        "and execution states (cvsite-verified projects), CQDaemon verdicts and reports, and "
        "API call records: consistent rows the admin and the API treat like any other. COPY on "
        "PostgreSQL, executemany on SQLite, one transaction per batch. Existing rows are left "
        "alone. Deterministic for a given --seed, --now and database content."
    )

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, required=True, help="How many runs to add.")
        parser.add_argument(
            "--projects", type=int, default=5, help="Over how many LUCI projects (default 5)."
        )
        parser.add_argument(
            "--days", type=int, default=30, help="Over how many days before --now (default 30)."
        )
        parser.add_argument("--seed", type=int, default=0, help="Random seed (default 0).")
        parser.add_argument(
            "--now",
            type=aware_datetime,
            help="The window's end, ISO 8601 with a time zone (default: the current time).",
        )
        parser.add_argument(
            "--api-calls", type=int, help="How many API call records to add (default 2 per run)."
        )
        parser.add_argument(
            "--batch-size", type=int, default=20_000, help="Runs per transaction (default 20000)."
        )

    def handle(self, *args, **options):
        try:
            plan = ScalePlan(
                runs=options["runs"],
                projects=options["projects"],
                days=options["days"],
                seed=options["seed"],
                now=options["now"] or timezone.now(),
                api_calls=options["api_calls"],
                batch_size=options["batch_size"],
            )
        except ValueError as e:
            raise CommandError(str(e)) from e
        verbose = options["verbosity"] >= 1
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            elapsed = time.monotonic() - started
            self.stdout.write(
                f"\r  {done:,}/{total:,} runs ({100 * done // total}%), {elapsed:.0f} s",
                ending="" if done < total else "\n",
            )
            self.stdout.flush()

        if verbose:
            self.stdout.write(
                f"Seeding {plan.runs:,} runs over {plan.projects} projects and {plan.days} days "
                f"up to {plan.now:%Y-%m-%d %H:%M:%S} UTC (seed {plan.seed})"
            )
        summary = seed_scale(plan, progress if verbose else None)
        if verbose:
            elapsed = time.monotonic() - started
            self.stdout.write(
                f"Done in {elapsed:.1f} s: {summary.active_runs:,} runs still active."
            )
            for label, count in summary.rows.items():
                self.stdout.write(f"  {label}: {count:,} rows")
