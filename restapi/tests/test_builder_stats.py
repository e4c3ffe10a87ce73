"""GET /api/v1/builders/{project}/{bucket}/{builder}/stats/: the rates as the schema defines."""

from datetime import timedelta

import pytest
from django.utils import timezone

from restapi.tests.conftest import make_tryjob
from runs.tests.factories import make_run
from tryjobs.models import ResultStatus, TryjobStatus

pytestmark = pytest.mark.django_db
URL = "/api/v1/builders/chromium/try/linux-rel/stats/"


def test_failure_and_flake_rates(chromium_client):
    now = timezone.now()
    at = [now - timedelta(hours=5 - i) for i in range(5)]
    flaky, failing, passing = make_run(), make_run(), make_run()
    # flaky: failed, then succeeded on retry; failing: succeeded first, failed later (no flake).
    make_tryjob(result=ResultStatus.FAILED_TRANSIENTLY, launched_by=flaky, create_time=at[0])
    make_tryjob(launched_by=flaky, create_time=at[1])
    make_tryjob(launched_by=failing, create_time=at[0])
    make_tryjob(result=ResultStatus.TIMEOUT, launched_by=failing, create_time=at[2])
    make_tryjob(launched_by=passing, create_time=at[3])
    # Counted nowhere: not ended, another builder, outside the window.
    make_tryjob(
        TryjobStatus.TRIGGERED, ResultStatus.UNKNOWN, launched_by=passing, create_time=at[4]
    )
    make_tryjob(builder="mac-rel", result=ResultStatus.FAILED_PERMANENTLY, create_time=at[4])
    make_tryjob(result=ResultStatus.FAILED_PERMANENTLY, create_time=now - timedelta(days=2))

    body = chromium_client.get(URL, {"window": "24h", "recent": 2}).json()
    assert body["ended"] == 5
    assert body["results"]["SUCCEEDED"] == 3 and body["results"]["TIMEOUT"] == 1
    assert body["failure_rate"] == pytest.approx(2 / 5)
    assert (body["runs"], body["flaky_runs"]) == (3, 1)
    assert body["flake_rate"] == pytest.approx(1 / 3)
    assert [t["result_status"] for t in body["recent"]] == ["SUCCEEDED", "TIMEOUT"]
    assert chromium_client.get(URL, {"window": "7d"}).json()["ended"] == 6


def test_rates_are_null_without_ended_tryjobs(chromium_client):
    body = chromium_client.get(URL).json()
    assert body["ended"] == 0 and body["failure_rate"] is None and body["flake_rate"] is None
    assert body["window"] == "7d"


def test_other_projects_builders_are_not_found(chromium_client):
    make_tryjob(project="v8")
    assert chromium_client.get("/api/v1/builders/v8/try/linux-rel/stats/").status_code == 404


@pytest.mark.parametrize("tryjobs", [1, 20])
def test_queries_are_constant(chromium_client, django_assert_num_queries, tryjobs):
    for _ in range(tryjobs):
        make_tryjob(launched_by=make_run(), create_time=timezone.now())
    with django_assert_num_queries(5):  # token, by result, runs, flaky runs, recent
        assert chromium_client.get(URL).json()["ended"] == tryjobs
