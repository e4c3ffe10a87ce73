"""ReportUsedNetrc: the .netrc `login:password` CQDaemon uses for a Gerrit host.

Behaviour of upstream's 2021-06-22 "F" server (shared/reference/migration_behaviour.md §2.8):
host and token are required, the last write per host wins, and cvsite then sends the token as
Basic auth to that host. On top of it, a token is kept per LUCI project of the caller's API
token, and only that project's Gerrit calls use it; what a token for every project reports is
the host's default, for projects that reported none. cvsite stores it encrypted, and it shows
in no log line, call record, RunEvent or error message. Through a live cvsite, with binary
and JSON bodies.
"""

import base64
import logging

import pytest
from google.protobuf import empty_pb2

from cvproto.migration import migration_pb2 as migration_pb
from migration_api.models import ApiCall
from migration_api.tests.rpc_support import HOST, assert_calls, live, post_request, rpc_error
from prpc.codes import Code
from runs.models import NetrcToken, RunEvent
from runs.tests.factories import make_run_of_changes

SECRET = "git-cqd.chromium.org:1/SuperSecretNetrcPassword"


@live
def test_report_used_netrc_stores_the_token_encrypted_and_the_last_write_wins(api, caplog):
    caplog.set_level(logging.DEBUG)
    request = migration_pb.ReportUsedNetrcRequest(gerrit_host=HOST, access_token=SECRET)

    assert api.ReportUsedNetrc(request) == empty_pb2.Empty()

    row = NetrcToken.objects.get()
    assert (row.project, row.gerrit_host) == ("chromium", HOST)
    stored = bytes(row.encrypted_access_token)
    assert SECRET.encode() not in stored and b"SuperSecret" not in stored
    assert row.access_token() == SECRET

    newer = SECRET + "-rotated"
    api.ReportUsedNetrc(migration_pb.ReportUsedNetrcRequest(gerrit_host=HOST, access_token=newer))
    api.ReportUsedNetrc(
        migration_pb.ReportUsedNetrcRequest(
            gerrit_host="other-review.example.com", access_token="a:b"
        )
    )

    assert NetrcToken.objects.get(gerrit_host=HOST).access_token() == newer
    assert NetrcToken.objects.count() == 2
    assert_calls(*[("ReportUsedNetrc", "OK")] * 3)
    assert_secret_nowhere("SuperSecret", caplog)


def assert_secret_nowhere(secret: str, caplog) -> None:
    assert secret not in caplog.text
    for call in ApiCall.objects.values():
        assert all(secret not in str(value) for value in call.values())
    for event in RunEvent.objects.values():
        assert all(secret not in str(value) for value in event.values())


@live
def test_a_token_is_stored_for_the_callers_projects_only(make_api):
    # Finding 2: a webrtc CQDaemon replaced the credential chromium's Gerrit posts used.
    chromium, webrtc = make_api(["chromium"]), make_api(["webrtc", "libyuv"])
    every = make_api([], all_projects=True)
    for api, token in ((chromium, "c:1"), (webrtc, "w:2"), (every, "d:3")):
        api.ReportUsedNetrc(
            migration_pb.ReportUsedNetrcRequest(gerrit_host=HOST, access_token=token)
        )
    stored = {row.project: row.access_token() for row in NetrcToken.objects.all()}
    assert stored == {"chromium": "c:1", "webrtc": "w:2", "libyuv": "w:2", "*": "d:3"}
    assert NetrcToken.stored_for(HOST, "chromium") == "c:1"
    assert NetrcToken.stored_for(HOST, "v8") == "d:3"  # the default, for a silent project


@live
def test_an_oversized_token_is_refused_naming_the_limit(api):
    error = rpc_error(
        Code.INVALID_ARGUMENT,
        api.ReportUsedNetrc,
        migration_pb.ReportUsedNetrcRequest(gerrit_host=HOST, access_token="x:" + "y" * 5000),
    )
    assert error.message == "access_token is longer than 4096 characters"
    assert not NetrcToken.objects.exists()


@live
@pytest.mark.parametrize(
    "host, token",
    [("", SECRET), (HOST, ""), ("", "")],
    ids=["no-host", "no-token", "neither"],
)
def test_report_used_netrc_requires_host_and_token(api, caplog, host, token):
    caplog.set_level(logging.DEBUG)
    error = rpc_error(
        Code.INVALID_ARGUMENT,
        api.ReportUsedNetrc,
        migration_pb.ReportUsedNetrcRequest(gerrit_host=host, access_token=token),
    )
    assert error.message == "access_token and gerrit_host required"
    assert NetrcToken.objects.count() == 0
    assert_calls(("ReportUsedNetrc", "INVALID_ARGUMENT"))
    assert_secret_nowhere("SuperSecret", caplog)


@live
def test_report_used_netrc_refusing_a_bad_host_does_not_echo_the_token(api, caplog):
    caplog.set_level(logging.DEBUG)
    error = rpc_error(
        Code.INVALID_ARGUMENT,
        api.ReportUsedNetrc,
        migration_pb.ReportUsedNetrcRequest(gerrit_host="bad\x00host", access_token=SECRET),
    )
    assert "SuperSecret" not in error.message
    assert NetrcToken.objects.count() == 0
    assert_secret_nowhere("SuperSecret", caplog)


@live
def test_the_reported_netrc_token_authenticates_gerrit_posts(make_api, fmt, fake_gerrit, caplog):
    """Without configured credentials the stored `login:password` is sent as Basic auth."""
    caplog.set_level(logging.DEBUG)
    fake_gerrit.add_change(1, project="chromium/src")
    run = make_run_of_changes(fake_gerrit, [1], mode="DRY_RUN")
    api = make_api(["chromium"], format=fmt)

    api.ReportUsedNetrc(
        migration_pb.ReportUsedNetrcRequest(gerrit_host=fake_gerrit.host, access_token=SECRET)
    )
    api.PostGerritMessage(post_request(run, fake_gerrit))

    [post] = fake_gerrit.requests_to("POST", "/review")
    assert post.path.startswith("/a/changes/")
    assert post.authorization == "Basic " + base64.b64encode(SECRET.encode()).decode()
    # The live server's log lines are captured too (so the checks below see them).
    assert f"Gerrit {fake_gerrit.host}: POST /a/changes/" in caplog.text
    # A refused post's error names no credential either.
    fake_gerrit.fail_next(403, path_contains="/review", body=f"denied for {SECRET}\n")
    error = rpc_error(
        Code.PERMISSION_DENIED, api.PostGerritMessage, post_request(run, fake_gerrit, comment="2")
    )
    assert "SuperSecret" not in error.message
    assert_secret_nowhere("SuperSecret", caplog)
