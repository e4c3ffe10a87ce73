"""`python manage.py refresh_cls [--project P] [--missing-only] [--since WHEN]`."""

from datetime import UTC, datetime, time

from django.core.management.base import CommandError
from django.utils.dateparse import parse_date, parse_datetime

from importers.backfill.cls import CLSource, RefreshHandler
from importers.backfill.command import BackfillCommand


class Command(BackfillCommand):
    help = (
        "Fetches each CL's current ChangeInfo (messages, revisions, files) from Gerrit through "
        "the host's Gerrit client, with bounded concurrency and rate, and stores it as the CL's "
        "snapshot (and as the snapshot of imported active runs at that patchset), the data the "
        "Migration API serves. Transient Gerrit errors are retried; permanent ones are rejects. "
        "Options: see importers/backfill/command.py."
    )
    takes_input = False
    handler_class = RefreshHandler

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--missing-only", action="store_true", help="Only CLs with no snapshot yet."
        )
        parser.add_argument(
            "--since",
            metavar="WHEN",
            help="Only CLs of runs created at or after WHEN (ISO date or date-time; UTC if no "
            "offset is given).",
        )
        parser.add_argument(
            "--concurrency", type=int, default=4, help="Requests in flight (default 4)."
        )
        parser.add_argument(
            "--qps", type=float, default=10.0, help="Requests started per second (default 10)."
        )
        parser.add_argument(
            "--retries", type=int, default=4, help="Retries of a transient failure (default 4)."
        )
        parser.add_argument(
            "--retry-delay",
            type=float,
            default=1.0,
            metavar="SECONDS",
            help="First wait before retrying; doubles each time (default 1).",
        )

    def make_source(self, options):
        return CLSource(
            projects=frozenset(options["project"]),
            missing_only=options["missing_only"],
            since=_parse_since(options["since"]) if options["since"] else None,
        )

    def make_handler(self, source, options):
        if options["concurrency"] < 1:
            raise CommandError("--concurrency must be at least 1")
        if options["qps"] <= 0:
            raise CommandError("--qps must be positive")
        return RefreshHandler(
            concurrency=options["concurrency"],
            qps=options["qps"],
            retries=max(0, options["retries"]),
            retry_delay=max(0.0, options["retry_delay"]),
        )


def _parse_since(text: str) -> datetime:
    try:
        value = parse_datetime(text)
    except ValueError:
        value = None
    if value is None:
        try:
            day = parse_date(text)
        except ValueError:
            day = None
        if day is None:
            raise CommandError(f"--since {text!r} is not an ISO date or date-time")
        value = datetime.combine(day, time())
    return value if value.tzinfo else value.replace(tzinfo=UTC)
