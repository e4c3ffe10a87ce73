"""`python manage.py poll_builds`: fetches running Buildbucket builds whose news is overdue."""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from runs import clock
from tryjobs.buildbucket import poller, tasks
from tryjobs.buildbucket.backend import BuildbucketBackend


class Command(BaseCommand):
    help = (
        "Fetches the TRIGGERED Buildbucket tryjobs cvsite has heard nothing of for "
        "--older-than seconds (default BUILDBUCKET_POLL_AFTER_SECONDS) and stores what "
        "changed, waking the runs that watch them. --schedule instead starts a durable task "
        "that does so every --every seconds (run by manage.py db_worker); when that task is "
        "already scheduled, it only sets its interval."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=float, default=None, metavar="SECONDS")
        parser.add_argument("--limit", type=int, default=500)
        parser.add_argument("--schedule", action="store_true")
        parser.add_argument("--every", type=float, default=300.0, metavar="SECONDS")

    def handle(self, *args, older_than, limit, schedule, every, **options):
        if schedule:
            if every <= 0:
                raise CommandError("--every: must be a positive number of seconds")
            started, chain = tasks.schedule_poll(every)
            if started:
                self.stdout.write(f"build poll scheduled every {every:g}s")
            else:
                self.stdout.write(
                    f"build poll already scheduled (task {chain.task_result_id}); "
                    f"it now runs every {every:g}s"
                )
            return
        if older_than is None:
            older_than = settings.BUILDBUCKET_POLL_AFTER_SECONDS
        if older_than < 0 or limit <= 0:
            raise CommandError("--older-than must be >= 0 and --limit > 0")
        report = poller.poll_builds(
            BuildbucketBackend().fetch,
            now=clock.now(),
            older_than=timedelta(seconds=older_than),
            limit=limit,
        )
        self.stdout.write(
            f"fetched {report.fetched} builds, {len(report.changed)} tryjobs changed, "
            f"{len(report.failed)} failed"
        )
        for external_id, reason in report.failed.items():
            self.stderr.write(f"{external_id}: {reason}")
