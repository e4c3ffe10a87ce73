"""The pRPC client against the live test server (and a few failure modes of its own)."""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests

from cvproto.migration import migration_pb2 as pb
from prpc import Code, PrpcError
from prpc.client import Client, RpcError
from prpc.tests.urls import STATE, rich_run

pytestmark = [pytest.mark.urls("prpc.tests.urls"), pytest.mark.django_db(transaction=True)]

SERVICE = "migration.Migration"


class Sleeps(list):
    """An injectable sleep that records instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_client(base_url, sleeps):
    clients = []

    def make(url: str | None = None, **kwargs) -> Client:
        kwargs.setdefault("sleep", sleeps)
        kwargs.setdefault("jitter", lambda: 0.0)
        client = Client(url or base_url, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def fetch(client: Client, project: str, **kwargs) -> pb.FetchActiveRunsResponse:
    return client.call(
        SERVICE,
        "FetchActiveRuns",
        pb.FetchActiveRunsRequest(luci_project=project),
        pb.FetchActiveRunsResponse,
        **kwargs,
    )


def wait_for_server_to_finish(calls: int = 1) -> None:
    """Waits until the server finished calls the client gave up on (observers run after the
    handler's transaction ended), so the test database is not flushed under them."""
    deadline = time.monotonic() + 10
    while len(STATE.observed) < calls and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(STATE.observed) >= calls


def context_info(response: pb.FetchActiveRunsResponse) -> dict:
    return json.loads(response.active_runs[0].id)


@pytest.mark.parametrize("fmt", ["binary", "json", "text"])
def test_round_trip(make_client, fmt):
    client = make_client(format=fmt)
    response = fetch(client, "echo:rt")
    assert response == pb.FetchActiveRunsResponse(active_runs=[rich_run("rt")])
    info = context_info(fetch(client, "context"))
    assert (info["request_format"], info["response_format"]) == (fmt, fmt)


def test_empty_request_and_empty_response(make_client):
    client = make_client()
    response = client.call(
        SERVICE, "FetchExcludedCLs", pb.FetchExcludedCLsRequest(), pb.FetchExcludedCLsResponse
    )
    assert [(c.host, c.change) for c in response.cls] == [("default-request", 1)]
    empty = client.call(SERVICE, "ReportRuns", pb.ReportRunsRequest(), pb.FetchRunStatusResponse)
    assert empty == pb.FetchRunStatusResponse()


def test_big_gzipped_response(make_client):
    response = fetch(make_client(), "big:100000")
    assert response.active_runs[0].id == "x" * 100000


def test_errors_map_to_rpc_error(make_client, sleeps):
    client = make_client()
    with pytest.raises(RpcError) as raised:
        client.call(
            SERVICE,
            "PostGerritMessage",
            pb.PostGerritMessageRequest(change=Code.NOT_FOUND, comment="no such CL"),
            pb.PostGerritMessageResponse,
        )
    error = raised.value
    assert isinstance(error, PrpcError)
    assert (error.code, error.message, error.http_status) == (Code.NOT_FOUND, "no such CL", 404)
    assert str(error) == "NOT_FOUND (HTTP 404): no such CL"
    assert sleeps == []


def test_unknown_codes_survive(make_client):
    with pytest.raises(RpcError) as raised:
        make_client(retries=0).call(
            SERVICE,
            "PostGerritMessage",
            pb.PostGerritMessageRequest(change=42, comment="x"),
            pb.PostGerritMessageResponse,
        )
    assert (raised.value.code, raised.value.http_status) == (42, 500)
    assert raised.value.message == "Server error"


@pytest.mark.parametrize("fmt", ["binary", "json", "text"])
def test_status_details(make_client, fmt):
    with pytest.raises(RpcError) as raised:
        fetch(make_client(format=fmt), "details")
    first, second = pb.FetchRunStatusResponse(), pb.ActiveRun()
    assert len(raised.value.details) == 2
    assert raised.value.details[0].Unpack(first) and first.event == "e1"
    assert raised.value.details[1].Unpack(second) and second.id == "r2"


@pytest.mark.parametrize(
    "code", [Code.UNAVAILABLE, Code.INTERNAL, Code.UNKNOWN, Code.DEADLINE_EXCEEDED]
)
def test_transient_errors_are_retried_with_backoff(make_client, sleeps, code):
    client = make_client(retries=5, initial_backoff=0.5, backoff_multiplier=2.0, max_backoff=3)
    response = fetch(client, f"flaky:k:4:{int(code)}")
    assert response.active_runs[0].id == "attempt 5"
    assert STATE.counters["k"] == 5
    assert sleeps == [0.5, 1.0, 2.0, 3.0]


def test_jitter_shortens_the_backoff(make_client, sleeps):
    client = make_client(retries=3, initial_backoff=1.0, jitter=iter([0.5, 0.999, 0.0]).__next__)
    fetch(client, f"flaky:j:3:{int(Code.UNAVAILABLE)}")
    assert sleeps == pytest.approx([0.75, 2 * 0.5005, 4.0])


def test_retries_are_bounded(make_client, sleeps):
    client = make_client(retries=2, initial_backoff=0.1)
    with pytest.raises(RpcError) as raised:
        fetch(client, f"flaky:b:10:{int(Code.UNAVAILABLE)}")
    assert raised.value.code == Code.UNAVAILABLE
    assert raised.value.http_status == 503
    assert STATE.counters["b"] == 3
    assert sleeps == pytest.approx([0.1, 0.2])


@pytest.mark.parametrize(
    "code",
    [
        Code.NOT_FOUND,
        Code.INVALID_ARGUMENT,
        Code.FAILED_PRECONDITION,
        Code.PERMISSION_DENIED,
        Code.UNAUTHENTICATED,
        Code.RESOURCE_EXHAUSTED,
        Code.ABORTED,
    ],
)
def test_non_transient_errors_are_not_retried(make_client, sleeps, code):
    with pytest.raises(RpcError) as raised:
        fetch(make_client(retries=5), f"flaky:n:3:{int(code)}")
    assert raised.value.code == code
    assert STATE.counters["n"] == 1
    assert sleeps == []


def test_retries_stop_at_the_deadline(make_client, sleeps):
    client = make_client(retries=5, initial_backoff=10.0)
    with pytest.raises(RpcError) as raised:
        fetch(client, f"flaky:d:3:{int(Code.UNAVAILABLE)}", deadline=5)
    assert raised.value.code == Code.UNAVAILABLE
    assert STATE.counters["d"] == 1
    assert sleeps == []


def test_deadline_is_sent_as_timeout_header(make_client):
    info = context_info(fetch(make_client(), "context", deadline=5))
    assert 4 < info["timeout"] <= 5
    assert 4 < info["remaining"] <= 5
    assert "x-prpc-grpc-timeout" not in info["metadata"]
    no_deadline = context_info(fetch(make_client(), "context"))
    assert no_deadline["timeout"] is None


def test_server_deadline_exceeded_is_reported(make_client, sleeps):
    client = make_client(retries=0)
    with pytest.raises(RpcError) as raised:
        fetch(client, "sleep-write:0.5:slow", deadline=0.2)
    assert raised.value.code == Code.DEADLINE_EXCEEDED
    assert raised.value.http_status is None  # the client stopped waiting at its deadline
    wait_for_server_to_finish()
    assert STATE.observed[0][2] == Code.DEADLINE_EXCEEDED


def test_auth_token_and_metadata(make_client):
    client = make_client(auth_token="good")
    assert fetch(client, "whoami").active_runs[0].id == "user:good@example.com"
    tokens = iter(["good", "bad"])
    rotating = make_client(auth_token=lambda: next(tokens), retries=0)
    assert fetch(rotating, "whoami").active_runs[0].id == "user:good@example.com"
    with pytest.raises(RpcError) as raised:
        fetch(rotating, "whoami")
    assert (raised.value.code, raised.value.http_status) == (Code.UNAUTHENTICATED, 401)

    info = context_info(
        fetch(
            make_client(),
            "context",
            metadata={"x-trace": "abc", "x-blob-bin": [b"\x00\x01", b"\xff"], "x-many": ["1", "2"]},
        )
    )
    assert info["metadata"]["x-trace"] == ["abc"]
    assert info["metadata"]["x-blob-bin"] == ["b64:AAE=", "b64:/w=="]
    assert info["metadata"]["x-many"] == ["1,2"]
    assert info["metadata"]["user-agent"] == ["cvsite pRPC client"]


def test_reserved_metadata_is_refused(make_client):
    with pytest.raises(ValueError, match="reserved"):
        fetch(make_client(), "echo", metadata={"X-Prpc-Grpc-Timeout": "1S"})


def test_non_prpc_responses_name_the_http_status(make_client, sleeps, base_url):
    client = make_client(f"{base_url}/proxy/404", retries=3)
    with pytest.raises(RpcError) as raised:
        fetch(client, "echo")
    error = raised.value
    assert (error.code, error.http_status) == (Code.INTERNAL, 404)
    assert error.message.startswith("HTTP 404 Not Found from ")
    assert "not a pRPC response (no X-Prpc-Grpc-Code header)" in error.message
    assert "proxy says 404" in error.message
    # INTERNAL is transient: a proxy's error page is retried.
    assert STATE.counters["not-prpc-404"] == 4 and len(sleeps) == 3


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (503, Code.UNAVAILABLE),
        (502, Code.INTERNAL),
        (401, Code.UNAUTHENTICATED),
        (403, Code.PERMISSION_DENIED),
    ],
)
def test_missing_code_header_by_status(make_client, base_url, status, code):
    client = make_client(f"{base_url}/proxy/{status}", retries=1)
    with pytest.raises(RpcError) as raised:
        fetch(client, "echo")
    assert (raised.value.code, raised.value.http_status) == (code, status)
    expected_attempts = 2 if code in (Code.UNAVAILABLE, Code.INTERNAL) else 1
    assert STATE.counters[f"not-prpc-{status}"] == expected_attempts


def test_unexpected_response_content_type(make_client, base_url):
    with pytest.raises(RpcError) as raised:
        fetch(make_client(f"{base_url}/wrongtype", retries=0), "echo")
    assert raised.value.code == Code.INTERNAL
    assert "asked for a binary response, got Content-Type 'text/html'" in raised.value.message


def test_connection_refused_is_unavailable_and_retried(make_client, sleeps):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(f"http://127.0.0.1:{port}", retries=2, initial_backoff=0.01)
    with pytest.raises(RpcError) as raised:
        fetch(client, "echo")
    assert raised.value.code == Code.UNAVAILABLE
    assert raised.value.http_status is None
    assert sleeps == pytest.approx([0.01, 0.02])


def test_read_timeout_is_deadline_exceeded(make_client, sleeps):
    client = make_client(timeout=0.2, retries=0)
    with pytest.raises(RpcError) as raised:
        fetch(client, "sleep-write:0.6:timeout")
    assert raised.value.code == Code.DEADLINE_EXCEEDED
    assert raised.value.http_status is None
    wait_for_server_to_finish()
    assert STATE.observed[0][2] == Code.OK  # no deadline was sent: the server committed


def test_uses_the_given_session(make_client):
    session = requests.Session()
    session.headers["X-From-Session"] = "yes"
    info = context_info(fetch(make_client(session=session), "context"))
    assert info["metadata"]["x-from-session"] == ["yes"]
    session.close()


def test_client_argument_validation():
    with pytest.raises(ValueError, match="http"):
        Client("example.com")
    with pytest.raises(ValueError):
        Client("http://x", format="xml")
    with pytest.raises(ValueError):
        Client("http://x", retries=-1)
