"""Who gets in (tokens, staff sessions), and the per-caller rate limit with its headers."""

import re

import pytest
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders
from rest_framework.test import APIClient

from migration_api.auth import revoke
from migration_api.models import ApiToken
from restapi.tests.conftest import token_client
from runs.tests.factories import make_run

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "authorization", [None, "Bearer", "Bearer cvsite_unknown", "Basic YTpi", "Bearer \xe9"]
)
def test_without_a_valid_token_the_answer_is_401(authorization):
    client = APIClient()
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    response = client.get("/api/v1/runs/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_refused():
    client = token_client("chromium")
    assert client.get("/api/v1/runs/").status_code == 200
    revoke(ApiToken.objects.all(), "test")
    assert client.get("/api/v1/runs/").status_code == 401


def test_staff_see_every_project_and_other_users_nothing():
    runs = {make_run("chromium").id, make_run("v8").id}
    staff = APIClient()
    staff.force_login(User.objects.create_user("sheriff", is_staff=True))
    assert {run["id"] for run in staff.get("/api/v1/runs/").json()["results"]} == runs
    user = APIClient()
    user.force_login(User.objects.create_user("someone"))
    assert user.get("/api/v1/runs/").status_code == 403


def test_an_all_projects_token_sees_every_project():
    runs = {make_run("chromium").id, make_run("v8").id}
    body = token_client(all_projects=True).get("/api/v1/runs/").json()
    assert {run["id"] for run in body["results"]} == runs


def test_each_token_has_its_own_rate_limit(settings):
    settings.REST_API_THROTTLE_RATE = "3/minute"
    first, second = token_client("chromium"), token_client("chromium")
    remaining = [first.get("/api/v1/runs/")["RateLimit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    refused = first.get("/api/v1/runs/")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert refused["RateLimit-Limit"] == "3" and refused["RateLimit-Remaining"] == "0"
    assert 0 < int(refused["RateLimit-Reset"]) <= 60
    assert second.get("/api/v1/runs/").status_code == 200


def test_the_docs_page_and_schema_are_served_locally(client):
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"#]+)"', docs.content.decode())
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in assets
    for asset in assets:  # every one among cvsite's own static files, none from elsewhere
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), asset
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200 and "/api/v1/runs/" in schema.json()["paths"]
