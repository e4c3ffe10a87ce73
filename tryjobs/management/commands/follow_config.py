"""`python manage.py follow_config PROJECT | --run RUN_ID ...`: requirements from the config."""

from django.core.management.base import BaseCommand, CommandError

from runs.errors import ActionError
from runs.models import Run, RunStatus
from tryjobs import operations


class Command(BaseCommand):
    help = (
        "Computes the tryjob requirement of running runs of cvsite-verified projects from "
        "their project's config version in force and hands it to the executor: a run without "
        "a requirement starts on it, a run on an older version follows the new one (an equal "
        "requirement changes nothing), a failure ends the run with its message on the CLs. "
        "What a new config version triggers by itself; use it to start runs or to catch up."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", nargs="?", metavar="PROJECT", help="every running run")
        parser.add_argument("--run", action="append", default=[], metavar="RUN_ID")
        parser.add_argument("--actor", default="command:follow_config")

    def handle(self, *args, project: str | None, run: list[str], actor: str, **options):
        if bool(project) == bool(run):
            raise CommandError("give either PROJECT or one or more --run RUN_ID")
        if project:
            running = Run.objects.filter(project=project, status=RunStatus.RUNNING)
            run = list(running.order_by("id").values_list("id", flat=True))
        try:
            outcomes = operations.follow_config(run, actor)
        except ActionError as e:
            raise CommandError(e.message) from e
        for outcome in outcomes:
            self.stdout.write(outcome.summary())
        self.stdout.write(f"{len(outcomes)} run(s)")
