"""`python manage.py run_executor RUN_ID`: one executor pass over a run's latest tryjobs."""

from django.core.management.base import BaseCommand, CommandError

from runs.errors import ActionError
from tryjobs.operations import run_executor


class Command(BaseCommand):
    help = (
        "Runs the tryjob executor once for a run of a cvsite-verified project, over the latest "
        "stored state of every tryjob its attempts use and any pending tryjob events: retries, "
        "reuses and launches what the rules ask for, and ends or advances the run when the "
        "execution has ended."
    )

    def add_arguments(self, parser):
        parser.add_argument("run_ids", metavar="RUN_ID", nargs="+")
        parser.add_argument(
            "--actor", default="command:run_executor", help="who, in the run's history"
        )

    def handle(self, *args, run_ids: list[str], actor: str, **options):
        failed = []
        for run_id in run_ids:
            try:
                result = run_executor(run_id, actor)
            except ActionError as e:
                self.stderr.write(f"run {run_id}: {e.message}")
                failed.append(run_id)
                continue
            self.stdout.write(result.summary())
        if failed:
            raise CommandError(f"{len(failed)} of {len(run_ids)} runs failed: {', '.join(failed)}")
