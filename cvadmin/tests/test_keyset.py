"""Big tables' lists page by cursor: every row once, in order, both ways; nothing counted, no
OFFSET, no SELECT DISTINCT; a bad cursor is a message, not an error."""

import base64
import json
import re
from html import unescape

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cvadmin.base import KeysetAdmin
from migration_api.models import ApiCall
from runs.models import Project, Run, RunStatus

RUNS = reverse("admin:runs_run_changelist")
API_CALLS = reverse("admin:migration_api_apicall_changelist")
KEYSET_ADMINS = [m for m, a in admin.site._registry.items() if isinstance(a, KeysetAdmin)]


@pytest.fixture
def pages_of_five(monkeypatch):
    for model_admin in admin.site._registry.values():
        monkeypatch.setattr(model_admin, "list_per_page", 5)


def run_ids(response) -> list[str]:
    return [run.id for run in response.context["cl"].result_list]


def link(response, kind: str) -> str | None:
    found = re.search(rf'<a href="([^"]*)" class="keyset-{kind}">', response.content.decode())
    return unescape(found.group(1)) if found else None


def walk(client, url: str, kind: str = "next") -> list:
    """Follow the `kind` links from `url`; the pages' run IDs, page by page."""
    pages = []
    while url:
        response = client.get(url if url.startswith("/") else RUNS + url)
        assert response.status_code == 200
        pages.append(run_ids(response))
        url = link(response, kind)
    return pages


def test_next_links_list_every_run_once_newest_first(operator_client, pages_of_five):
    pages = walk(operator_client, RUNS)
    newest_first = list(Run.objects.order_by("-create_time", "id").values_list("id", flat=True))
    assert len(pages) == -(-len(newest_first) // 5) > 2
    assert [run for page in pages for run in page] == newest_first


def test_previous_links_walk_back_the_same_pages(operator_client, pages_of_five):
    forward = walk(operator_client, RUNS)
    last = operator_client.get(RUNS)
    while link(last, "next"):
        last = operator_client.get(RUNS + link(last, "next"))
    backward = walk(operator_client, RUNS + link(last, "previous"), "previous")
    assert backward == forward[-2::-1]
    assert link(last, "first") and link(last, "next") is None


def test_within_a_project_run_ids_sort_newest_first(operator_client, pages_of_five):
    project = Run.objects.values_list("project", flat=True).order_by("project").first()
    pages = walk(operator_client, f"{RUNS}?project={project}&status__exact={RunStatus.SUCCEEDED}")
    expected = Run.objects.filter(project=project, status=RunStatus.SUCCEEDED).order_by("id")
    assert [run for page in pages for run in page] == [r.id for r in expected]


def test_a_filter_link_on_a_deep_page_starts_at_the_first_page(operator_client, pages_of_five):
    second = operator_client.get(RUNS + link(operator_client.get(RUNS), "next"))
    text = second.content.decode()
    filter_links = re.findall(r'href="(\?[^"]*status__exact[^"]*)"', text)
    assert filter_links and not any("after=" in unescape(href) for href in filter_links)


def cursor(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "value",
    [
        "not base64 !",
        cursor({"a": 1}),
        cursor(["2026-01-01T00:00:00+00:00"]),
        cursor(["yesterday", "chromium/1"]),
        cursor(["2026-01-01T00:00:00", "chromium/1"]),
        cursor(["2026-01-01T00:00:00+00:00", "chro\x00mium/1"]),
        cursor([2**70, "x"]),
        cursor([None, "x"]),
        "A" * 5000,
    ],
)
def test_a_malformed_cursor_says_so_and_shows_the_first_page(operator_client, value):
    for name in ("after", "before"):
        response = operator_client.get(RUNS, {name: value})
        assert response.status_code == 200
        assert "The page cursor in the URL is invalid" in response.content.decode()
        assert run_ids(response) == run_ids(operator_client.get(RUNS))


def test_projects_come_from_their_own_table(operator_client):
    assert set(Project.objects.values_list("name", flat=True)) == set(
        Run.objects.values_list("project", flat=True)
    )
    text = operator_client.get(RUNS).content.decode()
    for name in Project.objects.values_list("name", flat=True):
        assert f"?project={name}" in text


@pytest.mark.parametrize("model", KEYSET_ADMINS, ids=lambda m: m.__name__)
def test_big_lists_never_count_offset_or_distinct(operator_client, pages_of_five, model):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    with CaptureQueriesContext(connection) as queries:
        first = operator_client.get(url)
        next_url = link(first, "next")
        if next_url:
            assert operator_client.get(url + next_url).status_code == 200
    assert first.status_code == 200
    for query in queries.captured_queries:
        sql = query["sql"].upper()
        assert "COUNT(" not in sql and " OFFSET " not in sql and "DISTINCT" not in sql, sql


def test_big_lists_offer_no_counts(operator_client):
    assert "Show counts" not in operator_client.get(RUNS).content.decode()
    with CaptureQueriesContext(connection) as queries:
        assert operator_client.get(RUNS, {"_facets": "True"}).status_code == 200
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


@pytest.mark.parametrize("model", KEYSET_ADMINS, ids=lambda m: m.__name__)
def test_every_big_list_pages_through_every_row_once(operator_client, pages_of_five, model):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    seen, pages = [], 0
    next_url = url
    while next_url:
        response = operator_client.get(next_url)
        seen += [row.pk for row in response.context["cl"].result_list]
        pages += 1
        found = link(response, "next")
        next_url = url + found if found else None
    assert len(seen) == len(set(seen)) == model.objects.count()
    assert pages == max(1, -(-len(seen) // 5))


def test_api_calls_filter_by_time_window_without_a_date_hierarchy(operator_client):
    old = ApiCall.objects.create(
        time=timezone.now() - timezone.timedelta(days=3),
        caller="anonymous",
        method="ReportRuns",
        code="UNAUTHENTICATED",
        duration_ms=1.0,
    )
    week = operator_client.get(API_CALLS, {"time_within": "7d"}).context["cl"].result_list
    day = operator_client.get(API_CALLS, {"time_within": "24h"}).context["cl"].result_list
    assert old in week and old not in day and day
    text = operator_client.get(API_CALLS).content.decode()
    assert "last 24 hours" in text and "ReportVerifiedRun" in text and "UNAVAILABLE" in text
    assert operator_client.get(API_CALLS, {"caller": "anonymous"}).context["cl"].result_list == [
        old
    ]
