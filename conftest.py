"""Fixtures shared by every app's tests."""

import pytest
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, settings

from gerrit.fake import fake_gerrit  # noqa: F401  (a fixture for every app's tests)

# Property tests judge their examples, never the clock: on a shared, loaded machine a per-example
# deadline or a "generation is slow" health check fails tests that are right.
settings.register_profile("cvsite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("cvsite")


@pytest.fixture
def gerrit(fake_gerrit, settings):  # noqa: F811
    """The fake Gerrit, with cvsite holding credentials for it (anonymous posts are refused)."""
    settings.GERRIT_AUTH = {fake_gerrit.host: "cvsite:secret"}
    return fake_gerrit


@pytest.fixture
def run_tasks(db, monkeypatch):
    """Runs every due task, as `manage.py db_worker` would; `including_delayed=True` also runs
    the ones waiting out a backoff (as if their time had come)."""
    from django_tasks_db.management.commands import db_worker
    from django_tasks_db.models import DBTaskResult

    # The worker drops connections that are inside a transaction: the test's own, here.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def run(including_delayed: bool = False) -> int:
        if including_delayed:
            DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
        before = DBTaskResult.objects.exclude(status="READY").count()
        call_command("db_worker", batch=True, startup_delay=False, queue_name="*", verbosity=0)
        return DBTaskResult.objects.exclude(status="READY").count() - before

    return run


@pytest.fixture(autouse=True)
def _forget_cached_api_tokens():
    """Each test's tokens are rolled back with it: so are the ones this process trusted."""
    from migration_api.auth import tokens

    tokens.clear()
    yield
    tokens.clear()
