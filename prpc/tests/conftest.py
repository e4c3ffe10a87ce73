"""Fixtures for the pRPC tests: a live server with the test service, and a raw HTTP helper."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from prpc.tests.urls import STATE

SERVICE = "migration.Migration"


@pytest.fixture(autouse=True)
def reset_state():
    STATE.reset()
    yield
    STATE.reset()


@pytest.fixture
def base_url(live_server) -> str:
    return live_server.url


Post = Callable[..., requests.Response]


@pytest.fixture
def post(base_url: str) -> Post:
    """POSTs raw bytes to /prpc/<service>/<method> on the live server.

    Only the headers given are sent, besides Host, Content-Length, Connection and requests'
    User-Agent (no default Accept or Accept-Encoding), so each test states what it sends.
    """

    def do(
        method: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        *,
        service: str = SERVICE,
        http_method: str = "POST",
        stream: bool = False,
    ) -> requests.Response:
        sent = {"Accept": None, "Accept-Encoding": None}
        sent.update(headers or {})
        return requests.request(
            http_method,
            f"{base_url}/prpc/{service}/{method}",
            data=body,
            headers=sent,
            timeout=30,
            stream=stream,
        )

    return do
