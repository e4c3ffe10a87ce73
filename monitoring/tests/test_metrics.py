"""GET /metrics: off unless configured, bearer-protected, and what it counts."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from prometheus_client.parser import text_string_to_metric_families

from cvproto.migration import migration_pb2 as migration_pb
from migration_api.models import ApiToken
from runs.models import RunStatus
from runs.tasks import post_result_messages
from runs.tests.factories import make_run

pytestmark = pytest.mark.django_db(transaction=True)

SCRAPER = "scraper-secret"


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
