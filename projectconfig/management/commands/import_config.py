"""`python manage.py import_config PROJECT FILE`: a commit-queue.cfg as PROJECT's next version."""

from django.core.management.base import BaseCommand, CommandError

from projectconfig import actions
from projectconfig.management.reading import read_text


class Command(BaseCommand):
    help = (
        "Validates FILE (a cv.config.Config in protobuf text format, i.e. a lucicfg-generated "
        "commit-queue.cfg) and stores it as PROJECT's next config version. Importing the "
        "content in force again changes nothing. A config with any error is refused whole, "
        "every error listed, and the version in force stays."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", metavar="PROJECT")
        parser.add_argument("file", metavar="FILE")

    def handle(self, *args, project: str, file: str, **options):
        text = read_text(file, "config")
        try:
            result = actions.import_config(project, text, source=file)
        except actions.ConfigRejected as e:
            raise CommandError(e.message) from e
        self.stdout.write(result.summary())
