"""Who verifies a project's runs: CQDaemon by default, switched by operators, recorded."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from runs import actions, queries
from runs.errors import ActionError
from runs.models import ProjectVerifier, ProjectVerifierChange, Verifier
from runs.tests.factories import make_run

pytestmark = pytest.mark.django_db


def test_an_unconfigured_project_is_verified_by_cqdaemon():
    assert ProjectVerifier.of("chromium") == Verifier.CQDAEMON
    run = make_run("chromium")
    assert queries.runs_for_cqdaemon("chromium").run_ids == [run.id]


def test_switching_is_recorded_and_hides_runs_from_cqdaemon():
    make_run("chromium")
    assert actions.set_project_verifier("chromium", Verifier.CVSITE, "op@example.com")
    assert queries.runs_for_cqdaemon("chromium").run_ids == []
    assert not actions.set_project_verifier("chromium", Verifier.CVSITE, "op@example.com")
    assert actions.set_project_verifier("chromium", Verifier.CQDAEMON, "op2@example.com")
    changes = list(
        ProjectVerifierChange.objects.order_by("id").values_list(
            "from_verifier", "to_verifier", "actor"
        )
    )
    assert changes == [
        ("cqdaemon", "cvsite", "op@example.com"),
        ("cvsite", "cqdaemon", "op2@example.com"),
    ]


@pytest.mark.parametrize(
    "project, verifier", [("chromium", "robot"), ("", "cvsite"), ("a/b", "cvsite")]
)
def test_bad_switches_are_refused(project, verifier):
    with pytest.raises(ActionError):
        actions.set_project_verifier(project, verifier, "op")
    assert not ProjectVerifier.objects.exists()


def test_operators_switch_in_the_admin_and_the_switch_is_recorded(client):
    client.force_login(User.objects.create_superuser("op", "op@example.com", "pw"))
    response = client.post(
        reverse("admin:runs_projectverifier_add"), {"project": "webrtc", "verifier": "cvsite"}
    )
    assert response.status_code == 302
    assert ProjectVerifier.of("webrtc") == Verifier.CVSITE
    assert ProjectVerifierChange.objects.get().actor == "admin:op"
