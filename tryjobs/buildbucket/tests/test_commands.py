"""manage.py poll_builds and the fake's own clockwork for `make run`."""

import io
import random
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from runs import clock
from tryjobs import operations
from tryjobs.buildbucket import tasks
from tryjobs.models import PeriodicTaskChain, TryjobStatus
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


def run_ready_tasks(monkeypatch) -> None:
    """What `manage.py db_worker` does with the tasks due now; the test's transaction stays."""
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)


def waiting_polls():
    return DBTaskResult.objects.filter(
        status="READY", task_path=tasks.poll_builds_periodically.module_path
    )


@pytest.mark.django_db
def test_the_periodic_poll_runs_and_schedules_its_next_run(fake_bb, monkeypatch):
    out = io.StringIO()
    call_command("poll_builds", "--schedule", "--every", "60", stdout=out)
    assert out.getvalue() == "build poll scheduled every 60s\n"
    [first] = waiting_polls()
    assert first.args_kwargs["args"] == [60.0]
    run_ready_tasks(monkeypatch)
    first.refresh_from_db()
    assert first.status == "SUCCESSFUL"
    [later] = waiting_polls()
    assert later.run_after >= clock.now() + timedelta(seconds=59)
    assert PeriodicTaskChain.objects.get().task_result_id == str(later.id)


@pytest.mark.django_db
def test_scheduling_the_poll_again_starts_no_second_chain(fake_bb, monkeypatch):
    call_command("poll_builds", "--schedule", "--every", "60", stdout=io.StringIO())
    [scheduled] = waiting_polls()
    out = io.StringIO()
    call_command("poll_builds", "--schedule", "--every", "30", stdout=out)
    assert out.getvalue() == (
        f"build poll already scheduled (task {scheduled.id}); it now runs every 30s\n"
    )
    assert list(waiting_polls()) == [scheduled]
    run_ready_tasks(monkeypatch)
    [later] = waiting_polls()
    assert later.args_kwargs["args"] == [30.0]
    assert later.run_after >= clock.now() + timedelta(seconds=29)
    # A run that failed, or has been RUNNING for over an hour (its worker was killed), is
    # dead: scheduling starts the chain anew; a run RUNNING for less is still the chain.
    DBTaskResult.objects.filter(id=later.id).update(status="FAILED")
    call_command("poll_builds", "--schedule", "--every", "60", stdout=io.StringIO())
    [renewed] = waiting_polls()
    assert PeriodicTaskChain.objects.get().task_result_id == str(renewed.id)
    a_while_ago = timezone.now() - tasks.RUNNING_AT_MOST + timedelta(minutes=1)
    DBTaskResult.objects.filter(id=renewed.id).update(status="RUNNING", started_at=a_while_ago)
    assert tasks.schedule_poll(60.0) == (False, PeriodicTaskChain.objects.get())
    too_long_ago = timezone.now() - tasks.RUNNING_AT_MOST - timedelta(minutes=1)
    DBTaskResult.objects.filter(id=renewed.id).update(started_at=too_long_ago)
    started, chain = tasks.schedule_poll(60.0)
    assert started and chain.task_result_id != str(renewed.id)


@pytest.mark.django_db
def test_chains_started_twice_before_the_fix_collapse_into_one(fake_bb, monkeypatch):
    # Two chains as `poll_builds --schedule` twice used to start them: no chain row.
    tasks.poll_builds_periodically.enqueue(60.0)
    tasks.poll_builds_periodically.enqueue(60.0)
    run_ready_tasks(monkeypatch)
    [survivor] = waiting_polls()
    assert PeriodicTaskChain.objects.get().task_result_id == str(survivor.id)
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 2
