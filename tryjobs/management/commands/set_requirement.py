"""`python manage.py set_requirement RUN_ID FILE`: give a run a new tryjob requirement."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from runs.errors import ActionError
from tryjobs.operations import set_requirement
from tryjobs.requirements import format_of, parse_requirement


class Command(BaseCommand):
    help = (
        "Sets the tryjob requirement of a RUNNING run of a cvsite-verified project and runs "
        "the executor: the requirement version goes up by one, added definitions are reused "
        "or launched at once, removed ones are discarded. FILE holds a "
        "cv.internal.tryjob.Requirement in protobuf text format or JSON ('-' reads standard "
        "input); the format comes from --format, else the extension (.json; .txtpb, "
        ".textproto, .pbtxt, .prototxt), else the content (JSON starts with '{')."
    )

    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("run_id", metavar="RUN_ID")
        parser.add_argument("file", metavar="FILE")
        parser.add_argument("--format", choices=["text", "json"], default=None)
        parser.add_argument(
            "--actor", default="command:set_requirement", help="who, in the run's history"
        )

    def handle(self, *args, run_id: str, file: str, format: str | None, actor: str, **options):
        if file == "-":
            data = (options.get("stdin") or sys.stdin).read()
            source = "<stdin>"
        else:
            path = Path(file)
            try:
                data = path.read_bytes()
            except OSError as e:
                raise CommandError(f"{file}: cannot read the requirement: {e.strerror}") from e
            source = file
            format = format or format_of(file)
        try:
            requirement = parse_requirement(data, format, source)
            result = set_requirement(run_id, requirement, actor)
        except ActionError as e:
            raise CommandError(e.message) from e
        self.stdout.write(result.summary())
