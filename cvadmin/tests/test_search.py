"""The runs list's search box lands on the one object that matches, else lists and says why."""

import pytest
from django.urls import reverse

from runs.models import CL, Run
from runs.tests.identifier_cases import (
    CL_FORMS,
    NOT_CL_FORMS,
    Refused,
    case_id,
    host_and_change,
)
from tryjobs.models import Tryjob

RUNS = reverse("admin:runs_run_changelist")


def search(client, text: str):
    return client.get(RUNS, {"q": text})


def lands_on(response, url: str) -> bool:
    return response.status_code == 302 and response.url == url


def test_run_id_attempt_key_and_run_id_without_project(operator_client):
    run = Run.objects.first()
    page = reverse("admin:runs_run_change", args=[run.id])
    assert lands_on(search(operator_client, run.id), page)
    assert lands_on(search(operator_client, run.cqd_attempt_key), page)
    assert lands_on(search(operator_client, run.id.split("/", 1)[1]), page)


@pytest.mark.parametrize("text, expected", CL_FORMS, ids=map(case_id, CL_FORMS))
def test_every_cl_form_lands_on_its_cl(operator_client, text, expected):
    host, change = host_and_change(expected)
    cl, _ = CL.objects.get_or_create(
        host=host or "chromium-review.googlesource.com",  # a change number: on any host
        change=change,
        defaults={"patchset": 1, "min_equivalent_patchset": 1},
    )
    assert lands_on(search(operator_client, text), reverse("admin:runs_cl_change", args=[cl.pk]))


@pytest.mark.parametrize("text, expected", NOT_CL_FORMS, ids=map(case_id, NOT_CL_FORMS))
def test_what_names_no_cl_lands_on_no_cl(operator_client, text, expected):
    response = search(operator_client, text)
    if isinstance(expected, Refused):
        assert response.status_code == 200
        assert expected.says in response.content.decode()
    else:
        cl_pages = reverse("admin:runs_cl_changelist")
        assert not (response.status_code == 302 and response.url.startswith(cl_pages))


def test_a_change_number_on_two_hosts_lists_both(operator_client):
    for host in ("a-review.example.org", "b-review.example.org"):
        CL.objects.create(host=host, change=777, patchset=1, min_equivalent_patchset=1)
    response = search(operator_client, "777")
    assert response.status_code == 200
    page = response.content.decode()
    assert "a-review.example.org/777" in page and "b-review.example.org/777" in page


def test_builds_by_external_id_url_and_bare_id(operator_client):
    tryjob = Tryjob.objects.exclude(external_id=None).first()
    build_id = tryjob.external_id.rsplit("/", 1)[1]
    page = reverse("admin:tryjobs_tryjob_change", args=[tryjob.pk])
    for text in (
        tryjob.external_id,
        f"https://ci.chromium.org/b/{build_id}",
        f"https://cr-buildbucket.appspot.com/build/{build_id}",
        build_id,
    ):
        assert lands_on(search(operator_client, text), page), text


def test_a_builder_lists_its_tryjobs(operator_client):
    tryjob = Tryjob.objects.order_by("-id").first()  # the list is newest first
    response = search(operator_client, tryjob.builder)
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:tryjobs_tryjob_changelist"))
    listing = operator_client.get(response.url)
    assert listing.status_code == 200
    assert reverse("admin:tryjobs_tryjob_change", args=[tryjob.pk]) in listing.content.decode()


@pytest.mark.parametrize(
    "text, says",
    [
        ("x" * 5000, "characters long"),
        ("https://ci.chromium.org/ui/p/chromium/builders/try/linux-rel/12345", "by ID"),
        ("chromium/9999999999999-1-0000000000000000", "No run matches"),
        ("99999", "No change number or build ID"),
        ("no such thing", "no shape cvsite knows"),
    ],
)
def test_bad_or_unknown_input_says_so(operator_client, text, says):
    response = search(operator_client, text)
    assert response.status_code == 200
    assert says in response.content.decode()


def test_unknown_text_falls_back_to_a_run_id_prefix(operator_client):
    run = Run.objects.first()
    page = search(operator_client, run.id[:12]).content.decode()
    assert run.id in page
