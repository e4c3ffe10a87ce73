"""GET /api/v1/cls/ and /api/v1/cls/{host}/{change}/."""

import pytest

from restapi.tests.conftest import GERRIT_HOST, add_cls, make_cl, token_client
from runs.tests.factories import make_run

pytestmark = pytest.mark.django_db


def cl_ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [cl["id"] for cl in response.json()["results"]]


def test_lists_the_cls_of_the_callers_runs_newest_first(chromium_client):
    first, second, theirs, orphan = make_cl(), make_cl(), make_cl(), make_cl()
    add_cls(make_run(), [first, second])
    add_cls(make_run("v8"), [theirs])
    assert cl_ids(chromium_client.get("/api/v1/cls/")) == [second.id, first.id]
    everything = token_client(all_projects=True).get("/api/v1/cls/")
    assert cl_ids(everything) == [orphan.id, theirs.id, second.id, first.id]


@pytest.mark.parametrize(
    "query", ["change=777", f"host={GERRIT_HOST}&change=777", "cl=crrev.com/c/777"]
)
def test_filters(chromium_client, query):
    wanted = make_cl(777)
    add_cls(make_run(), [wanted, make_cl(778), make_cl(777, host="x-review.example.org")])
    found = cl_ids(chromium_client.get(f"/api/v1/cls/?{query}"))
    assert wanted.id in found and len(found) == (2 if query == "change=777" else 1)


def test_a_cl_shows_its_runs_in_the_callers_projects(chromium_client):
    cl = make_cl(555)
    older, newer, theirs = make_run(), make_run(), make_run("v8")
    for run in (older, newer, theirs):
        add_cls(run, [cl])
    body = chromium_client.get(f"/api/v1/cls/{GERRIT_HOST}/555/").json()
    assert body["change"] == 555 and body["url"] == f"https://{GERRIT_HOST}/555"
    assert [run["id"] for run in body["runs"]] == [newer.id, older.id]


def test_a_cl_without_runs_in_scope_is_not_found(chromium_client):
    add_cls(make_run("v8"), [make_cl(556)])
    assert chromium_client.get(f"/api/v1/cls/{GERRIT_HOST}/556/").status_code == 404
    assert chromium_client.get(f"/api/v1/cls/{GERRIT_HOST}/99999/").status_code == 404


@pytest.mark.parametrize("size", [1, 10])
def test_queries_are_constant(chromium_client, django_assert_num_queries, size):
    cls = [make_cl() for _ in range(size)]
    for _ in range(size):
        add_cls(make_run(), cls)
    with django_assert_num_queries(2):  # token, CLs
        assert len(cl_ids(chromium_client.get("/api/v1/cls/"))) == size
    # token, CL, its runs, their run CLs with CLs
    with django_assert_num_queries(4):
        chromium_client.get(f"/api/v1/cls/{GERRIT_HOST}/{cls[0].change}/")
