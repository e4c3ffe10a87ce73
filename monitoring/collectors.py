"""Gauges read from the database when Prometheus scrapes: the same in every process, so they
are not kept per process (what the counters of prpc, gerrit, runs and tryjobs are)."""

from collections.abc import Iterator

from django.db.models import Count, Min
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from runs.models import Run, RunStatus


class DatabaseGauges(Collector):
    """Active runs by project and status; the task queue's depth and the age of its oldest
    due task, by queue."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        active = GaugeMetricFamily(
            "cvsite_active_runs",
            "Runs not ended yet, by project and status",
            None,
            ["project", "status"],
        )
        rows = (
            Run.objects.filter(status__in=RunStatus.active())
            .values("project", "status")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in rows:
            active.add_metric([row["project"], RunStatus(row["status"]).name], row["n"])
        yield active

        depth = GaugeMetricFamily(
            "cvsite_task_queue_depth",
            "Tasks due to run and not started, by queue",
            labels=["queue"],
        )
        oldest = GaugeMetricFamily(
            "cvsite_task_queue_oldest_age_seconds",
            "How long the oldest due task has waited, by queue",
            labels=["queue"],
        )
        now = timezone.now()
        due = (
            DBTaskResult.objects.ready()
            .values("queue_name")
            .annotate(n=Count("id"), since=Min("enqueued_at"))
            .order_by()
        )
        for row in due:
            depth.add_metric([row["queue_name"]], row["n"])
            oldest.add_metric([row["queue_name"]], (now - row["since"]).total_seconds())
        yield depth
        yield oldest
