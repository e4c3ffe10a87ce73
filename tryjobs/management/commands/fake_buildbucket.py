"""`python manage.py fake_buildbucket`: a fake Buildbucket for demos.

Serves Buildbucket's Builds pRPC service on 127.0.0.1:--port, runs the builds cvsite
schedules on the real clock (started after --start-after seconds, ended after --run-for, some
with an infra failure so retries show) and pushes each change to cvsite's push endpoint.
Point cvsite at it with TRYJOB_BACKEND=tryjobs.buildbucket.backend.BuildbucketBackend,
BUILDBUCKET_URL_OVERRIDES=<host>=http://127.0.0.1:<port> and the same BUILDBUCKET_PUSH_TOKEN.
"""

import random
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tryjobs.buildbucket.fake_server import FakeBuildbucket


class Command(BaseCommand):
    help = "Runs a fake Buildbucket on 127.0.0.1 that pushes build updates to cvsite."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument("--host-name", default="cr-buildbucket.appspot.com")
        parser.add_argument("--push-url", default="http://127.0.0.1:8000/pubsub/buildbucket")
        parser.add_argument("--start-after", type=float, default=5.0, metavar="SECONDS")
        parser.add_argument("--run-for", type=float, default=30.0, metavar="SECONDS")
        parser.add_argument("--failing", type=float, default=0.2, metavar="FRACTION")

    def handle(self, *args, port, host_name, push_url, start_after, run_for, failing, **options):
        if not settings.BUILDBUCKET_PUSH_TOKEN:
            raise CommandError("set BUILDBUCKET_PUSH_TOKEN: cvsite refuses pushes without it")
        if not 0 <= failing <= 1:
            raise CommandError("--failing: a fraction between 0 and 1")
        rng = random.Random()
        with FakeBuildbucket(
            host=host_name, port=port, push_url=push_url, push_token=settings.BUILDBUCKET_PUSH_TOKEN
        ) as fake:
            self.stdout.write(f"fake Buildbucket {host_name} at {fake.url}, pushing to {push_url}")
            try:
                while True:
                    fake.advance(start_after=start_after, run_for=run_for, failing=failing, rng=rng)
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
