import itertools
from datetime import timedelta

import pytest

from runs import clock
from tryjobs.backend import get_backend
from tryjobs.buildbucket.fake_server import FakeBuildbucket
from tryjobs.tests import actions_support
from tryjobs.tests.actions_support import HOST

slept = actions_support.slept  # launch retries record their delays instead of sleeping

PUSH_TOKEN = "push-secret-for-tests"


@pytest.fixture
def fake_bb(settings):
    """A fake Buildbucket over HTTP, cvsite's backend; its clock starts an hour ago and
    moves a second per reading."""
    seconds = itertools.count()
    base = clock.now() - timedelta(hours=1)
    with FakeBuildbucket(
        host=HOST, push_token=PUSH_TOKEN, clock=lambda: base + timedelta(seconds=next(seconds))
    ) as fake:
        settings.TRYJOB_BACKEND = "tryjobs.buildbucket.backend.BuildbucketBackend"
        settings.BUILDBUCKET_URL_OVERRIDES = {HOST: fake.url}
        settings.BUILDBUCKET_PUSH_TOKEN = PUSH_TOKEN
        settings.BUILDBUCKET_TOKEN_FILE = None
        get_backend.cache_clear()
        yield fake
        get_backend.cache_clear()


@pytest.fixture
def deliver(client, fake_bb):
    """Delivers pushes to cvsite's endpoint (the fake's outbox by default); their statuses."""

    def deliver(envelopes=None) -> list[int]:
        statuses = []
        for body, headers in fake_bb.take_outbox() if envelopes is None else envelopes:
            response = client.post(
                "/pubsub/buildbucket",
                data=body,
                content_type="application/json",
                HTTP_AUTHORIZATION=headers["Authorization"],
            )
            statuses.append(response.status_code)
        return statuses

    return deliver
