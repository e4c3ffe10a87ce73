"""ReportVerifiedRun throughput over HTTP, served by gunicorn (2 sync workers), against a minimal
Django view served by the same gunicorn that decodes the same request, inserts one row and
encodes an Empty answer (`bench.minimal_urls`).

ratio = cvsite requests/s / minimal requests/s; the goal is >= 0.5, i.e. the whole call (auth,
per-project check, locking the run, storing the verdict, the run event, the Gerrit outbox rows,
the durable task, the call record) costs at most twice the least a Django view can do.

One gunicorn (`bench.settings`: cvsite's production settings from the environment, plus the
baseline URL) on 127.0.0.1 at an ephemeral port, over the benchmark's temporary SQLite file;
then the same again over a fresh PostgreSQL database (bench.postgres: BENCH_POSTGRES_URL;
skipped when no server answers), where every statement is a round trip to the server.
Each request reports a different RUNNING dry run (1 CL) verified: DRY_RUN_OK. Both paths are
measured in alternating rounds from the same client threads (one requests.Session each), so
drift on a noisy machine hits both. Gunicorn's sync workers close the connection after each
response, so sessions reconnect for every request, on both paths alike.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from django.conf import settings
from django.db import connections

from bench import postgres
from bench.fetch_active_runs import create_runs
from bench.minimal_urls import MINIMAL_PATH
from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.migration import migration_pb2 as migration_pb
from cvproto.times import to_timestamp
from migration_api.models import ApiToken
from runs.models import VerifiedCQDRun

PROJECT = "bench-verify"
REQUESTS = 400  # per path, measured
WARMUP = 20  # per path, before measuring: imports, connections
ROUNDS = 8
THREADS = 4
WORKERS = 2
GOAL = 0.5
READY_SECONDS = 60
REQUEST_TIMEOUT = 30
ROOT = Path(__file__).resolve().parent.parent
CVSITE_PATH = "prpc/migration.Migration/ReportVerifiedRun"
BINARY = "application/prpc; encoding=binary"


def verified_requests(count: int) -> list[bytes]:
    """One DRY_RUN_OK report for each of `count` new runs, encoded."""
    bodies = []
    for built in create_runs(PROJECT, count, 1, mode="DRY_RUN", fyi=False):
        run = built.run
        attempt = bq_pb.Attempt(
            key=run.cqd_attempt_key,
            luci_project=PROJECT,
            config_group="default",
            start_time=to_timestamp(run.start_time),
            status=bq_pb.STARTED,
            gerrit_changes=[
                bq_pb.GerritChange(
                    host=cl.gc.host,
                    project=cl.gc.project,
                    change=cl.gc.change,
                    patchset=cl.gc.patchset,
                    earliest_equivalent_patchset=cl.gc.earliest_equivalent_patchset,
                    trigger_time=cl.trigger.time,
                    mode=cl.gc.mode,
                )
                for cl in built.message.cls
            ],
        )
        bodies.append(
            migration_pb.ReportVerifiedRunRequest(
                run=migration_pb.ReportedRun(id=run.id, attempt=attempt),
                action=migration_pb.ReportVerifiedRunRequest.ACTION_DRY_RUN_OK,
            ).SerializeToString()
        )
    return bodies


class Server:
    """gunicorn serving `bench.settings` on 127.0.0.1 at an ephemeral port; stop() always."""

    def __init__(self, log_path: Path):
        self.log_path = log_path
        # Bound here and handed over, so the port is known and never raced for.
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": settings.SECRET_KEY,
            "NETRC_TOKEN_KEYS": ",".join(settings.NETRC_TOKEN_KEYS),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_LOG_LEVEL": "WARNING",
            "DATABASE_URL": os.environ["DATABASE_URL"],
            "PYTHONPATH": str(ROOT),
        }
        fd = self.sock.fileno()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            f"--bind=fd://{fd}",
            f"--workers={WORKERS}",
            "--worker-class=sync",
            "--timeout=60",
            "--graceful-timeout=5",
            "--log-level=warning",
            f"--error-logfile={self.log_path}",
            "cvsite.wsgi:application",
        ]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                pass_fds=(fd,),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # its own process group: its workers go with it
            )

    def wait_ready(self, probe: bytes) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log()}")
            try:
                response = requests.post(f"{self.url}/{MINIMAL_PATH}", data=probe, timeout=5)
                if response.status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {READY_SECONDS} s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        self.sock.close()
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # the master stops its workers gracefully
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)


def send_all(sessions: list[requests.Session], url: str, bodies: list[bytes], headers: dict):
    """Posts every body, spread over one thread per session; (elapsed seconds, failures)."""
    failures: list[str] = []

    def worker(session: requests.Session, mine: list[bytes]) -> None:
        for body in mine:
            try:
                response = session.post(url, data=body, headers=headers, timeout=REQUEST_TIMEOUT)
            except requests.RequestException as e:
                failures.append(repr(e))
                continue
            if response.status_code != 200 or response.headers.get("X-Prpc-Grpc-Code") != "0":
                failures.append(f"HTTP {response.status_code}: {response.text[:200]}")

    threads = [
        threading.Thread(target=worker, args=(session, bodies[i :: len(sessions)]))
        for i, session in enumerate(sessions)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, failures


def run() -> None:
    print(
        f"report_verified_run: {REQUESTS} calls each over HTTP, gunicorn {WORKERS} sync workers, "
        f"{THREADS} client threads"
    )
    report("SQLite", measure())
    postgres.measure_in_fresh_database("report_verified_run", "measure_on_postgres")


def report(database: str, rate: dict[str, float]) -> None:
    ratio = rate["cvsite"] / rate["minimal"]
    verdict = "meets" if ratio >= GOAL else "misses"
    print(
        f"  {database}: cvsite {rate['cvsite']:.0f} req/s, minimal {rate['minimal']:.0f} req/s; "
        f"ratio {ratio:.2f} ({verdict} goal >= {GOAL})"
    )


def measure() -> dict[str, float]:
    """Requests/s of both paths, by path name, over the database Django is configured with."""
    cvsite_bodies = verified_requests(WARMUP + REQUESTS)
    minimal_bodies = cvsite_bodies  # the baseline decodes the very same messages
    _, token = ApiToken.issue("bench-report-verified-run", [PROJECT])
    headers = {"Content-Type": BINARY, "Accept": BINARY, "Authorization": f"Bearer {token}"}
    connections.close_all()  # the workers write to the same database

    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "gunicorn.log")
        sessions = [requests.Session() for _ in range(THREADS)]
        try:
            server.start()
            server.wait_ready(minimal_bodies[0])
            paths = {
                "cvsite": (f"{server.url}/{CVSITE_PATH}", cvsite_bodies),
                "minimal": (f"{server.url}/{MINIMAL_PATH}", minimal_bodies),
            }
            elapsed = dict.fromkeys(paths, 0.0)
            failures: list[str] = []
            for url, bodies in paths.values():
                failures += send_all(sessions, url, bodies[:WARMUP], headers)[1]
            per_round = REQUESTS // ROUNDS
            for r in range(ROUNDS):
                order = list(paths) if r % 2 == 0 else list(reversed(paths))
                for name in order:
                    url, bodies = paths[name]
                    start = WARMUP + r * per_round
                    seconds, failed = send_all(
                        sessions, url, bodies[start : start + per_round], headers
                    )
                    elapsed[name] += seconds
                    failures += failed
        finally:
            for session in sessions:
                session.close()
            server.stop()
        if failures:
            raise RuntimeError(
                f"{len(failures)} requests failed, e.g. {failures[0]}\n{server.log()}"
            )

    measured = per_round * ROUNDS
    stored = VerifiedCQDRun.objects.filter(run__project=PROJECT).count()
    assert stored == WARMUP + measured, f"{stored} verdicts stored for {WARMUP + measured} calls"
    return {name: measured / seconds for name, seconds in elapsed.items()}


def measure_on_postgres() -> None:
    report("PostgreSQL", measure())
