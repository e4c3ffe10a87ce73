"""The production serving recipe (gunicorn.conf.py, as `make serve` runs it) under slow clients.

Each test starts gunicorn with the repository's own config file, production settings and a
throwaway SQLite database, on a free port, with 1 worker x 2 threads, then opens more slow
connections than there are threads: clients that send their headers, then trickle their body
a byte at a time. Without cvsite's own defences those clients hold every thread for minutes;
with them, a normal call is still answered. The bounds below are timeouts that stop a hung
test, far above what a working server needs; they are not speed measurements.
"""

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from cvproto.migration import migration_pb2 as migration_pb

ROOT = Path(__file__).resolve().parents[2]
THREADS = 2
SLOW_CLIENTS = THREADS + 2
BODY_READ_SECONDS = 2
# A trickle of 1 byte every TRICKLE_PAUSE s of a BODY_SIZE-byte body would last 5 minutes.
BODY_SIZE = 600
TRICKLE_PAUSE = 0.5
# Far above what a working server needs, far below what the trickle would hold a thread for.
ANSWER_BOUND_SECONDS = 20
FETCH = "/prpc/migration.Migration/FetchActiveRuns"


@dataclass
class Served:
    url: str
    token: str
    host_port: tuple[str, int]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("serve")
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cvsite.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "serving-test-" + "k" * 50,
        "NETRC_TOKEN_KEYS": "dGVzdC1vbmx5LW5ldHJjLWtleS0wMDAwMDAwMDAwMDA=",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": f"sqlite:///{tmp / 'serve.sqlite3'}",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": str(THREADS),
        "PRPC_BODY_READ_SECONDS": str(BODY_READ_SECONDS),
    }
    _manage(env, "migrate", "--no-input", "-v0")
    token = _manage(env, "create_api_token", "cqdaemon-test", "--project", "chromium")
    token = token.strip().splitlines()[-1]
    log = (tmp / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp / "gunicorn.log").read_text()
            try:
                requests.get(url + "/", timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        yield Served(url, token, ("127.0.0.1", port))
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


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


def _normal_call(served: Served) -> requests.Response:
    return requests.post(
        served.url + FETCH,
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
    slow = [SlowClient(served.host_port, token) for _ in range(SLOW_CLIENTS)]
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
