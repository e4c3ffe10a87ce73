"""`python manage.py seed_demo [--reset]`: a living demo, written by the service itself."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from importers.demo import RUN_COUNT, DemoError, DemoSummary, seed_demo


class Command(BaseCommand):
    help = (
        "Makes the cvsite demo current: a few days of runs over four LUCI projects, played "
        "through cvsite's own actions, executor (with a fake Buildbucket), tasks (with a fake "
        "Gerrit) and Migration API (as CQDaemon calls it), up to now. A demo seeded earlier "
        "today is left alone; one of an earlier day is deleted and replayed. Deterministic for "
        "a given time."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Replay the demo even if the present one is of today (its rows, and only "
            "those, are deleted first).",
        )
        parser.add_argument(
            "--runs",
            type=int,
            default=RUN_COUNT,
            help="How many runs to generate besides the recent ones (default %(default)s); "
            "fewer seed quicker, e.g. for a test.",
        )

    def handle(self, *args, reset: bool = False, runs: int = RUN_COUNT, **options):
        verbosity = options["verbosity"]
        now = timezone.now()

        def progress(message: str) -> None:
            if verbosity >= 1:
                self.stdout.write(f"  {message}")

        if verbosity >= 1:
            self.stdout.write(f"Seeding the cvsite demo as of {now:%Y-%m-%d %H:%M:%S} UTC")
        try:
            summary = seed_demo(now, reset=reset, run_count=runs, progress=progress)
        except DemoError as e:
            raise CommandError(f"the service refused the demo script: {e}") from e
        if verbosity >= 1:
            self.report(summary)

    def report(self, summary: DemoSummary) -> None:
        if summary.deleted:
            deleted = ", ".join(f"{label} {n}" for label, n in summary.deleted.items())
            self.stdout.write(
                f"Deleted {sum(summary.deleted.values())} rows of the previous demo: {deleted}"
            )
        width = max(len(label) for label in summary.present)
        self.stdout.write("")
        for label, present in summary.present.items():
            self.stdout.write(f"{label:<{width}}  {present:>7}")
        self.stdout.write("")
        for title, counts in (
            ("Runs by status", summary.runs_by_status),
            ("Runs by mode", summary.runs_by_mode),
            ("Runs by project", summary.runs_by_project),
            ("Tryjobs by status", summary.tryjobs_by_status),
        ):
            self.stdout.write(f"{title}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        anchor = f" as of {summary.anchor:%Y-%m-%d %H:%M} UTC" if summary.anchor else ""
        self.stdout.write(
            self.style.SUCCESS(f"Demo {summary.status}{anchor}.")
            + " Browse it in the admin; `python manage.py ensure_demo_admin` gives a login."
        )
