"""python manage.py create_api_token NAME --project P [--project P2 ...] | --all-projects"""

import re

from django.core.management.base import BaseCommand, CommandError

from migration_api.models import ApiToken

PROJECT_RE = re.compile(r"[a-z0-9][a-z0-9_-]*")


class Command(BaseCommand):
    help = (
        "Creates a Migration API token for a caller (e.g. one CQDaemon), scoped to LUCI "
        "projects. The token is printed once, alone on the last line; only its hash is kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="who will call with it, e.g. cqdaemon-chromium")
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument(
            "--project", action="append", dest="projects", help="a LUCI project it may touch"
        )
        scope.add_argument("--all-projects", action="store_true", help="every LUCI project")

    def handle(self, *args, name, projects, all_projects, **options):
        name = name.strip()
        if not name or len(name) > 100:
            raise CommandError("NAME must be 1 to 100 characters")
        for project in projects or ():
            if not PROJECT_RE.fullmatch(project):
                raise CommandError(
                    f"--project {project!r} is not a LUCI project name "
                    "(lowercase letters, digits, '-' and '_')"
                )
        row, token = ApiToken.issue(name, projects or [], all_projects=all_projects)
        self.stdout.write(f"Created API token {row.id} for {row.name!r}, scope: {row.scope}.")
        self.stdout.write("Store it now: it is not shown again.")
        self.stdout.write(token)
