"""Durable tasks (django-tasks-db's results), with a superuser's retry of failed ones."""

import logging

from django.contrib import admin, messages
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from cvadmin.base import operator

logger = logging.getLogger(__name__)

admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class TaskResultAdmin(DBTaskResultAdmin):
    actions = ["retry_failed"]

    def has_retry_permission(self, request) -> bool:
        return request.user.is_superuser  # re-runs side effects (Gerrit posts, submissions)

    @admin.action(description="Retry the selected failed tasks", permissions=["retry"])
    def retry_failed(self, request, queryset):
        """Each failed task is enqueued again with its arguments; the failed row stays."""
        retried = []
        for result in queryset.failed().order_by("enqueued_at"):
            call = result.task_result
            result.task.enqueue(*call.args, **call.kwargs)
            retried.append(str(result.id))
            logger.info(
                "task %s (%s) retried by %s", result.id, result.task_path, operator(request)
            )
        self.message_user(
            request,
            f"Enqueued again {len(retried)} failed task(s): {', '.join(retried) or 'none'}.",
            messages.SUCCESS if retried else messages.WARNING,
        )
