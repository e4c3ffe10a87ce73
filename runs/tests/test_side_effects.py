"""Tasks run only if the transaction that enqueued them commits, on any task backend."""

import pytest
from django.db import transaction
from django.test import override_settings
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from runs import tasks
from runs.side_effects import enqueue_after_commit

# The site's backend, plus one that runs a task the moment it is handed one (as a broker's
# worker may), to stand for any backend outside the database.
WITH_A_BROKER = {
    "default": {"BACKEND": "django_tasks_db.DatabaseBackend"},
    "broker": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
}

ran: list[str] = []


def remember(value: str) -> None:
    ran.append(value)


class Abandoned(Exception):
    pass


@pytest.fixture
def brokered_task():
    ran.clear()
    with override_settings(TASKS=WITH_A_BROKER):
        yield task(backend="broker")(remember)


@pytest.mark.django_db
def test_a_database_task_is_written_in_the_enqueuing_transaction():
    with transaction.atomic():
        enqueue_after_commit(tasks.finish_verified_run, "chromium/1-1-feed")
        assert DBTaskResult.objects.get().args_kwargs["args"] == ["chromium/1-1-feed"]


@pytest.mark.django_db
def test_a_database_task_enqueued_in_a_transaction_that_rolls_back_never_exists():
    with pytest.raises(Abandoned), transaction.atomic():
        enqueue_after_commit(tasks.finish_verified_run, "chromium/1-1-feed")
        raise Abandoned
    assert not DBTaskResult.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_another_backend_is_handed_the_task_once_the_transaction_commits(brokered_task):
    with transaction.atomic():
        enqueue_after_commit(brokered_task, "verdict")
        assert ran == []
    assert ran == ["verdict"]


@pytest.mark.django_db(transaction=True)
def test_another_backend_never_sees_a_task_of_a_transaction_that_rolls_back(brokered_task):
    with pytest.raises(Abandoned), transaction.atomic():
        enqueue_after_commit(brokered_task, "verdict")
        raise Abandoned
    assert ran == []
