"""BuildbucketBackend details: batch splitting, odd Batch answers, credentials."""

import logging
from datetime import timedelta

import pytest

from cvproto.buildbucket.v2 import builds_service_pb2
from runs import clock
from runs.models import Run, RunCL, RunStatus
from tryjobs import operations, stale
from tryjobs.backend import LaunchError, get_backend
from tryjobs.buildbucket import backend as bb_backend
from tryjobs.buildbucket import poller
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
    assert bb_backend.launch_result(HOST, Response()) == LaunchError(
        None, "unexpected nil response"
    )
    parse_error = Response()
    parse_error.schedule_build.id = 1  # STATUS_UNSPECIFIED
    result = bb_backend.launch_result(HOST, parse_error)
    assert result.code is None and "unexpected buildbucket status" in result.message


@pytest.fixture
def token_files(settings, tmp_path):
    """Per-project token files (chromium's own, the default for the others); the fake
    Buildbucket knows each token as its project."""
    tokens = {"ya29.chromium-secret": "project:chromium", "ya29.default-secret": "project:*"}
    for token, name in (("ya29.chromium-secret", "chromium"), ("ya29.default-secret", "default")):
        (tmp_path / name).write_text(token + "\n")
    settings.BUILDBUCKET_TOKEN_FILES = {"chromium": str(tmp_path / "chromium")}
    settings.BUILDBUCKET_TOKEN_FILE = str(tmp_path / "default")
    with FakeBuildbucket(host=HOST, tokens=tokens) as fake:
        settings.TRYJOB_BACKEND = "tryjobs.buildbucket.backend.BuildbucketBackend"
        settings.BUILDBUCKET_URL_OVERRIDES = {HOST: fake.url}
        get_backend.cache_clear()
        yield fake, tmp_path
        get_backend.cache_clear()


@pytest.mark.django_db
def test_each_project_calls_with_its_own_token_and_none_is_logged(token_files, slept, caplog):
    fake, tmp_path = token_files
    caplog.set_level(logging.DEBUG)
    chromium, v8 = cvsite_run("chromium"), cvsite_run("v8")
    for run in (chromium, v8):
        operations.set_requirement(run.id, requirement(defn("linux")), "op")
        assert latest_tryjob(run, 0).status == TryjobStatus.TRIGGERED
    assert fake.callers == [
        ("SearchBuilds", "project:chromium"),
        ("SearchBuilds", "project:chromium"),
        ("Batch", "project:chromium"),
        ("SearchBuilds", "project:*"),
        ("SearchBuilds", "project:*"),
        ("Batch", "project:*"),
    ]
    # The poll fetches each build as the project of the run that launched it.
    fake.callers.clear()
    report = poller.poll_builds(get_backend().fetch, now=clock.now(), older_than=timedelta(0))
    assert report.fetched == 2 and not report.failed
    assert sorted(fake.callers) == [("GetBuild", "project:*"), ("GetBuild", "project:chromium")]
    # So does a stale build's cancellation.
    fake.callers.clear()
    Run.objects.filter(id=chromium.id).update(status=RunStatus.CANCELLED, end_time=clock.now())
    cl = RunCL.objects.filter(run=chromium).first().cl
    assert stale.cancel_stale_tryjobs(cl.id, cl.patchset, cl.patchset + 1).cancelled
    assert fake.callers == [("CancelBuild", "project:chromium")]

    (tmp_path / "chromium").write_text("a-revoked-token")  # read at every call
    run = cvsite_run("chromium")
    operations.set_requirement(run.id, requirement(defn("win")), "op")
    tryjob = latest_tryjob(run, 0)
    assert tryjob.status == TryjobStatus.UNTRIGGERED
    assert tryjob.untriggered_reason == (
        "received Unauthenticated from buildbucket. message: missing or wrong bearer token"
    )
    for secret in ("ya29.chromium-secret", "ya29.default-secret", "a-revoked-token"):
        assert secret not in caplog.text and secret not in tryjob.untriggered_reason


@pytest.mark.django_db
def test_an_unreadable_token_file_fails_the_launch_naming_the_project(token_files, slept):
    fake, tmp_path = token_files
    (tmp_path / "chromium").unlink()
    run = cvsite_run("chromium")
    operations.set_requirement(run.id, requirement(defn("linux")), "op")
    tryjob = latest_tryjob(run, 0)
    assert tryjob.status == TryjobStatus.UNTRIGGERED
    assert tryjob.untriggered_reason == (
        "received Unauthenticated from buildbucket. message: the Buildbucket token file of "
        "project 'chromium' cannot be read: No such file or directory"
    )
    assert fake.callers == []
