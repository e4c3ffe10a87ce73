"""POST /pubsub/buildbucket: authenticated, bad input named, unknown builds acknowledged."""

import base64
import json

import pytest

from tryjobs import operations
from tryjobs.buildbucket.tests.conftest import PUSH_TOKEN
from tryjobs.models import TryjobStatus
from tryjobs.tests.actions_support import cvsite_run, defn, latest_tryjob, requirement

URL = "/pubsub/buildbucket"
SUCCESS = 12


def post(client, body, token=PUSH_TOKEN, **extra):
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    return client.post(
        URL, data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def envelope(data: dict, version="v2") -> dict:
    encoded = base64.b64encode(json.dumps(data).encode()).decode()
    return {"message": {"data": encoded, "attributes": {"version": version}}}


@pytest.mark.django_db
def test_pushes_without_the_secret_are_refused(client, fake_bb, settings):
    assert post(client, {}, token="wrong").status_code == 401
    assert client.post(URL, data=b"{}", content_type="application/json").status_code == 401
    settings.BUILDBUCKET_PUSH_TOKEN = ""
    response = post(client, {}, token="")
    assert response.status_code == 401 and PUSH_TOKEN not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "body"),
        ({"message": "x"}, "message"),
        (envelope({"build": {"id": "1"}}, version=""), "message.attributes.version"),
        ({"message": {"data": "%%%", "attributes": {"version": "v2"}}}, "message.data"),
        (envelope({"build": {"status": "SUCCESS"}}), "message.data.build.id"),
        (envelope({"build": {"id": "1"}}), "message.data.build.infra.buildbucket.hostname"),
        (
            envelope(
                {
                    "build": {"id": "1", "infra": {"buildbucket": {"hostname": "h"}}},
                    "buildLargeFields": base64.b64encode(b"not zlib").decode(),
                }
            ),
            "message.data.buildLargeFields",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, fake_bb, body, field):
    response = post(client, body)
    assert response.status_code == 400
    assert response.content.decode().startswith(field + ":")


@pytest.mark.django_db
def test_a_build_cvsite_does_not_track_is_acknowledged(client, fake_bb, deliver):
    build = fake_bb.add_build(defn("linux").buildbucket.builder, [])
    fake_bb.end_build(build.id, SUCCESS)
    assert deliver() == [200, 200]


@pytest.mark.django_db
def test_dropped_large_fields_are_fetched_and_an_outage_asks_for_redelivery(
    client, fake_bb, deliver, slept
):
    run = cvsite_run()
    operations.set_requirement(run.id, requirement(defn("linux")), "op")
    tryjob = latest_tryjob(run, 0)
    deliver()
    build_id = int(tryjob.external_id.rsplit("/", 1)[1])
    fake_bb.end_build(build_id, SUCCESS)
    [(body, headers)] = fake_bb.take_outbox()
    message = json.loads(body)
    data = json.loads(base64.b64decode(message["message"]["data"]))
    data["buildLargeFieldsDropped"] = True
    data["build"]["status"] = "STARTED"  # whatever it says: the fetched build counts
    message["message"]["data"] = base64.b64encode(json.dumps(data).encode()).decode()
    fake_bb.fail_calls("GetBuild", 14, "down", times=3)
    assert post(client, message).status_code == 503
    tryjob.refresh_from_db()
    assert tryjob.status == TryjobStatus.TRIGGERED
    assert post(client, message).status_code == 200
    tryjob.refresh_from_db()
    assert tryjob.status == TryjobStatus.ENDED
