"""The project-config pages: versions per project, one version, the diff between two."""

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from projectconfig.actions import import_config
from projectconfig.tests.support import group_config
from runs.tests.factories import make_run

LIST = reverse("admin:projectconfig_configversion_changelist")


@pytest.fixture
def operator(client, db):
    client.force_login(User.objects.create_superuser("operator", "op@example.com", "pw"))
    return client


def versions(project: str, *builder_names: str):
    return [
        import_config(
            project, group_config(f'builders {{ name: "{name}" }}'), f"{name}.cfg"
        ).version
        for name in builder_names
    ]


def test_versions_are_listed_per_project(operator):
    versions("chromium", "p/try/a", "p/try/b")
    versions("angle", "p/try/a")
    page = operator.get(LIST, {"project__exact": "chromium"}).content.decode()
    assert "p/try/b.cfg" in page and "diff with version 1" in page
    rows = page.split('id="result_list"')[1].split("</table>")[0]
    assert "chromium" in rows and "angle" not in rows


def test_the_list_takes_constant_queries(operator):
    counts = []
    for count in (1, 8):
        versions(f"project{count}", *[f"p/try/b{i}" for i in range(count)])
        with CaptureQueriesContext(connection) as queries:
            assert operator.get(LIST).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_one_version_shows_its_text(operator):
    (version,) = versions("chromium", "p/try/a")
    page = operator.get(reverse("admin:projectconfig_configversion_change", args=[version.pk]))
    assert page.status_code == 200
    assert "builders { name: &quot;p/try/a&quot; }" in page.content.decode()


def test_the_diff_with_the_previous_version(operator):
    first, second, third = versions("chromium", "p/try/a", "p/try/b", "p/try/c")
    url = reverse("admin:projectconfig_configversion_diff", args=[third.pk])
    page = operator.get(url).content.decode()
    assert "chromium version 2" in page and "chromium version 3" in page
    assert '<div class="removed">-      builders { name: &quot;p/try/b&quot; }</div>' in page
    assert '<div class="added">+      builders { name: &quot;p/try/c&quot; }</div>' in page
    older = operator.get(url, {"against": "1"}).content.decode()
    assert "p/try/a" in older and "p/try/b" not in older


@pytest.mark.parametrize("against", ["9", "x"])
def test_a_diff_against_no_such_version_is_not_found(operator, against):
    _, second = versions("chromium", "p/try/a", "p/try/b")
    url = reverse("admin:projectconfig_configversion_diff", args=[second.pk])
    assert operator.get(url, {"against": against}).status_code == 404


def test_configs_are_not_edited_in_the_admin(operator):
    assert operator.get(reverse("admin:projectconfig_configversion_add")).status_code == 403


def test_the_run_page_shows_the_config_version_and_group_it_used(operator):
    (version,) = versions("chromium", "p/try/a")
    run = make_run("chromium", config_version=version, config_group="main")
    page = operator.get(reverse("admin:runs_run_change", args=[run.pk])).content.decode()
    version_url = reverse("admin:projectconfig_configversion_change", args=[version.pk])
    assert f'<a href="{version_url}">chromium v1</a>' in page
    assert "main" in page
