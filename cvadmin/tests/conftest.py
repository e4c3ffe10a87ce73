"""The admin's tests browse a small demo, seeded once per module through `seed_demo`."""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.management.commands import db_worker

from migration_api.models import ApiCall, ApiToken, RefusedCalls
from runs import actions
from runs.models import Verifier


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """A small demo, seeded once for the module and rolled back after it."""
    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as patch:
        # The task worker drops connections that are inside a transaction: this one's, here.
        patch.setattr(db_worker, "close_old_connections", lambda: None)
        with transaction.atomic():
            call_command("seed_demo", "--runs", "12", verbosity=0)
            yield
            transaction.set_rollback(True)


@pytest.fixture
def operator_client(client, db, demo):
    actions.set_project_verifier("pdfium", Verifier.CVSITE, "op@example.com")
    token, _ = ApiToken.issue("cqdaemon-chromium", ["chromium"])
    ApiCall.objects.create(
        time=timezone.now(),
        token=token,
        caller=token.name,
        method="FetchActiveRuns",
        code="OK",
        duration_ms=12.5,
    )
    RefusedCalls.objects.create(
        minute=timezone.now().replace(second=0, microsecond=0),
        method="FetchActiveRuns",
        code="UNAUTHENTICATED",
        count=3,
    )
    user = User.objects.create_superuser("operator", "operator@example.com", "pw")
    client.force_login(user)
    return client
