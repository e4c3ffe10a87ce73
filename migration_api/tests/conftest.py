"""A live cvsite and a pRPC client holding a token, for the Migration API tests."""

import gc
import threading
import time

import pytest
import requests
from django.core.servers.basehttp import ThreadedWSGIServer

from migration_api.models import ApiToken
from migration_api.tests.fuzz_support import ENCODINGS, Tally
from prpc.client import Client

SERVICE = "migration.Migration"


class MigrationClient:
    """Calls one Migration method: `api.FetchActiveRuns(request)` -> response."""

    def __init__(self, client: Client):
        from cvproto.migration import migration_pb2

        self.client = client
        self.service = migration_pb2.DESCRIPTOR.services_by_name["Migration"]

    def __getattr__(self, method: str):
        from google.protobuf import message_factory

        descriptor = self.service.methods_by_name[method]
        response_class = message_factory.GetMessageClass(descriptor.output_type)

        def call(request, **kwargs):
            return self.client.call(SERVICE, method, request, response_class, **kwargs)

        return call


@pytest.fixture
def make_api(live_server):
    """api(projects=["chromium"], format="binary") -> a MigrationClient with a fresh token.

    The clients are closed after the test, and the live server's request threads awaited: an
    open keep-alive connection keeps a thread, and its database connection, alive, and
    PostgreSQL then cannot drop the test database.
    """
    clients = []

    def make(projects=("chromium",), *, all_projects=False, format="binary", retries=0):
        _, token = ApiToken.issue("cqdaemon-test", list(projects), all_projects=all_projects)
        client = Client(live_server.url, auth_token=token, format=format, retries=retries)
        clients.append(client)
        return MigrationClient(client)

    yield make
    for client in clients:
        client.close()
    wait_for_request_threads()


@pytest.fixture(params=["binary", "json"])
def fmt(request) -> str:
    """Each test that uses it runs twice: with binary and with JSON bodies."""
    return request.param


@pytest.fixture
def api(make_api, fmt) -> MigrationClient:
    """A client holding a token for project chromium only."""
    return make_api(["chromium"], format=fmt)


@pytest.fixture
def both_api(make_api, fmt) -> MigrationClient:
    """A client holding a token for chromium and v8."""
    return make_api(["chromium", "v8"], format=fmt)


def wait_for_request_threads(timeout: float = 5.0) -> None:
    """Waits for the live server's request threads to finish now that the clients hung up.

    A caught RpcError's traceback keeps the HTTP response, and with it the socket, alive
    until the garbage collector breaks that cycle: collect first.
    """
    gc.collect()
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        # Thread(target=server.process_request_thread): only the live server's threads.
        server = getattr(getattr(thread, "_target", None), "__self__", None)
        if isinstance(server, ThreadedWSGIServer):
            thread.join(max(0.0, deadline - time.monotonic()))


def pytest_terminal_summary(terminalreporter):
    if Tally.requests:
        terminalreporter.write_line(
            f"fuzz: {Tally.requests} requests, {Tally.http_500} answered HTTP 500"
        )


@pytest.fixture
def post_body(live_server):
    """post_body(method, encoding, body) -> the live server's answer to a raw request body,
    sent with a token valid for every project (the fuzz and boundary tests)."""
    _, token = ApiToken.issue("fuzzer", [], all_projects=True)

    def post(method: str, encoding: str, body: bytes) -> requests.Response:
        media_type = ENCODINGS[encoding]
        return requests.post(
            f"{live_server.url}/prpc/{SERVICE}/{method}",
            data=body,
            headers={
                "Content-Type": media_type,
                "Accept": media_type,
                "Authorization": f"Bearer {token}",
                # One connection a request: a kept-alive one to Django's development server
                # stalls 40 ms a request (its small writes meet the client's delayed ACK).
                "Connection": "close",
            },
            timeout=60,
        )

    yield post
    wait_for_request_threads()
