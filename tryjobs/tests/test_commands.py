"""Operators drive the executor: `manage.py set_requirement` / `run_executor`, admin actions."""

import io

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import CommandError, call_command
from django.urls import reverse
from google.protobuf import json_format, text_format

from runs.models import RunStatus, Verifier
from tryjobs.models import ExecutionLogEntry, ExecutionState, Tryjob
from tryjobs.tests import actions_support
from tryjobs.tests.actions_support import (
    Result,
    RetryConfig,
    attempt_statuses,
    cvsite_run,
    defn,
    requirement,
    state_of,
)

pytestmark = pytest.mark.django_db

# Fixtures.
backend = actions_support.backend

REQUIREMENT = requirement(
    defn("linux"), defn("mac"), retry=RetryConfig(single_quota=1, global_quota=2)
)
CHANGELIST = reverse("admin:runs_run_changelist")


def call(*args, **kwargs) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=out, **kwargs)
    return out.getvalue()


# set_requirement -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, content",
    [
        ("req.txtpb", text_format.MessageToString(REQUIREMENT)),
        ("req.json", json_format.MessageToJson(REQUIREMENT)),
        ("req", json_format.MessageToJson(REQUIREMENT)),  # detected: starts with "{"
        ("req", text_format.MessageToString(REQUIREMENT)),
    ],
)
def test_set_requirement_reads_text_or_json_and_runs_the_executor(backend, tmp_path, name, content):
    run = cvsite_run()
    path = tmp_path / name
    path.write_text(content)
    out = call("set_requirement", run.id, str(path))
    state = state_of(run)
    assert state.requirement == REQUIREMENT and state.requirement_version == 1
    assert attempt_statuses(state) == [["TRIGGERED"], ["TRIGGERED"]]
    assert out.strip() == (
        f"run {run.id}: execution state RUNNING (version 1, requirement version 1, "
        "2 definitions), saved; logged tryjobs_launched; run RUNNING"
    )


def test_set_requirement_again_bumps_the_version_and_reads_stdin(backend, tmp_path):
    run = cvsite_run()
    path = tmp_path / "r.txtpb"
    path.write_text(text_format.MessageToString(REQUIREMENT))
    call("set_requirement", run.id, str(path))
    smaller = text_format.MessageToString(requirement(defn("linux")))
    out = call("set_requirement", run.id, "-", stdin=io.StringIO(smaller))
    assert state_of(run).requirement_version == 2
    assert "logged requirement_changed, tryjob_discarded" in out


@pytest.mark.parametrize(
    "content, fmt, message",
    [
        ("definitions { critical: tru }", None, "not a cv.internal.tryjob.Requirement in protobuf"),
        ('{"definitions": [{"critical": "yes"}]}', None, "in JSON"),
        ("definitions { critical: true }", None, "definitions[0]: a definition needs a"),
        (text_format.MessageToString(REQUIREMENT), "json", "in JSON"),
    ],
)
def test_set_requirement_says_what_is_wrong_with_the_file(tmp_path, content, fmt, message):
    run = cvsite_run()
    path = tmp_path / "r.txt"
    path.write_text(content)
    options = {"format": fmt} if fmt else {}
    with pytest.raises(CommandError) as e:
        call("set_requirement", run.id, str(path), **options)
    assert message in str(e.value) and str(path) in str(e.value)
    assert not ExecutionState.objects.exists()


def test_set_requirement_errors_name_the_file_the_run_and_the_project(tmp_path):
    with pytest.raises(CommandError, match="missing.txtpb: cannot read the requirement"):
        call("set_requirement", "chromium/1-1-a", str(tmp_path / "missing.txtpb"))
    path = tmp_path / "r.txtpb"
    path.write_text(text_format.MessageToString(REQUIREMENT))
    with pytest.raises(CommandError, match="run 'chromium/1-1-a' not found"):
        call("set_requirement", "chromium/1-1-a", str(path))
    run = cvsite_run("v8", verifier=Verifier.CQDAEMON)
    with pytest.raises(CommandError, match="'v8' is verified by CQDaemon"):
        call("set_requirement", run.id, str(path))


# run_executor ----------------------------------------------------------------------------------


def test_run_executor_catches_a_run_up_and_reports_each_run(backend):
    run = cvsite_run()
    call(
        "set_requirement", run.id, "-", stdin=io.StringIO(text_format.MessageToString(REQUIREMENT))
    )
    for tryjob in Tryjob.objects.all():
        backend.finish_build(tryjob.external_id, Result.SUCCEEDED)
    out = call("run_executor", run.id)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert out.strip() == (
        f"run {run.id}: execution state SUCCEEDED (version 2, requirement version 1, "
        "2 definitions), saved; logged tryjobs_ended; 2 tryjob events consumed; run SUCCEEDED"
    )


def test_run_executor_reports_the_runs_it_could_not_drive(backend):
    good = cvsite_run()
    call(
        "set_requirement", good.id, "-", stdin=io.StringIO(text_format.MessageToString(REQUIREMENT))
    )
    fresh = cvsite_run()
    with pytest.raises(CommandError, match="1 of 2 runs failed"):
        call("run_executor", good.id, fresh.id)


# Admin actions ---------------------------------------------------------------------------------


@pytest.fixture
def operator(client):
    client.force_login(User.objects.create_superuser("op", "op@example.com", "pw"))
    return client


def test_the_run_admin_runs_the_executor(operator, backend):
    run = cvsite_run()
    call(
        "set_requirement", run.id, "-", stdin=io.StringIO(text_format.MessageToString(REQUIREMENT))
    )
    for tryjob in Tryjob.objects.all():
        backend.finish_build(tryjob.external_id, Result.SUCCEEDED)
    response = operator.post(
        CHANGELIST, {"action": "run_tryjob_executor", "_selected_action": [run.id]}, follow=True
    )
    assert response.status_code == 200
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.events.last().actor == "admin:op"
    assert "execution state SUCCEEDED" in response.content.decode()


def test_the_run_admin_sets_a_requirement_through_an_intermediate_page(operator, backend):
    run = cvsite_run()
    call(
        "set_requirement", run.id, "-", stdin=io.StringIO(text_format.MessageToString(REQUIREMENT))
    )
    form = {"action": "set_tryjob_requirement", "_selected_action": [run.id]}

    page = operator.post(CHANGELIST, form)
    assert (
        page.status_code == 200 and page.templates[0].name == "admin/tryjobs/set_requirement.html"
    )
    assert page.context["requirement"] == text_format.MessageToString(REQUIREMENT)  # prefilled

    bad = operator.post(CHANGELIST, {**form, "apply": "yes", "requirement": "definitions {"})
    assert bad.status_code == 200 and "protobuf text format" in bad.context["error"]
    assert state_of(run).requirement_version == 1

    smaller = json_format.MessageToJson(requirement(defn("linux")))
    done = operator.post(
        CHANGELIST, {**form, "apply": "yes", "requirement": smaller, "format": "json"}, follow=True
    )
    assert done.status_code == 200
    state = state_of(run)
    assert state.requirement_version == 2 and len(state.requirement.definitions) == 1
    assert "logged requirement_changed" in done.content.decode()


def test_admin_actions_need_the_permission_and_refuse_cqdaemon_projects(client, backend):
    staff = User.objects.create_user("viewer", "v@example.com", "pw", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_run"))
    client.force_login(staff)
    run = cvsite_run()
    # Without the permission the action is not even offered, and posting it runs nothing.
    assert "run_tryjob_executor" not in client.get(CHANGELIST).content.decode()
    client.post(
        CHANGELIST, {"action": "run_tryjob_executor", "_selected_action": [run.id]}, follow=True
    )
    assert not ExecutionLogEntry.objects.exists()
    staff.user_permissions.add(Permission.objects.get(codename="change_executionstate"))
    foreign = cvsite_run("v8", verifier=Verifier.CQDAEMON)
    staff = User.objects.get(id=staff.id)  # fresh permission cache
    client.force_login(staff)
    response = client.post(
        CHANGELIST,
        {
            "action": "set_tryjob_requirement",
            "_selected_action": [foreign.id],
            "apply": "yes",
            "requirement": text_format.MessageToString(REQUIREMENT),
        },
        follow=True,
    )
    assert "is verified by CQDaemon" in response.content.decode()
    assert not ExecutionLogEntry.objects.exists()
    assert state_of(foreign) is None
