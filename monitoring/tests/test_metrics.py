"""GET /metrics: off unless configured, bearer-protected, and what it counts."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from cvproto.migration import migration_pb2 as migration_pb
from migration_api.models import ApiToken
from runs.lifecycle import lock_run, set_status
from runs.models import RunStatus
from runs.tasks import post_result_messages
from runs.tests.factories import make_run
from tryjobs import operations
from tryjobs.passes import count_log_entries
from tryjobs.tests import actions_support
from tryjobs.tests.actions_support import cvsite_run, defn, requirement

pytestmark = pytest.mark.django_db(transaction=True)

SCRAPER = "scraper-secret"

# Fixtures.
backend = actions_support.backend


def scrape(client, token=SCRAPER):
    return client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")


def samples(response) -> dict[tuple, float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_metrics_do_not_exist_without_a_token_setting(client, settings):
    settings.METRICS_BEARER_TOKEN = ""
    assert scrape(client).status_code == 404


def test_a_scraper_without_the_token_is_refused(client, settings):
    settings.METRICS_BEARER_TOKEN = SCRAPER
    assert client.get("/metrics").status_code == 401
    refused = scrape(client, "guess")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == "Bearer"


def test_calls_runs_and_the_task_queue_are_counted(client, settings):
    settings.METRICS_BEARER_TOKEN = SCRAPER
    make_run(project="chromium")
    make_run(project="chromium")
    make_run(project="v8", status=RunStatus.WAITING_FOR_SUBMISSION)
    make_run(project="v8", status=RunStatus.SUCCEEDED)
    post_result_messages.enqueue("chromium/1-1-a")
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(minutes=5))
    _, token = ApiToken.issue("cqdaemon", ["chromium"])
    before = samples(scrape(client))
    call = (
        "prpc_calls_total",
        (("code", "OK"), ("method", "FetchActiveRuns"), ("service", "migration.Migration")),
    )
    answered = client.post(
        "/prpc/migration.Migration/FetchActiveRuns",
        data=migration_pb.FetchActiveRunsRequest(luci_project="chromium").SerializeToString(),
        content_type="application/prpc; encoding=binary",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert answered.status_code == 200

    after = samples(scrape(client))
    assert after[call] == before.get(call, 0) + 1
    assert after[("cvsite_active_runs", (("project", "chromium"), ("status", "RUNNING")))] == 2
    assert (
        after[("cvsite_active_runs", (("project", "v8"), ("status", "WAITING_FOR_SUBMISSION")))]
        == 1
    )
    assert not [key for key in after if key[0] == "cvsite_active_runs" and "SUCCEEDED" in str(key)]
    assert after[("cvsite_task_queue_depth", (("queue", "default"),))] == 1
    assert after[("cvsite_task_queue_oldest_age_seconds", (("queue", "default"),))] >= 300


def counted(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0


def test_run_status_changes_are_counted_once_they_commit():
    run = make_run(project="metrics-proj")
    labels = {"project": "metrics-proj", "status": "CANCELLED"}
    before = counted("cvsite_run_status_changes_total", **labels)
    with pytest.raises(RuntimeError), transaction.atomic():
        set_status(lock_run(run.id), RunStatus.CANCELLED, "test", "rolled back")
        raise RuntimeError("undo")
    assert counted("cvsite_run_status_changes_total", **labels) == before
    with transaction.atomic():
        set_status(lock_run(run.id), RunStatus.CANCELLED, "test", "for real")
    assert counted("cvsite_run_status_changes_total", **labels) == before + 1


def test_executor_log_entries_and_their_tryjobs_are_counted():
    launched = tryjob_pb.ExecutionLogEntry()
    launched.tryjobs_launched.tryjobs.add(id=1)
    launched.tryjobs_launched.tryjobs.add(id=2)
    denied = tryjob_pb.ExecutionLogEntry()
    denied.retry_denied.reason = "quota"
    entries_before = counted(
        "cvsite_executor_log_entries_total", project="p", kind="tryjobs_launched"
    )
    tryjobs_before = counted("cvsite_executor_tryjobs_total", project="p", kind="launched")
    count_log_entries("p", [launched, denied])
    assert counted("cvsite_executor_log_entries_total", project="p", kind="tryjobs_launched") == (
        entries_before + 1
    )
    assert counted("cvsite_executor_tryjobs_total", project="p", kind="launched") == (
        tryjobs_before + 2
    )
    assert counted("cvsite_executor_log_entries_total", project="p", kind="retry_denied") >= 1


def test_each_launch_is_timed_once_and_a_pass_launching_nothing_is_not(backend):
    run = cvsite_run(project="launch-timing")
    labels = {"project": "launch-timing"}
    count = "cvsite_tryjob_launch_duration_seconds_count"
    total = "cvsite_tryjob_launch_duration_seconds_sum"
    wanted = requirement(*(defn(f"builder-{i}") for i in range(3)))
    operations.set_requirement(run.id, wanted, "test")
    assert [len(call) for call in backend.launch_calls] == [3]
    assert counted(count, **labels) == 1
    assert counted(total, **labels) > 0
    # The same requirement again: every definition has its tryjob, nothing is launched.
    operations.set_requirement(run.id, wanted, "test")
    assert len(backend.launch_calls) == 1
    assert counted(count, **labels) == 1
