"""Enqueueing a durable task so that it runs only if the state change that needs it commits."""

from functools import partial

from django.db import transaction
from django_tasks.base import Task
from django_tasks_db import DatabaseBackend


def enqueue_after_commit(task: Task, *args, **kwargs) -> None:
    """Enqueues `task(*args, **kwargs)` for the current transaction's commit.

    django-tasks-db stores the task as a row of this transaction: it commits with the state
    change, or rolls back with it, and no crash between the two can lose it. Any other backend
    (a broker, say) knows nothing of the transaction, so it is handed the task once it commits.
    """
    if isinstance(task.get_backend(), DatabaseBackend):
        task.enqueue(*args, **kwargs)
    else:
        transaction.on_commit(partial(task.enqueue, *args, **kwargs))
