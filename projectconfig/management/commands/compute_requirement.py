"""`python manage.py compute_requirement --config CFG | --project P --run RUN_JSON`."""

import sys

from django.core.management.base import BaseCommand, CommandError
from google.protobuf import json_format

from projectconfig import actions
from projectconfig.compiled import CompiledConfig, requirement_for_run
from projectconfig.management.reading import read_text
from projectconfig.matcher import DifferentGroupsError, NoGroupError, SeveralGroupsError
from projectconfig.requirement import ComputationFailure, RequirementError, failure_message
from projectconfig.run_json import RunFileError, parse_run_file

# Exit codes: bad input (a file or a field) is 2, a run that gets no requirement is 3.
BAD_INPUT = 2
NO_REQUIREMENT = 3


class Command(BaseCommand):
    help = (
        "Computes the tryjob Requirement of the run described by RUN_JSON under a project "
        "config, as upstream CV would, and prints it as JSON. Exits 3 with the message CV "
        "would post when the run gets none (a failed computation, no config group or several "
        "for its CLs), 2 when a file or one of its fields is unusable."
    )

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--config", metavar="CFG_PATH", help="a commit-queue.cfg file")
        source.add_argument("--project", metavar="P", help="P's config version in force")
        parser.add_argument("--run", metavar="RUN_JSON_PATH", required=True)

    def fail(self, code: int, message: str):
        self.stderr.write(message)
        sys.exit(code)

    def read(self, path: str, what: str) -> str:
        try:
            return read_text(path, what)
        except CommandError as e:
            self.fail(BAD_INPUT, str(e))

    def compiled(self, config: str | None, project: str | None) -> CompiledConfig:
        if config is not None:
            try:
                return CompiledConfig(actions.parse_config(self.read(config, "config"), config))
            except actions.ConfigRejected as e:
                self.fail(BAD_INPUT, e.message)
        current = actions.current_config(project)
        if current is None:
            self.fail(BAD_INPUT, f"--project {project}: no config has been imported for it")
        return current[1]

    def handle(self, *args, config, project, run, **options):
        compiled = self.compiled(config, project)
        try:
            run_file = parse_run_file(self.read(run, "run"))
        except RunFileError as e:
            self.fail(BAD_INPUT, f"{run}: {e}")
        try:
            outcome = requirement_for_run(compiled, run_file.run).outcome
        except (NoGroupError, SeveralGroupsError, DifferentGroupsError) as e:
            self.fail(NO_REQUIREMENT, str(e))
        except RequirementError as e:
            self.fail(BAD_INPUT, f"{config or project}: {e}")
        if isinstance(outcome, ComputationFailure):
            self.fail(NO_REQUIREMENT, failure_message(outcome))
        self.stdout.write(json_format.MessageToJson(outcome))
