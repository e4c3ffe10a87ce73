"""Several task workers (`manage.py db_worker`) share one queue on PostgreSQL: the library
locks each task's row as a worker claims it, so with four workers over a thousand and more
tasks every task runs exactly once, every result message reaches Gerrit exactly once, and
the executor passes of one run never overlap (each takes the run's lock): every tryjob's end
is taken in by exactly one pass, and every run ends once."""

import json
import subprocess
import sys
from collections import Counter

import psycopg
from django_tasks_db.models import DBTaskResult

from cvsite.tests.gunicorn_support import ROOT, manage, production_env
from cvsite.tests.worker_support import BUILDERS
from gerrit.fake import FakeGerrit
from runs.models import GerritPost, RunEvent, RunStatus
from runs.posts import VERIFIED_OK_MESSAGE
from tryjobs.models import TryjobEvent

WORKERS = 4
CHANGES = 50
RUNS_PER_CHANGE = 24  # 1,200 runs, each leaving one task that posts its result
EXECUTOR_RUNS = 60  # on changes of their own, each with 4 tryjobs ending: 240 passes queued


def test_four_workers_run_every_task_once_and_post_every_message_once(own_postgres):
    with FakeGerrit() as gerrit:
        for change in range(1, CHANGES + EXECUTOR_RUNS + 1):
            gerrit.add_change(change)
        env = production_env(
            own_postgres.url,
            GERRIT_URL_OVERRIDES=json.dumps({gerrit.host: gerrit.url}),
            GERRIT_AUTH=json.dumps({gerrit.host: "cvsite:secret"}),
            TRYJOB_BACKEND="tryjobs.fake_backend.FakeBackend",
        )
        manage(env, "migrate", "--no-input", "-v0")
        manage(
            env,
            "shell",
            "-c",
            "from cvsite.tests.worker_support import seed; "
            f"seed({gerrit.host!r}, {CHANGES}, {RUNS_PER_CHANGE}); "
            "from cvsite.tests.worker_support import seed_executor_passes; "
            f"seed_executor_passes({gerrit.host!r}, "
            f"range({CHANGES + 1}, {CHANGES + EXECUTOR_RUNS + 1}))",
        )
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "db_worker",
                    "--queue-name",
                    "*",
                    "--batch",
                    "--no-startup-delay",
                    "--worker-id",
                    f"worker-{i}",
                    "-v0",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(WORKERS)
        ]
        failures = []
        for worker in workers:
            _, errors = worker.communicate(timeout=600)
            if worker.returncode != 0:
                failures.append(errors)
        assert not failures, failures
        posted = Counter(
            request.body["message"]
            for request in gerrit.requests_to("POST", "/review")
            if request.fault is None
        )

    # Each result once; and each executor run's success once.
    expected = {f"result {c}/{n}" for c in range(1, CHANGES + 1) for n in range(RUNS_PER_CHANGE)}
    assert set(posted) == expected | {VERIFIED_OK_MESSAGE}
    assert posted.pop(VERIFIED_OK_MESSAGE) == EXECUTOR_RUNS
    assert set(posted.values()) == {1}
    with psycopg.connect(own_postgres.url) as connection:
        tasks = connection.execute(
            f"SELECT status, worker_ids FROM {DBTaskResult._meta.db_table}"
        ).fetchall()
        unposted = connection.execute(
            f"SELECT count(*) FROM {GerritPost._meta.db_table} WHERE posted_at IS NULL"
        ).fetchone()[0]
    assert len(tasks) >= CHANGES * RUNS_PER_CHANGE + EXECUTOR_RUNS
    assert {status for status, _ in tasks} == {"SUCCESSFUL"}
    # Each task was claimed by one worker, once; and the work was shared.
    assert all(len(ids) == 1 for _, ids in tasks)
    assert len({ids[0] for _, ids in tasks}) > 1
    assert unposted == 0
    with psycopg.connect(own_postgres.url) as connection:
        ended_twice = connection.execute(
            f"SELECT run_id FROM {RunEvent._meta.db_table} WHERE to_status = %s "
            "GROUP BY run_id HAVING count(*) > 1",
            [RunStatus.SUCCEEDED],
        ).fetchall()
        events_left = connection.execute(
            f"SELECT count(*) FROM {TryjobEvent._meta.db_table}"
        ).fetchone()[0]
    printed = manage(
        env,
        "shell",
        "-c",
        "from cvsite.tests.worker_support import executor_report; executor_report()",
    )
    report = json.loads(printed.strip().splitlines()[-1])
    assert len(report) == EXECUTOR_RUNS
    assert {run["status"] for run in report.values()} == {RunStatus.SUCCEEDED}
    # Every tryjob's end was taken in by exactly one pass: passes never overlapped.
    assert all(
        len(run["ended"]) == len(BUILDERS) == len(set(run["ended"])) for run in report.values()
    )
    assert ended_twice == []
    assert events_left == 0
