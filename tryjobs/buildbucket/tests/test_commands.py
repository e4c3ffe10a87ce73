"""manage.py poll_builds and the fake's own clockwork for `make run`."""

import io
import random
from datetime import timedelta

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from runs import clock
from tryjobs import operations
from tryjobs.buildbucket import tasks
from tryjobs.models import TryjobStatus
from tryjobs.tests.actions_support import cvsite_run, defn, latest_tryjob, requirement

SCHEDULED, STARTED, SUCCESS, INFRA_FAILURE = 1, 2, 12, 36


@pytest.mark.django_db
def test_poll_builds_stores_what_the_notifications_missed(fake_bb, slept):
    run = cvsite_run()
    operations.set_requirement(run.id, requirement(defn("linux")), "op")
    tryjob = latest_tryjob(run, 0)
    fake_bb.drop_pushes(99)
    fake_bb.end_build(int(tryjob.external_id.rsplit("/", 1)[1]), SUCCESS)
    out = io.StringIO()
    call_command("poll_builds", "--older-than", "0", stdout=out)
    assert out.getvalue() == "fetched 1 builds, 1 tryjobs changed, 0 failed\n"
    tryjob.refresh_from_db()
    assert tryjob.status == TryjobStatus.ENDED


def test_the_fake_moves_builds_along_its_clock(fake_bb):
    build = fake_bb.add_build(defn("linux").buildbucket.builder, [])
    # The fixture's clock moves a second per reading.
    fake_bb.advance(start_after=0, run_for=10**6, failing=0, rng=random.Random(1))
    assert fake_bb.builds[build.id].status == STARTED
    fake_bb.advance(start_after=0, run_for=0, failing=1, rng=random.Random(1))
    assert fake_bb.builds[build.id].status == INFRA_FAILURE


@pytest.mark.django_db
def test_the_periodic_poll_runs_and_schedules_its_next_run(fake_bb):
    call_command("poll_builds", "--schedule", "--every", "60", stdout=io.StringIO())
    [scheduled] = DBTaskResult.objects.filter(status="READY")
    assert scheduled.args_kwargs["args"] == [60.0]
    tasks.poll_builds_periodically.call(60.0)
    later = DBTaskResult.objects.filter(status="READY").exclude(id=scheduled.id).get()
    assert later.run_after >= clock.now() + timedelta(seconds=59)
