"""`python manage.py generate_backfill_data --attempts N --builds-per-attempt K OUT`."""

import gzip
import sys
from contextlib import ExitStack

from django.core.management.base import BaseCommand, CommandError

from importers.backfill.generate import FORMATS, generate


class Command(BaseCommand):
    help = (
        "Writes realistic CQDaemon attempts for import_attempts, one JSON line each (multi-CL "
        "attempts, every status, attempts recorded while running and again when ended, retried "
        "and reused builds, BigQuery-export and proto3 JSON lines); with --builds, their "
        "Buildbucket builds for import_builds. OUT ending in .gz is compressed; - is stdout."
    )

    def add_arguments(self, parser):
        parser.add_argument("out", help="Output file for the attempts; .gz compresses; - stdout.")
        parser.add_argument("--attempts", type=int, required=True, help="Number of lines.")
        parser.add_argument("--builds-per-attempt", type=int, default=3)
        parser.add_argument(
            "--builds", metavar="PATH", help="Also write the builds there (buildbucket.v2.Build)."
        )
        parser.add_argument("--seed", type=int, default=0, help="Same seed, same output.")
        parser.add_argument("--format", choices=FORMATS, default="mixed")

    def handle(self, *args, **options):
        if options["attempts"] < 0 or options["builds_per_attempt"] < 0:
            raise CommandError("--attempts and --builds-per-attempt must not be negative")
        with ExitStack() as stack:
            out = _open(stack, options["out"])
            builds = _open(stack, options["builds"]) if options["builds"] else None
            summary = generate(
                out,
                count=options["attempts"],
                builds_per_attempt=options["builds_per_attempt"],
                builds_out=builds,
                seed=options["seed"],
                fmt=options["format"],
            )
        if options["verbosity"] >= 1 and options["out"] != "-":
            statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(summary.statuses.items()))
            self.stdout.write(
                f"{summary.lines:,} lines ({summary.attempts:,} attempts: {statuses}) "
                f"-> {options['out']}"
                + (f"; {summary.builds:,} builds -> {options['builds']}" if builds else "")
            )


def _open(stack: ExitStack, path: str):
    if path == "-":
        return sys.stdout.buffer
    if path.endswith(".gz"):
        return stack.enter_context(gzip.open(path, "wb", compresslevel=6))
    return stack.enter_context(open(path, "wb", buffering=1 << 20))
