"""`python manage.py import_groups FILE`: the LUCI group memberships owner allowlists use."""

from django.core.management.base import BaseCommand, CommandError

from projectconfig import groups
from projectconfig.management.reading import read_text


class Command(BaseCommand):
    help = (
        "Loads FILE, a JSON object mapping each LUCI group to the emails in it, as the group "
        "memberships builder and experiment owner allowlists are checked against (cvsite has "
        "no LUCI auth service). It replaces what an earlier import of the same FILE stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE")

    def handle(self, *args, file: str, **options):
        text = read_text(file, "groups")
        try:
            result = groups.import_groups(groups.parse_groups(text, file), source=file)
        except groups.GroupsRejected as e:
            raise CommandError(e.message) from e
        self.stdout.write(result.summary())
