"""A database outage under load: cvsite served by gunicorn over a PostgreSQL this test starts
itself, stopped cleanly and then crashed while CQDaemon-like clients keep writing.

What must hold: every call answers OK or UNAVAILABLE (which clients retry), never INTERNAL;
every write that was answered OK is in the database afterwards; the service recovers on its
own once the database is back, without a restart; and the log carries no traceback.
"""

import threading
import time
from dataclasses import dataclass, field
from itertools import count

import psycopg
import requests

from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.migration import migration_pb2 as migration_pb
from cvsite.tests.gunicorn_support import gunicorn, issue_token, manage, production_env
from prpc.codes import Code
from runs.models import FinishedCQDRun

CLIENTS = 4
STEADY_SECONDS = 1.5
OUTAGE_SECONDS = 2.0
REPORT_FINISHED = "/prpc/migration.Migration/ReportFinishedRun"


@dataclass
class Outcome:
    key: str
    phase: str
    code: int | None  # None: no answer (connection refused or reset)


@dataclass
class Load:
    url: str
    token: str
    phase: str = "up"
    outcomes: list[Outcome] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, client: int) -> None:
        keys = count()
        with requests.Session() as session:
            while not self.stop.is_set():
                key = f"{client:02x}{next(keys):014x}"
                phase = self.phase
                try:
                    response = session.post(
                        self.url + REPORT_FINISHED,
                        data=finished(key),
                        headers={
                            "Content-Type": "application/prpc; encoding=binary",
                            "Accept": "application/prpc; encoding=binary",
                            "Authorization": f"Bearer {self.token}",
                        },
                        timeout=30,
                    )
                    code = int(response.headers["X-Prpc-Grpc-Code"])
                except requests.ConnectionError:
                    code = None
                with self.lock:
                    self.outcomes.append(Outcome(key, phase, code))


def finished(key: str) -> bytes:
    attempt = bq_pb.Attempt(key=key, luci_project="chromium", status=bq_pb.SUCCESS)
    attempt.gerrit_changes.add(host="chromium-review.googlesource.com", change=1, patchset=1)
    request = migration_pb.ReportFinishedRunRequest(run=migration_pb.ReportedRun(attempt=attempt))
    return request.SerializeToString()


def test_an_outage_answers_unavailable_loses_no_acknowledged_write_and_recovers(
    own_postgres, tmp_path
):
    env = production_env(own_postgres.url)
    manage(env, "migrate", "--no-input", "-v0")
    token = issue_token(env, "chromium")
    with gunicorn(env, tmp_path / "gunicorn.log", workers=1, threads=4) as server:
        load = Load(server.url, token)
        clients = [threading.Thread(target=load.run, args=(i,)) for i in range(CLIENTS)]
        for client in clients:
            client.start()
        try:
            for stop_mode, phase in (("fast", "stopped"), ("immediate", "crashed")):
                time.sleep(STEADY_SECONDS)
                own_postgres.stop(stop_mode)
                load.phase = phase
                time.sleep(OUTAGE_SECONDS)
                load.phase = "restarting"
                own_postgres.start()
                load.phase = "up"
            time.sleep(STEADY_SECONDS)
        finally:
            load.stop.set()
            for client in clients:
                client.join(timeout=60)
        log = server.log.read_text()

    by_phase: dict[str, set] = {}
    for outcome in load.outcomes:
        by_phase.setdefault(outcome.phase, set()).add(outcome.code)
    # The server itself never went away: every call got a pRPC answer.
    assert None not in set().union(*by_phase.values()), by_phase
    assert set().union(*by_phase.values()) <= {Code.OK, Code.UNAVAILABLE}, by_phase
    assert by_phase["stopped"] == {Code.UNAVAILABLE}
    assert by_phase["crashed"] == {Code.UNAVAILABLE}
    # Recovered on its own: calls made after the last restart succeed.
    last_up = [o.code for o in load.outcomes[-CLIENTS * 3 :]]
    assert last_up and set(last_up) == {Code.OK}, last_up

    acknowledged = {o.key for o in load.outcomes if o.code == Code.OK}
    with psycopg.connect(own_postgres.url) as connection:
        stored = {
            key
            for (key,) in connection.execute(
                f"SELECT attempt_key FROM {FinishedCQDRun._meta.db_table}"
            )
        }
    assert acknowledged and acknowledged <= stored
    assert "Traceback" not in log
