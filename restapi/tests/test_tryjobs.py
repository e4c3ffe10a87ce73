"""GET /api/v1/tryjobs/ and /api/v1/tryjobs/{id}/."""

from datetime import timedelta

import pytest

from restapi.tests.conftest import make_full_run, make_tryjob, token_client
from runs.tests.factories import BASE_TIME, make_run
from tryjobs.models import ResultStatus, TryjobStatus

pytestmark = pytest.mark.django_db


def tryjob_ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [tryjob["id"] for tryjob in response.json()["results"]]


def test_lists_tryjobs_newest_first(chromium_client):
    first, second = make_tryjob(), make_tryjob()
    assert tryjob_ids(chromium_client.get("/api/v1/tryjobs/")) == [second.id, first.id]


def test_a_tryjob_shows_its_definition_result_and_runs(chromium_client):
    launcher, reuser = make_run(), make_run()
    tryjob = make_tryjob(launched_by=launcher)
    tryjob.reused_by.add(reuser)
    body = chromium_client.get(f"/api/v1/tryjobs/{tryjob.id}/").json()
    assert body["status"] == "ENDED" and body["result_status"] == "SUCCEEDED"
    assert body["builder"] == "chromium/try/linux-rel"
    assert body["definition"]["buildbucket"]["builder"]["builder"] == "linux-rel"
    assert body["result"]["status"] == "SUCCEEDED"
    assert body["launched_by"] == launcher.id and body["reused_by"] == [reuser.id]


def test_runs_of_other_projects_are_not_named(chromium_client):
    tryjob = make_tryjob(launched_by=make_run("v8"))
    tryjob.reused_by.add(make_run("v8"))
    body = chromium_client.get(f"/api/v1/tryjobs/{tryjob.id}/").json()
    assert body["launched_by"] is None and body["reused_by"] == []


@pytest.mark.parametrize(
    "query, expected",
    [
        ("builder_project=chromium&builder_bucket=try&builder_name=mac-rel", ["mac"]),
        ("builder_name=linux-rel", ["pending", "failed"]),
        ("status=PENDING", ["pending"]),
        ("status=PENDING&status=ENDED", ["mac", "pending", "failed"]),
        ("result=FAILED_TRANSIENTLY", ["failed"]),
        ("result=SUCCEEDED&result=FAILED_TRANSIENTLY", ["mac", "failed"]),
        ("created_after=2026-01-05T13:00:00Z", ["mac", "pending"]),
        ("created_before=2026-01-05T13:00:00Z", ["failed"]),
    ],
)
def test_filters(chromium_client, query, expected):
    rows = {
        "failed": make_tryjob(result=ResultStatus.FAILED_TRANSIENTLY),
        "pending": make_tryjob(
            TryjobStatus.PENDING, None, create_time=BASE_TIME + timedelta(hours=1)
        ),
        "mac": make_tryjob(builder="mac-rel", create_time=BASE_TIME + timedelta(hours=2)),
    }
    names = {row.id: name for name, row in rows.items()}
    found = tryjob_ids(chromium_client.get(f"/api/v1/tryjobs/?{query}"))
    assert [names[i] for i in found] == expected


def test_filters_by_external_id_and_run(chromium_client):
    run = make_full_run(tryjobs=2)
    launched = sorted(run.launched_tryjobs.values_list("id", flat=True))
    reused = list(run.reused_tryjobs.values_list("id", flat=True))
    make_tryjob()
    found = tryjob_ids(chromium_client.get("/api/v1/tryjobs/", {"run": run.id}))
    assert sorted(found) == sorted(launched + reused)
    first = run.launched_tryjobs.get(id=launched[0])
    found = tryjob_ids(chromium_client.get("/api/v1/tryjobs/", {"external_id": first.external_id}))
    assert found == [first.id]


def test_a_token_sees_only_builders_of_its_projects(chromium_client):
    mine, theirs = make_tryjob(), make_tryjob(project="v8")
    assert tryjob_ids(chromium_client.get("/api/v1/tryjobs/")) == [mine.id]
    assert chromium_client.get(f"/api/v1/tryjobs/{theirs.id}/").status_code == 404
    assert token_client("v8").get(f"/api/v1/tryjobs/{theirs.id}/").status_code == 200


@pytest.mark.parametrize("reusers", [1, 10])
def test_list_queries_are_constant(chromium_client, django_assert_num_queries, reusers):
    for _ in range(5):
        tryjob = make_tryjob()
        tryjob.reused_by.add(*[make_run() for _ in range(reusers)])
    # token, tryjobs, the runs that reused them
    with django_assert_num_queries(3):
        assert len(tryjob_ids(chromium_client.get("/api/v1/tryjobs/"))) == 5
