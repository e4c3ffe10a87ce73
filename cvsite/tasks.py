"""The task backend: django-tasks-db's, with each task row written like the other rows of the
call that enqueues it.

A task enqueued inside an `inserts_deferred()` block (a Migration API call, say) is inserted
with that block's rows, in the same round trip, instead of on its own; elsewhere it is inserted
at once, as django-tasks-db does. Either way it is written in the enqueuing transaction, so it
is durable exactly when the state change that needs it is.
"""

from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import pre_save
from django_tasks.utils import normalize_json
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from cvsite.db import insert_later


class InsertLaterDatabaseBackend(DatabaseBackend):
    # The one method django-tasks-db (pinned in requirements.txt) writes the row in; the row
    # is built from the same values. tests/test_tasks.py compares it with the stock backend's.
    def _task_to_db_task(self, task, args, kwargs) -> DBTaskResult:
        row = DBTaskResult(
            id=self._get_id(),
            args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            run_after=task.run_after,
            backend_name=self.alias,
        )
        # insert_later sends no signals, and django-tasks-db fills run_after in a pre_save one.
        pre_save.send(
            DBTaskResult, instance=row, raw=False, using=DEFAULT_DB_ALIAS, update_fields=None
        )
        insert_later(row)
        return row
