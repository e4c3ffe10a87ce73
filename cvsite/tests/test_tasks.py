"""cvsite.tasks: django-tasks-db's backend, with task rows inserted like a call's other rows."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks import task_backends
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from cvsite.db import inserts_deferred
from cvsite.tasks import InsertLaterDatabaseBackend
from runs import tasks

pytestmark = pytest.mark.django_db

STOCK = DatabaseBackend("default", {})


def stored(result) -> dict:
    """The row a task result was written as, but for what differs between any two rows."""
    row = DBTaskResult.objects.get(id=result.id)
    return {
        field.attname: getattr(row, field.attname)
        for field in DBTaskResult._meta.concrete_fields
        if field.attname not in ("id", "enqueued_at")
    }


def test_the_site_enqueues_with_this_backend():
    assert isinstance(task_backends["default"], InsertLaterDatabaseBackend)


@pytest.mark.parametrize(
    "options",
    [{}, {"run_after": timedelta(minutes=5)}, {"priority": 10, "queue_name": "default"}],
    ids=["plain", "delayed", "prioritised"],
)
def test_a_task_row_is_the_one_django_tasks_db_writes(options):
    if "run_after" in options:
        options = {"run_after": timezone.now() + options["run_after"]}
    task = tasks.submit_run.using(**options)

    ours = stored(task.enqueue("chromium/1-1-feed", attempt=2))
    theirs = stored(STOCK.enqueue(task, ["chromium/1-1-feed"], {"attempt": 2}))

    assert ours == theirs


def test_a_task_enqueued_in_a_deferred_block_is_written_with_the_block_s_rows():
    with inserts_deferred():
        result = tasks.finish_verified_run.enqueue("chromium/1-1-feed")
        assert not DBTaskResult.objects.exists()
    assert str(DBTaskResult.objects.get().id) == result.id
    assert DBTaskResult.objects.ready().count() == 1  # the worker would take it now


def test_a_task_enqueued_elsewhere_is_written_at_once():
    result = tasks.finish_verified_run.enqueue("chromium/1-1-feed")
    assert str(DBTaskResult.objects.get().id) == result.id
