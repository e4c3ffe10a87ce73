"""Seeding the demo again: the same moment gives the same rows, a later day a fresh demo, and
nothing but the demo's rows is ever deleted. Small demos (a dozen generated runs) keep it quick.
"""

import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings
from django.utils import timezone
from django_tasks_db.management.commands import db_worker

from importers import demo, demo_script
from runs.models import CL, ReportedRunsSnapshot, Run, RunEvent, RunStatus
from runs.tests.factories import make_cl, make_run
from tryjobs.models import ExecutionLogEntry, Tryjob

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
RUNS = 12


@pytest.fixture(autouse=True)
def worker_keeps_the_test_transaction(monkeypatch):
    # The worker drops connections that are inside a transaction: the test's own, here.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)


def seed(now, **kwargs) -> demo.DemoSummary:
    return demo.seed_demo(now, run_count=RUNS, **kwargs)


def demo_rows() -> dict:
    """The demo's content without database IDs (which a replay does not reuse)."""
    runs = Run.objects.order_by("id")
    return {
        "runs": list(
            runs.values_list(
                "id", "status", "mode", "start_time", "end_time", "end_reason", "eversion"
            )
        ),
        "events": list(
            RunEvent.objects.order_by("run", "id").values_list(
                "run", "time", "actor", "kind", "from_status", "to_status", "detail"
            )
        ),
        "cls": [
            (host, change, patchset, bytes(info))
            for host, change, patchset, info in CL.objects.order_by("host", "change").values_list(
                "host", "change", "patchset", "info"
            )
        ],
        "tryjobs": list(
            Tryjob.objects.order_by("launched_by", "external_id").values_list(
                "launched_by", "status", "external_id", "untriggered_reason"
            )
        ),
        "log": list(
            ExecutionLogEntry.objects.order_by("run", "id").values_list(
                "run", "state_version", "kind"
            )
        ),
    }


def test_the_same_moment_gives_the_same_demo():
    first = seed(NOW)
    rows = demo_rows()
    assert len(rows["runs"]) >= RUNS and rows["tryjobs"]
    again = seed(NOW, reset=True)
    assert (first.status, again.status) == ("created", "refreshed")
    assert demo_rows() == rows


def test_a_later_day_replaces_yesterdays_demo():
    yesterday = seed(NOW - timedelta(days=1))
    assert yesterday.runs_by_status["RUNNING"] >= 1
    today = seed(NOW)
    assert today.status == "refreshed" and today.anchor == NOW
    assert today.deleted["runs.Run"] == sum(yesterday.runs_by_status.values())
    assert demo.demo_anchor() == NOW
    # Nothing left running from yesterday: whatever is active started within the hour.
    active = Run.objects.filter(status__in=RunStatus.active())
    assert active.exists()
    assert all(NOW - timedelta(hours=1) <= run.create_time <= NOW for run in active)
    oldest = Run.objects.order_by("create_time").first().create_time
    assert oldest >= NOW - demo_script.HISTORY


def test_later_the_same_day_the_demo_stays_as_it_is():
    morning = NOW.replace(hour=9, minute=0, second=0)
    seed(morning)
    before = demo_rows()
    later = seed(morning + timedelta(hours=8))
    assert later.status == "already present" and later.anchor == morning
    assert demo_rows() == before


def test_a_demo_whose_seeding_died_is_replayed_the_same_day():
    seed(NOW)
    # As if the seeding had died before the CQDaemons' last reports, chromium's first.
    ReportedRunsSnapshot.objects.filter(project="chromium").delete()
    assert demo.demo_anchor() is None
    replay = seed(NOW)
    assert replay.status == "refreshed" and demo.demo_anchor() == NOW


def test_only_the_demos_rows_are_deleted():
    other_cl = make_cl(host="chromium-review.googlesource.com")
    other_run = make_run("chromium")
    seed(NOW)
    replay = seed(NOW, reset=True)
    assert replay.deleted["runs.Run"] >= RUNS
    assert CL.objects.filter(pk=other_cl.pk).exists()
    assert Run.objects.filter(pk=other_run.pk).exists()


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        demo.seed_demo(NOW.replace(tzinfo=None))


def test_the_command_seeds_then_leaves_the_days_demo_alone():
    out = io.StringIO()
    call_command("seed_demo", "--runs", str(RUNS), stdout=out)
    assert "Runs by status: PENDING 2, RUNNING" in out.getvalue()
    assert "Demo created as of" in out.getvalue()
    assert Run.objects.count() >= RUNS
    out = io.StringIO()
    call_command("seed_demo", "--runs", str(RUNS), stdout=out)
    assert "Demo already present" in out.getvalue()
    out = io.StringIO()
    call_command("seed_demo", "--runs", str(RUNS), "--reset", stdout=out)
    assert "rows of the previous demo" in out.getvalue()
    assert "Demo refreshed" in out.getvalue()


# ensure_demo_admin ----------------------------------------------------------------------------


@override_settings(DEBUG=True)
def test_ensure_demo_admin_creates_a_superuser_who_can_log_in():
    out = io.StringIO()
    call_command("ensure_demo_admin", stdout=out)
    assert "Admin login: admin / cvsite-demo" in out.getvalue().splitlines()
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser and user.is_staff and user.is_active
    assert Client().login(username="admin", password="cvsite-demo")


@override_settings(DEBUG=True)
def test_ensure_demo_admin_resets_an_existing_user():
    User = get_user_model()
    User.objects.create_user("ops", password="old", is_active=False)
    out = io.StringIO()
    call_command("ensure_demo_admin", "--username", "ops", "--password", "new-pass", stdout=out)
    assert "Admin login: ops / new-pass" in out.getvalue().splitlines()
    assert User.objects.filter(username="ops").count() == 1
    assert Client().login(username="ops", password="new-pass")
    assert not Client().login(username="ops", password="old")


@override_settings(DEBUG=False)
def test_ensure_demo_admin_refuses_without_debug():
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("ensure_demo_admin", stdout=io.StringIO())
    assert not get_user_model().objects.filter(username="admin").exists()
