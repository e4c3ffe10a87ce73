"""`python manage.py import_attempts FILE`: CQDaemon attempts (bigquery.Attempt JSON lines)."""

from importers.backfill.attempts import AttemptHandler
from importers.backfill.command import BackfillCommand


class Command(BackfillCommand):
    help = (
        "Imports CQDaemon attempts, one bigquery.Attempt JSON object per line (proto3 JSON with "
        "either field-name style, or a BigQuery table export): each becomes a run with its CLs, "
        "its builds as tryjobs and the attempt kept verbatim. Re-importing is safe: a record "
        "only replaces an older record of the same attempt. "
        "Options: see importers/backfill/command.py."
    )
    handler_class = AttemptHandler

    def make_handler(self, source, options):
        return AttemptHandler(source_label=source.description)
