"""BuildbucketBackend details: batch splitting, odd Batch answers, credentials."""

import logging

import pytest

from cvproto.buildbucket.v2 import builds_service_pb2
from tryjobs import operations
from tryjobs.backend import LaunchError, get_backend
from tryjobs.buildbucket import backend as bb_backend
from tryjobs.buildbucket.fake_server import FakeBuildbucket
from tryjobs.models import TryjobStatus
from tryjobs.tests.actions_support import HOST, cvsite_run, defn, latest_tryjob, requirement

Response = builds_service_pb2.BatchResponse.Response


@pytest.mark.parametrize(
    ("n", "sizes"),
    [
        (0, []),
        (1, [1]),
        (200, [200]),
        (201, [100, 100, 1]),
        (450, [150, 150, 150]),
        (401, [133, 133, 133, 2]),
    ],
)
def test_batches_split_as_upstream(n, sizes):
    assert bb_backend.batch_sizes(n) == sizes
    assert sum(sizes) == n


def test_an_empty_batch_item_is_an_unexpected_error():
    assert bb_backend._launch_result(HOST, Response()) == LaunchError(
        None, "unexpected nil response"
    )
    parse_error = Response()
    parse_error.schedule_build.id = 1  # STATUS_UNSPECIFIED
    result = bb_backend._launch_result(HOST, parse_error)
    assert result.code is None and "unexpected buildbucket status" in result.message


@pytest.mark.django_db
def test_the_token_file_is_sent_and_never_logged(settings, tmp_path, slept, caplog):
    token = "ya29.secret-token-for-tests"
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    with FakeBuildbucket(host=HOST, expect_token=token) as fake:
        settings.TRYJOB_BACKEND = "tryjobs.buildbucket.backend.BuildbucketBackend"
        settings.BUILDBUCKET_URL_OVERRIDES = {HOST: fake.url}
        settings.BUILDBUCKET_TOKEN_FILE = str(token_file)
        get_backend.cache_clear()
        caplog.set_level(logging.DEBUG)
        try:
            run = cvsite_run()
            operations.set_requirement(run.id, requirement(defn("linux")), "op")
            assert latest_tryjob(run, 0).status == TryjobStatus.TRIGGERED

            token_file.write_text("a-revoked-token")  # read at every call
            run = cvsite_run()
            operations.set_requirement(run.id, requirement(defn("win")), "op")
            tryjob = latest_tryjob(run, 0)
        finally:
            get_backend.cache_clear()
    assert tryjob.status == TryjobStatus.UNTRIGGERED
    assert tryjob.untriggered_reason == (
        "received Unauthenticated from buildbucket. message: missing or wrong bearer token"
    )
    assert token not in caplog.text and "a-revoked-token" not in caplog.text
    assert "a-revoked-token" not in tryjob.untriggered_reason
