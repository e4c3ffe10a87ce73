"""`python manage.py import_builds FILE`: Buildbucket builds (buildbucket.v2.Build JSON lines)."""

from importers.backfill.builds import DEFAULT_BUILDBUCKET_HOST, BuildHandler
from importers.backfill.command import BackfillCommand


class Command(BackfillCommand):
    help = (
        "Imports Buildbucket builds, one buildbucket.v2.Build in proto3 JSON per line: each "
        "updates or creates its tryjob (definition from the builder, status and result from the "
        "build, the recipe's cq output from its output properties), linked to its run by the "
        "build's CQ attempt key tag, or else by its Gerrit changes and patchsets. An older build "
        "record never overwrites a newer one. Options: see importers/backfill/command.py."
    )
    handler_class = BuildHandler

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--buildbucket-host",
            default=DEFAULT_BUILDBUCKET_HOST,
            help="Host of builds that do not say (infra.buildbucket.hostname); "
            "default %(default)s.",
        )

    def make_handler(self, source, options):
        return BuildHandler(default_host=options["buildbucket_host"])
