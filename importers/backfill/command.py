"""BackfillCommand: a management command on the shared backfill mechanism.

Subclasses say what they read (`make_source`) and what a record means (`make_handler`); the
options, the progress output, the summary and the exit status are the same for every command:

  INPUT                 a file, `-` for standard input, `.gz` decompressed on the fly
                        (commands that read the database instead have no INPUT)
  --batch-size N        records per transaction
  --dry-run             parse and validate everything, write nothing
  --resume              continue after the last batch committed by an earlier run
  --limit N             stop after N records (resumable)
  --project P           only records of LUCI project P (repeatable)
  --rejects PATH        where bad records go (default: beside the input, `<input>.rejects`)
  --allow-rejects       exit 0 even when records were rejected
  --checkpoint NAME     name of the checkpoint (default: the command and the input's path)
  --progress-interval S seconds between progress lines when not on a terminal

Exit status: 0, or 3 when records were rejected (unless --allow-rejects), or 1 on an error.
"""

from django.core.management.base import BaseCommand, CommandError

from importers.backfill.core import BackfillError, Handler, Options, Source, Summary, run_backfill
from importers.backfill.source import FileSource

__all__ = ["REJECTS_EXIT_STATUS", "BackfillCommand"]

REJECTS_EXIT_STATUS = 3


class BackfillCommand(BaseCommand):
    takes_input = True
    handler_class: type[Handler] = Handler

    def add_arguments(self, parser):
        if self.takes_input:
            parser.add_argument("input", help="Input file; `-` reads standard input; .gz ok.")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=self.handler_class.default_batch_size,
            help="Records per transaction (default %(default)s).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Parse and validate everything (inside rolled-back transactions); write nothing.",
        )
        parser.add_argument(
            "--resume",
            action="store_true",
            help="Continue after the last batch an interrupted run of this input committed.",
        )
        parser.add_argument("--limit", type=int, help="Stop after this many records.")
        parser.add_argument(
            "--project",
            action="append",
            default=[],
            metavar="PROJECT",
            help="Only records of this LUCI project (repeat for several).",
        )
        parser.add_argument(
            "--rejects",
            metavar="PATH",
            help="Reject file: one JSON line per bad record, with its position and the reason "
            "(default: <input>.rejects).",
        )
        parser.add_argument(
            "--allow-rejects",
            action="store_true",
            help="Exit with status 0 even when records were rejected "
            f"(else {REJECTS_EXIT_STATUS}).",
        )
        parser.add_argument(
            "--checkpoint",
            metavar="NAME",
            help="Name of the checkpoint to keep or resume (default: command and input path).",
        )
        parser.add_argument(
            "--progress-interval",
            type=float,
            default=10.0,
            metavar="SECONDS",
            help="Seconds between progress lines when the output is not a terminal.",
        )

    def make_source(self, options) -> Source:
        try:
            return FileSource(options["input"])
        except OSError as e:
            raise CommandError(str(e)) from e

    def make_handler(self, source: Source, options) -> Handler:
        raise NotImplementedError

    def handle(self, *args, **options):
        source = self.make_source(options)
        handler = self.make_handler(source, options)
        run_options = Options(
            batch_size=options["batch_size"],
            dry_run=options["dry_run"],
            resume=options["resume"],
            limit=options["limit"],
            projects=frozenset(options["project"]),
            rejects_path=options["rejects"],
            checkpoint_name=options["checkpoint"],
            progress_interval=options["progress_interval"],
            show_progress=options["verbosity"] >= 1,
        )
        try:
            summary = run_backfill(
                handler, source, run_options, progress_stream=_Unterminated(self.stderr)
            )
        except BackfillError as e:
            raise CommandError(str(e)) from e
        self.report(summary, options)
        return None

    def report(self, summary: Summary, options) -> None:
        if options["verbosity"] >= 1:
            self.stdout.write("\n".join(summary.lines()))
        if summary.rejected and not options["allow_rejects"]:
            where = f"; see {summary.rejects_path}" if summary.rejects_path else ""
            raise CommandError(
                f"{summary.rejected:,} record(s) rejected{where} "
                "(--allow-rejects to exit with status 0 anyway)",
                returncode=REJECTS_EXIT_STATUS,
            )


class _Unterminated:
    """The command's stderr without Django's automatic newline: the bar redraws in place."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, style_func=str, ending="")  # not in the error colour

    def flush(self) -> None:
        self.wrapper.flush()

    def isatty(self) -> bool:
        return self.wrapper.isatty()
