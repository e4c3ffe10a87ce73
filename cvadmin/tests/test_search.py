"""The runs list's search box lands on the one object that matches, else lists and says why."""

import pytest
from django.urls import reverse

from runs.models import CL, Run
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


def test_every_cl_form(operator_client):
    cl = CL.objects.first()
    page = reverse("admin:runs_cl_change", args=[cl.pk])
    for text in (
        f"https://{cl.host}/c/{cl.gerrit_project}/+/{cl.change}",
        f"https://{cl.host}/c/{cl.gerrit_project}/+/{cl.change}/1/some/file.cc",
        f"https://{cl.host}/{cl.change}",
        f"{cl.host}/{cl.change}",
    ):
        assert lands_on(search(operator_client, text), page), text


def test_crrev_links_name_chromium_review(operator_client):
    cl = CL.objects.create(
        host="chromium-review.googlesource.com", change=4242, patchset=1, min_equivalent_patchset=1
    )
    page = reverse("admin:runs_cl_change", args=[cl.pk])
    for text in ("crrev.com/c/4242", "https://crrev.com/c/4242", "4242"):
        assert lands_on(search(operator_client, text), page), text


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
        ("bad\x00input", "NUL"),
        ("x" * 5000, "characters long"),
        ("https://ci.chromium.org/ui/p/chromium/builders/try/linux-rel/12345", "by ID"),
        ("https://[::1/1", "well-formed"),
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
