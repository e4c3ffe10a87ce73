"""Keyset pages: every row once across pages, even with rows inserted between page fetches."""

from datetime import timedelta

import pytest

from restapi.pagination import MAX_PAGE_SIZE
from restapi.tests.conftest import add_cls, make_cl, make_full_run, make_tryjob
from runs.models import CL, Run
from runs.tests.factories import BASE_TIME, make_run
from tryjobs.models import Tryjob

pytestmark = pytest.mark.django_db


def walk(client, url: str, insert_between_pages) -> list:
    """Every ID of every page, following `next`, inserting rows before each further page."""
    seen = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert "count" not in body
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
        insert_between_pages()
    return seen


def test_runs_pages_skip_and_repeat_nothing(chromium_client):
    times = iter(range(1000))
    original = [
        make_run(create_time=BASE_TIME + timedelta(minutes=10 * next(times))).id for _ in range(12)
    ]

    def insert():
        # One newer than every page, one between the rows already listed and those to come.
        make_run(create_time=BASE_TIME + timedelta(days=1, minutes=next(times)))
        make_run(create_time=BASE_TIME + timedelta(minutes=10 * 6 + 5))

    seen = walk(chromium_client, "/api/v1/runs/?page_size=5", insert)
    assert len(seen) == len(set(seen))
    assert set(original) <= set(seen)
    assert seen[:5] == original[::-1][:5]


def test_tryjob_and_cl_pages_skip_and_repeat_nothing(chromium_client):
    original_tryjobs = [make_tryjob().id for _ in range(7)]
    seen = walk(chromium_client, "/api/v1/tryjobs/?page_size=3", make_tryjob)
    assert len(seen) == len(set(seen)) and set(original_tryjobs) <= set(seen)

    run = make_run()
    original_cls = [make_cl() for _ in range(7)]
    add_cls(run, original_cls)
    seen = walk(
        chromium_client, "/api/v1/cls/?page_size=3", lambda: add_cls(make_run(), [make_cl()])
    )
    assert len(seen) == len(set(seen)) and {cl.id for cl in original_cls} <= set(seen)


def test_previous_goes_back(chromium_client):
    for _ in range(4):
        make_run()
    first = chromium_client.get("/api/v1/runs/?page_size=2").json()
    second = chromium_client.get(first["next"]).json()
    assert chromium_client.get(second["previous"]).json()["results"] == first["results"]


@pytest.mark.parametrize(
    "url, model, queries",
    [
        ("/api/v1/runs/", Run, 3),  # token, runs, their run CLs with CLs
        ("/api/v1/tryjobs/", Tryjob, 3),  # token, tryjobs, the runs that reused them
        ("/api/v1/cls/", CL, 2),  # token, CLs
    ],
)
@pytest.mark.parametrize("page_size", [1, 7, MAX_PAGE_SIZE])
def test_queries_are_constant_whatever_the_page_size(
    chromium_client, django_assert_num_queries, url, model, queries, page_size
):
    for _ in range(12):
        make_full_run(cls=2, tryjobs=2)
    with django_assert_num_queries(queries):
        first = chromium_client.get(url, {"page_size": page_size}).json()
    assert len(first["results"]) == min(page_size, model.objects.count())
    if first["next"]:
        with django_assert_num_queries(queries):
            assert chromium_client.get(first["next"]).json()["results"]
