"""The production serving recipe (gunicorn.conf.py, as `make serve` runs it) under slow clients.

Each test starts gunicorn with the repository's own config file, production settings and a
throwaway SQLite database, on a free port, with 1 worker x 2 threads, then opens more slow
connections than there are threads: clients that send their headers, then trickle their body
a byte at a time. Without cvsite's own defences those clients hold every thread for minutes;
with them, a normal call is still answered. The bounds below are timeouts that stop a hung
test, far above what a working server needs; they are not speed measurements.
"""

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from cvproto.migration import migration_pb2 as migration_pb
from cvsite.tests.gunicorn_support import Served, gunicorn, issue_token, manage, production_env

THREADS = 2
SLOW_CLIENTS = THREADS + 2
BODY_READ_SECONDS = 2
# A trickle of 1 byte every TRICKLE_PAUSE s of a BODY_SIZE-byte body would last 5 minutes.
BODY_SIZE = 600
TRICKLE_PAUSE = 0.5
# Far above what a working server needs, far below what the trickle would hold a thread for.
ANSWER_BOUND_SECONDS = 20
FETCH = "/prpc/migration.Migration/FetchActiveRuns"
SCRAPER = "scraper-secret"


@dataclass
class Endpoint:
    server: Served
    token: str


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Endpoint]:
    tmp = tmp_path_factory.mktemp("serve")
    metrics_dir = tmp / "metrics"
    metrics_dir.mkdir()
    env = production_env(
        f"sqlite:///{tmp / 'serve.sqlite3'}",
        PRPC_BODY_READ_SECONDS=str(BODY_READ_SECONDS),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        METRICS_BEARER_TOKEN=SCRAPER,
    )
    manage(env, "migrate", "--no-input", "-v0")
    token = issue_token(env, "chromium")
    with gunicorn(env, tmp / "gunicorn.log", workers=1, threads=THREADS) as server:
        yield Endpoint(server, token)


def _fetch_request() -> bytes:
    return migration_pb.FetchActiveRunsRequest(luci_project="chromium").SerializeToString()


class SlowClient(threading.Thread):
    """Sends its headers at once, then its body one byte at a time; records the answer."""

    def __init__(self, address: tuple[str, int], token: str):
        super().__init__(daemon=True)
        self.address = address
        self.token = token
        self.status_line = ""
        self.stop = threading.Event()

    def run(self) -> None:
        with socket.create_connection(self.address, timeout=ANSWER_BOUND_SECONDS * 2) as s:
            s.sendall(
                (
                    f"POST {FETCH} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Content-Type: application/prpc; encoding=binary\r\n"
                    f"Authorization: Bearer {self.token}\r\n"
                    f"Content-Length: {BODY_SIZE}\r\n\r\n"
                ).encode()
            )
            s.setblocking(False)
            for _ in range(BODY_SIZE):
                if self.stop.wait(TRICKLE_PAUSE):
                    return
                try:
                    answer = s.recv(4096)
                except BlockingIOError:
                    answer = b""
                if answer:
                    self.status_line = answer.split(b"\r\n", 1)[0].decode()
                    return
                try:
                    s.send(b"\0")
                except OSError:
                    return


def _normal_call(served: Endpoint) -> requests.Response:
    return requests.post(
        served.server.url + FETCH,
        data=_fetch_request(),
        headers={
            "Content-Type": "application/prpc; encoding=binary",
            "Accept": "application/prpc; encoding=binary",
            "Authorization": f"Bearer {served.token}",
        },
        timeout=ANSWER_BOUND_SECONDS,
    )


@pytest.mark.parametrize("token_kind", ["valid", "invalid"])
def test_a_normal_call_is_answered_while_slow_clients_outnumber_the_threads(served, token_kind):
    token = served.token if token_kind == "valid" else "not-a-token"
    slow = [SlowClient(served.server.address, token) for _ in range(SLOW_CLIENTS)]
    for client in slow:
        client.start()
    try:
        time.sleep(TRICKLE_PAUSE * 2)  # every slow client has sent its headers by now
        response = _normal_call(served)
        assert response.status_code == 200, response.text
        assert response.headers["X-Prpc-Grpc-Code"] == "0"
        for client in slow:
            client.join(timeout=ANSWER_BOUND_SECONDS)
    finally:
        for client in slow:
            client.stop.set()
    # A slow client without a token is refused from its headers; one with a token is cut off
    # once its body has taken PRPC_BODY_READ_SECONDS.
    expected = "HTTP/1.1 504" if token_kind == "valid" else "HTTP/1.1 401"
    assert [" ".join(c.status_line.split(" ")[:2]) for c in slow] == [expected] * SLOW_CLIENTS


def test_the_workers_metrics_are_served_added_up(served):
    for _ in range(3):
        assert _normal_call(served).status_code == 200
    scraped = requests.get(
        served.server.url + "/metrics",
        headers={"Authorization": f"Bearer {SCRAPER}"},
        timeout=ANSWER_BOUND_SECONDS,
    )
    assert scraped.status_code == 200
    calls = [
        sample
        for family in text_string_to_metric_families(scraped.text)
        for sample in family.samples
        if sample.name == "prpc_calls_total"
        and sample.labels
        == {"service": "migration.Migration", "method": "FetchActiveRuns", "code": "OK"}
    ]
    assert len(calls) == 1 and calls[0].value >= 3
