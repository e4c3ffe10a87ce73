"""The admin shows the demo data: every list and detail page renders, in constant queries."""

import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from migration_api.models import ApiToken
from runs.models import NetrcToken
from tryjobs.models import Tryjob

CV_APPS = {"runs", "tryjobs", "migration_api"}
CV_MODELS = [m for m in admin.site._registry if m._meta.app_label in CV_APPS]


def changelist_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def test_every_cv_model_is_registered():
    names = {m.__name__ for m in CV_MODELS}
    assert {"Run", "CL", "RunCL", "Tryjob", "ExecutionState", "ExecutionLogEntry"} <= names
    assert {"FinishedCQDRun", "VerifiedCQDRun", "ReportedRunsSnapshot", "NetrcToken"} <= names


@pytest.mark.parametrize("model", CV_MODELS, ids=lambda m: m.__name__)
def test_list_and_detail_pages_render(operator_client, model):
    response = operator_client.get(changelist_url(model))
    assert response.status_code == 200
    obj = model.objects.first()
    assert obj is not None, f"the demo has no {model.__name__}"
    detail = reverse(
        f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk]
    )
    assert operator_client.get(detail).status_code == 200


@pytest.mark.parametrize("model", CV_MODELS, ids=lambda m: m.__name__)
def test_list_pages_take_constant_queries(operator_client, model, monkeypatch):
    """A page of 1 row and a page of 100 rows take as many queries: no N+1."""
    model_admin = admin.site._registry[model]
    counts = []
    for per_page in (1, 100):
        monkeypatch.setattr(model_admin, "list_per_page", per_page)
        with CaptureQueriesContext(connection) as queries:
            assert operator_client.get(changelist_url(model)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], f"{model.__name__}: {counts[0]} vs {counts[1]} queries"


def test_netrc_tokens_are_never_shown(operator_client):
    token = NetrcToken.objects.first()
    secret = token.access_token()
    for url in (
        changelist_url(NetrcToken),
        reverse("admin:runs_netrctoken_change", args=[token.pk]),
    ):
        page = operator_client.get(url).content.decode()
        assert token.gerrit_host in page
        assert secret not in page
        assert bytes(token.encrypted_access_token).decode() not in page


def test_the_admin_cannot_edit_service_records(operator_client):
    response = operator_client.get(
        reverse("admin:runs_run_add"),
    )
    assert response.status_code == 403


def test_api_tokens_are_listed_and_revoked_but_never_shown(operator_client):
    token, secret = ApiToken.issue("cqdaemon-webrtc", ["webrtc"])
    page = operator_client.get(changelist_url(ApiToken)).content.decode()
    assert "cqdaemon-webrtc" in page
    assert secret not in page and token.token_hash not in page
    response = operator_client.post(
        changelist_url(ApiToken), {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


@pytest.mark.parametrize(
    "model",
    [m for label in CV_APPS for m in apps.get_app_config(label).get_models()],
    ids=lambda m: m.__name__,
)
def test_every_model_reads_well(demo, db, model):
    # Every model says what it is, not Django's "<Model> object (<pk>)"; and the demo's rows,
    # where the small demo has some, read so.
    assert model.__str__ is not Model.__str__, f"{model.__name__} has no __str__ of its own"
    obj = model.objects.first()
    assert obj is None or " object (" not in str(obj)


def test_help_texts_are_escaped_and_times_have_seconds_and_zone(operator_client):
    tryjob = Tryjob.objects.exclude(external_id=None).first()
    page = operator_client.get(reverse("admin:tryjobs_tryjob_change", args=[tryjob.pk]))
    text = page.content.decode()
    assert "buildbucket/&lt;host&gt;/&lt;build id&gt;" in text
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", text)


def test_view_site_goes_to_the_operators_home(operator_client):
    page = operator_client.get(reverse("admin:index")).content.decode()
    assert '<a href="/admin/">View site</a>' in page
