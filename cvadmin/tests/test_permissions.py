"""Who may change what: operators only look; every change is declared and names who made it."""

from io import StringIO

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from cvadmin.operators import VIEWED_APPS, ensure_operators_group
from migration_api.models import ApiToken
from runs import tasks as run_tasks
from runs.models import GerritPost, Run, RunEvent, RunStatus

REGISTERED = list(admin.site._registry.items())


@pytest.fixture
def operators(db):
    """The group the migration made (made again if a transactional test flushed it)."""
    return ensure_operators_group(apps)


@pytest.fixture
def viewer(demo, operators):
    user = User.objects.create_user("viewer", "viewer@example.com", "pw", is_staff=True)
    user.groups.add(operators)
    return user


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def everything() -> str:
    out = StringIO()
    call_command("dumpdata", "runs", "tryjobs", "migration_api", stdout=out)
    return out.getvalue()


def test_the_operators_group_holds_view_permissions_only(operators):
    codenames = operators.permissions.values_list("codename", flat=True)
    assert codenames and all(c.startswith("view_") for c in codenames)
    assert "view_run" in codenames and "view_apitoken" in codenames


@pytest.mark.parametrize("model, model_admin", REGISTERED, ids=lambda x: getattr(x, "__name__", ""))
def test_a_view_only_user_is_offered_no_change(viewer, model, model_admin):
    request = RequestFactory().get("/")
    request.user = viewer
    assert model_admin.get_actions(request) == {}
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


@pytest.mark.parametrize("model, model_admin", REGISTERED, ids=lambda x: getattr(x, "__name__", ""))
def test_a_view_only_user_changes_nothing(viewer_client, model, model_admin):
    listing = viewer_client.get(url(model, "changelist"))
    viewed = model._meta.app_label in VIEWED_APPS
    assert listing.status_code == (200 if viewed else 403)
    obj = model.objects.first()
    before = everything()
    names = {name for name, _ in admin.site.actions} | set(model_admin.actions or ())
    for name in sorted(names):
        selected = [obj.pk] if obj else []
        viewer_client.post(
            url(model, "changelist"),
            {"action": name, "_selected_action": selected, "apply": "yes", "reason": "x"},
        )
    assert viewer_client.post(url(model, "add"), {}).status_code == 403
    if obj is not None:
        assert viewer_client.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
        assert viewer_client.post(url(model, "change", obj.pk), {}).status_code in (403, 405)
    assert everything() == before


def test_revoking_a_token_records_who(operator_client):
    token, _ = ApiToken.issue("cqdaemon-webrtc", ["webrtc"])
    operator_client.post(
        url(ApiToken, "changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == "admin:operator"


@pytest.mark.parametrize(
    "path, lookup",
    [
        ("admin:migration_api_apitoken_changelist", "token_hash__startswith"),
        ("admin:migration_api_apitoken_changelist", "token_hash"),
        ("admin:runs_netrctoken_changelist", "encrypted_access_token__isnull"),
    ],
)
def test_secret_columns_cannot_be_filtered_on_even_by_superusers(operator_client, path, lookup):
    response = operator_client.get(reverse(path), {lookup: "a"})
    assert response.status_code == 400


def test_superusers_cancel_a_run_with_a_reason(operator_client):
    run = Run.objects.active().filter(status=RunStatus.RUNNING).first()
    changelist = url(Run, "changelist")
    form = {"action": "cancel_runs", "_selected_action": [run.pk], "apply": "yes"}
    asked = operator_client.post(changelist, {**form, "reason": "  "})
    assert "A cancellation needs a reason." in asked.content.decode()
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    operator_client.post(changelist, {**form, "reason": "tree closed for the outage"})
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED
    assert run.end_reason == "cancelled by admin:operator: tree closed for the outage"
    assert RunEvent.objects.filter(run=run, actor="admin:operator").exists()
    assert GerritPost.objects.filter(run=run, message__contains="tree closed").exists()


def test_superusers_retry_a_failed_task(operator_client):
    run = Run.objects.first()
    failed = DBTaskResult.objects.get(id=run_tasks.post_result_messages.enqueue(run.id).id)
    failed.set_failed(RuntimeError("Gerrit was down"))
    operator_client.post(
        url(DBTaskResult, "changelist"),
        {"action": "retry_failed", "_selected_action": [failed.pk]},
    )
    again = DBTaskResult.objects.exclude(pk=failed.pk).get(
        task_path=failed.task_path, args_kwargs=failed.args_kwargs, status="READY"
    )
    assert again.args_kwargs["args"] == [run.id]
