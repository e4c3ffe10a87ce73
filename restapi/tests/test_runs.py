"""GET /api/v1/runs/ and /api/v1/runs/{id}/."""

from datetime import timedelta

import pytest

from restapi.tests.conftest import GERRIT_HOST, add_cls, make_cl, make_full_run, token_client
from runs.models import ProjectVerifier, RunStatus, Verifier
from runs.tests.factories import BASE_TIME, make_run
from runs.tests.identifier_cases import (
    CL_FORMS,
    NOT_CL_FORMS,
    Refused,
    case_id,
    host_and_change,
)

pytestmark = pytest.mark.django_db


def run_ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [run["id"] for run in response.json()["results"]]


def test_lists_runs_newest_first_across_projects(chromium_client):
    client = token_client(all_projects=True)
    older = make_run("v8", create_time=BASE_TIME)
    newer = make_run("chromium", create_time=BASE_TIME + timedelta(hours=1))
    assert run_ids(client.get("/api/v1/runs/")) == [newer.id, older.id]


def test_a_run_shows_its_cls_tryjobs_execution_state_and_log(chromium_client):
    run = make_full_run(cls=2, tryjobs=2)
    response = chromium_client.get(f"/api/v1/runs/{run.id}/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == run.id and body["status"] == "RUNNING"
    assert [cl["position"] for cl in body["cls"]] == [0, 1]
    assert body["cls"][0]["run_cl"]["gc"]["host"] == GERRIT_HOST
    assert body["cls"][0]["run_cl"]["trigger"]["accountId"] == "42"  # proto3 JSON int64
    assert sorted(t["reused"] for t in body["tryjobs"]) == [False, False, True]
    assert body["tryjobs"][0]["definition"]["buildbucket"]["builder"]["builder"] == "b0"
    assert body["execution_state"]["status"] == "RUNNING"
    assert len(body["execution_state"]["executions"]) == 2
    assert body["execution_state_version"] == 1
    assert [list(e) for e in body["execution_log"]] == [["time", "requirementChanged"]] * 2


def test_the_run_id_may_be_sent_with_an_encoded_slash(chromium_client):
    run = make_run()
    encoded = run.id.replace("/", "%2F")
    assert chromium_client.get(f"/api/v1/runs/{encoded}/").json()["id"] == run.id


def test_a_run_without_execution_state_has_null(chromium_client):
    run = make_run()
    body = chromium_client.get(f"/api/v1/runs/{run.id}/").json()
    assert body["execution_state"] is None and body["execution_state_version"] == 0
    assert body["tryjobs"] == [] and body["execution_log"] == []


@pytest.mark.parametrize(
    "query, expected",
    [
        ("status=RUNNING", ["running"]),
        ("status=SUCCEEDED&status=FAILED", ["failed", "succeeded"]),
        ("mode=FULL_RUN", ["succeeded"]),
        ("owner=a@example.com", ["failed"]),
        ("created_after=2026-01-05T14:00:00Z", ["failed", "succeeded"]),
        ("created_before=2026-01-05T14:00:00%2B00:00", ["running"]),
        ("ended_after=2026-01-05T16:00:00Z", ["failed"]),
        ("ended_before=2026-01-05T16:00:00Z", ["succeeded"]),
        ("project=chromium", ["failed", "running", "succeeded"]),
        ("verifier=cvsite", []),
        ("verifier=cqdaemon", ["failed", "running", "succeeded"]),
    ],
)
def test_filters(chromium_client, query, expected):
    runs = {
        "running": make_run(create_time=BASE_TIME + timedelta(hours=1)),
        "succeeded": make_run(
            create_time=BASE_TIME + timedelta(hours=2), status=RunStatus.SUCCEEDED, mode="FULL_RUN"
        ),
        "failed": make_run(
            create_time=BASE_TIME + timedelta(hours=3),
            status=RunStatus.FAILED,
            owner="a@example.com",
        ),
    }
    make_run("v8")
    by_id = {run.id: name for name, run in runs.items()}
    assert (
        sorted(by_id[i] for i in run_ids(chromium_client.get(f"/api/v1/runs/?{query}"))) == expected
    )


def test_verifier_filter_follows_the_project_verifiers(chromium_client):
    run = make_run()
    ProjectVerifier.objects.create(
        project="chromium", verifier=Verifier.CVSITE, changed_at=BASE_TIME, changed_by="op"
    )
    assert run_ids(chromium_client.get("/api/v1/runs/?verifier=cvsite")) == [run.id]


def test_filters_by_attempt_key(chromium_client):
    run, _ = make_run(), make_run()
    assert run_ids(chromium_client.get(f"/api/v1/runs/?attempt_key={run.cqd_attempt_key}")) == [
        run.id
    ]


@pytest.mark.parametrize("text, expected", CL_FORMS, ids=map(case_id, CL_FORMS))
def test_filters_by_cl_in_every_form_the_search_box_takes(chromium_client, text, expected):
    host, change = host_and_change(expected)
    host = host or GERRIT_HOST
    wanted, other = make_run(), make_run()
    add_cls(wanted, [make_cl(change, host=host)])
    add_cls(other, [make_cl(change + 1, host=host)])
    assert run_ids(chromium_client.get("/api/v1/runs/", {"cl": text})) == [wanted.id]


@pytest.mark.parametrize("text, expected", NOT_CL_FORMS, ids=map(case_id, NOT_CL_FORMS))
def test_refuses_what_the_search_box_takes_for_no_cl(chromium_client, text, expected):
    make_run()
    response = chromium_client.get("/api/v1/runs/", {"cl": text})
    assert response.status_code == 400, response.content
    [message] = response.json()["cl"]
    assert (expected.says if isinstance(expected, Refused) else "names no CL") in message


def test_a_change_number_on_two_hosts_finds_the_runs_of_both(chromium_client):
    first, second = make_run(), make_run()
    add_cls(first, [make_cl(5)])
    add_cls(second, [make_cl(5, host="other-review.googlesource.com")])
    assert sorted(run_ids(chromium_client.get("/api/v1/runs/?cl=5"))) == sorted(
        [first.id, second.id]
    )
    assert run_ids(chromium_client.get(f"/api/v1/runs/?cl={GERRIT_HOST}/5")) == [first.id]


def test_a_token_sees_nothing_of_other_projects(chromium_client):
    mine, theirs = make_full_run("chromium"), make_full_run("v8")
    assert run_ids(chromium_client.get("/api/v1/runs/")) == [mine.id]
    assert run_ids(chromium_client.get("/api/v1/runs/?project=v8")) == []
    assert chromium_client.get(f"/api/v1/runs/{theirs.id}/").status_code == 404


@pytest.mark.parametrize("runs", [1, 10])
def test_list_queries_are_constant(chromium_client, django_assert_num_queries, runs):
    for _ in range(runs):
        make_full_run(cls=3)
    # token, runs, their run CLs with CLs
    with django_assert_num_queries(3):
        assert len(run_ids(chromium_client.get("/api/v1/runs/"))) == runs


@pytest.mark.parametrize("size", [1, 10])
def test_detail_queries_are_constant(chromium_client, django_assert_num_queries, size):
    run = make_full_run(cls=size, tryjobs=size)
    # token, run, run CLs with CLs, deps, tryjobs, execution state (5), log
    with django_assert_num_queries(11):
        assert chromium_client.get(f"/api/v1/runs/{run.id}/").status_code == 200
