"""`python manage.py seed_demo [--reset]`: a living demo dataset for the admin and the API."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from importers.demo import DemoStoryError, DemoSummary, seed_demo


class Command(BaseCommand):
    help = (
        "Creates the cvsite demo: LUCI projects, CLs, runs in every status and mode, tryjobs, "
        "execution states and logs, CQDaemon reports, fake netrc tokens. Deterministic for a "
        "given time and idempotent: when the demo is present nothing is written. Everything "
        "happens in one transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the rows of a previous demo (and only those) first, then recreate it.",
        )

    def handle(self, *args, reset: bool = False, **options):
        verbosity = options["verbosity"]
        now = timezone.now()

        def progress(message: str) -> None:
            if verbosity >= 1:
                self.stdout.write(f"  {message}")

        if verbosity >= 1:
            self.stdout.write(
                f"Seeding the cvsite demo as of {now:%Y-%m-%d %H:%M:%S} UTC"
                + (" (reset)" if reset else "")
            )
        try:
            summary = seed_demo(now, reset=reset, progress=progress)
        except DemoStoryError as e:
            raise CommandError(f"the demo script contradicts CV's rules: {e}") from e
        if verbosity >= 1:
            self.report(summary)

    def report(self, summary: DemoSummary) -> None:
        if summary.deleted:
            deleted = ", ".join(f"{label} {n}" for label, n in summary.deleted.items())
            self.stdout.write(
                f"Deleted {sum(summary.deleted.values())} rows of the previous demo: {deleted}"
            )
        if summary.already_present:
            self.stdout.write(
                self.style.WARNING(
                    "The demo is already present (its CLs exist): nothing was created. "
                    "Use --reset to recreate it as of now."
                )
            )
        width = max(len(label) for label in summary.present)
        self.stdout.write("")
        self.stdout.write(f"{'model':<{width}}  {'created':>7}  {'in demo':>7}")
        self.stdout.write(f"{'-' * width}  {'-' * 7}  {'-' * 7}")
        for label, present in summary.present.items():
            self.stdout.write(f"{label:<{width}}  {summary.created[label]:>7}  {present:>7}")
        self.stdout.write(f"{'-' * width}  {'-' * 7}  {'-' * 7}")
        self.stdout.write(
            f"{'total':<{width}}  {summary.total_created:>7}  {sum(summary.present.values()):>7}"
        )
        self.stdout.write("")
        for title, counts in (
            ("Runs by status", summary.runs_by_status),
            ("Runs by mode", summary.runs_by_mode),
            ("Tryjobs by status", summary.tryjobs_by_status),
        ):
            self.stdout.write(f"{title}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        for note in summary.notes:
            self.stdout.write(self.style.WARNING(f"Note: {note}"))
        self.stdout.write(
            self.style.SUCCESS(f"Demo {summary.status}.")
            + " Browse it in the admin; `python manage.py ensure_demo_admin` gives a login."
        )
