"""16 identical calls at once: every caller answered OK, one record, one transition, one task.

CQDaemon retries a call it thinks failed, and more than one CQDaemon process may report the
same attempt; so identical ReportVerifiedRun / ReportFinishedRun calls can arrive together.
Each test here sends 16 of them from 16 threads, each with its own client and connection,
released together by a barrier, through a live server over HTTP.

The server's request threads must each use their own database connection, as in production.
On PostgreSQL that is what pytest-django's `live_server` does. Its SQLite test database,
though, is an in-memory one that the live server shares as ONE connection across all its
request threads (Django's `connections_override`), which would make "concurrent" calls
interleave inside one another's transactions. So on SQLite these tests copy the test
database into a file and serve it with the production SQLite settings (WAL, `BEGIN
IMMEDIATE`, busy timeout), every thread with its own connection: what a deployment on
SQLite does.
"""

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext

import pytest
from django.db import connections
from django.db.utils import load_backend
from django_tasks_db.models import DBTaskResult
from google.protobuf import empty_pb2
from pytest_django.live_server_helper import LiveServer

from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.migration import migration_pb2 as migration_pb
from migration_api.models import ApiCall, ApiToken
from prpc.client import Client, RpcError
from runs.models import (
    FinishedCQDRun,
    Run,
    RunEvent,
    RunEventKind,
    RunStatus,
    VerifiedCQDRun,
)
from runs.tests.factories import make_run_of_changes

pytestmark = pytest.mark.django_db(transaction=True)

SERVICE = "migration.Migration"
CALLERS = 16
Action = migration_pb.ReportVerifiedRunRequest.Action


@contextmanager
def sqlite_in_a_file(tmp_path):
    """Points the `default` database at a file copy of the in-memory SQLite test database.

    New connections (the live server's request threads, this thread's next query) open the
    file with the project's SQLite options; the in-memory database is kept open, untouched,
    and back in place afterwards for pytest-django's flush.
    """
    alias = "default"
    memory = connections[alias]
    memory.ensure_connection()
    path = tmp_path / "concurrency.sqlite3"
    target = sqlite3.connect(path)
    try:
        memory.connection.backup(target)
    finally:
        target.close()
    original = connections.settings[alias]
    file_settings = {**original, "NAME": str(path)}
    file_connection = load_backend(file_settings["ENGINE"]).DatabaseWrapper(file_settings, alias)
    connections.settings[alias] = file_settings
    connections[alias] = file_connection
    try:
        yield
    finally:
        file_connection.close()
        connections[alias] = memory
        connections.settings[alias] = original


@pytest.fixture
def server_url(transactional_db, tmp_path):
    """A live cvsite whose request threads each open their own database connection."""
    memory = connections["default"]
    if memory.vendor == "sqlite" and memory.is_in_memory_db():
        context = sqlite_in_a_file(tmp_path)
    else:
        context = nullcontext()
    with context:
        server = LiveServer("127.0.0.1:0")
        try:
            yield server.url
        finally:
            # Request threads still serving a connection hold a database connection each.
            serve = server.thread.httpd.process_request_thread
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and any(
                getattr(t, "_target", None) == serve for t in threading.enumerate()
            ):
                time.sleep(0.02)
            server.stop()


def call_together(server_url: str, token: str, method: str, request, response_class) -> list:
    """Sends `request` CALLERS times at once; returns each caller's response or exception."""
    barrier = threading.Barrier(CALLERS, timeout=30)

    def one_caller(_):
        with Client(server_url, auth_token=token, retries=0, timeout=60) as client:
            barrier.wait()
            try:
                return client.call(SERVICE, method, request, response_class)
            except RpcError as e:
                return e

    with ThreadPoolExecutor(max_workers=CALLERS) as pool:
        return list(pool.map(one_caller, range(CALLERS)))


def transitions(run: Run) -> list[tuple[int, int]]:
    return list(
        RunEvent.objects.filter(run=run, kind=RunEventKind.STATUS_CHANGED).values_list(
            "from_status", "to_status"
        )
    )


def assert_all_ok(results: list, method: str) -> None:
    errors = [r for r in results if not isinstance(r, empty_pb2.Empty)]
    assert errors == [], f"{len(errors)} of {CALLERS} {method} calls failed: {errors[:3]}"
    calls = ApiCall.objects.filter(method=method)
    assert sorted(calls.values_list("code", flat=True)) == ["OK"] * CALLERS


@pytest.mark.parametrize("give_id", [False, True], ids=["by-attempt-key", "by-run-id"])
def test_16_identical_report_verified_run_calls_record_one_verdict_and_one_transition(
    server_url, gerrit, run_tasks, give_id
):
    gerrit.add_change(1, project="chromium/src", depends_on=[2])
    gerrit.add_change(2, project="chromium/src")
    run = make_run_of_changes(gerrit, [2, 1], mode="FULL_RUN")
    _, token = ApiToken.issue("cqdaemon-chromium", ["chromium"])
    request = migration_pb.ReportVerifiedRunRequest(
        run=migration_pb.ReportedRun(
            id=run.id if give_id else "",
            attempt=bq_pb.Attempt(
                key=run.cqd_attempt_key, luci_project="chromium", status=bq_pb.SUCCESS
            ),
        ),
        action=Action.ACTION_SUBMIT,
        final_message=f'Run "{run.id}" | Attempt "{run.cqd_attempt_key}" finished with SUCCESS.',
    )

    results = call_together(server_url, token, "ReportVerifiedRun", request, empty_pb2.Empty)

    assert_all_ok(results, "ReportVerifiedRun")
    assert VerifiedCQDRun.objects.count() == 1
    verified = VerifiedCQDRun.objects.get()
    assert (verified.run_id, verified.action) == (run.id, Action.ACTION_SUBMIT)
    run.refresh_from_db()
    assert run.status == RunStatus.WAITING_FOR_SUBMISSION
    assert transitions(run) == [(RunStatus.RUNNING, RunStatus.WAITING_FOR_SUBMISSION)]
    assert RunEvent.objects.filter(run=run, kind=RunEventKind.CQD_VERIFIED).count() == 1
    tasks = list(DBTaskResult.objects.all())
    assert len(tasks) == 1
    assert tasks[0].task_path == "runs.tasks.submit_run"
    assert tasks[0].args_kwargs["args"] == [run.id]

    # The one task submits each CL once, and the run ends.
    run_tasks()
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert len(gerrit.requests_to("POST", "/submit")) == 2
    assert gerrit.change(1)["status"] == gerrit.change(2)["status"] == "MERGED"


@pytest.mark.parametrize("give_id", [False, True], ids=["by-attempt-key", "by-run-id"])
def test_16_identical_report_finished_run_calls_record_one_attempt_and_one_transition(
    server_url, gerrit, give_id
):
    gerrit.add_change(7, project="chromium/src")
    gerrit.add_change(8, project="chromium/src")
    run = make_run_of_changes(gerrit, [7, 8], mode="FULL_RUN")
    _, token = ApiToken.issue("cqdaemon-chromium", ["chromium"])
    attempt = bq_pb.Attempt(
        key=run.cqd_attempt_key,
        luci_project="chromium",
        status=bq_pb.SUCCESS,
        substatus=bq_pb.NO_SUBSTATUS,
        gerrit_changes=[
            bq_pb.GerritChange(
                host=gerrit.host,
                project="chromium/src",
                change=number,
                patchset=1,
                mode=bq_pb.FULL_RUN,
                submit_status=bq_pb.GerritChange.SUCCESS,
            )
            for number in (7, 8)
        ],
    )
    attempt.end_time.FromSeconds(1_767_225_600)
    request = migration_pb.ReportFinishedRunRequest(
        run=migration_pb.ReportedRun(id=run.id if give_id else "", attempt=attempt)
    )

    results = call_together(server_url, token, "ReportFinishedRun", request, empty_pb2.Empty)

    assert_all_ok(results, "ReportFinishedRun")
    assert FinishedCQDRun.objects.count() == 1
    finished = FinishedCQDRun.objects.get()
    assert (finished.attempt_key, finished.run_id, finished.reported_id) == (
        run.cqd_attempt_key,
        run.id,
        run.id,
    )
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.finalized_by_cqd
    assert run.end_time.timestamp() == 1_767_225_600
    assert transitions(run) == [(RunStatus.RUNNING, RunStatus.SUCCEEDED)]
    assert DBTaskResult.objects.count() == 0


def test_16_identical_report_finished_run_calls_for_an_unknown_attempt_store_it_once(
    server_url,
):
    _, token = ApiToken.issue("cqdaemon-chromium", ["chromium"])
    attempt = bq_pb.Attempt(
        key="0123456789abcdef",
        luci_project="chromium",
        status=bq_pb.FAILURE,
        gerrit_changes=[bq_pb.GerritChange(host="x-review.example.com", change=5, patchset=2)],
    )
    request = migration_pb.ReportFinishedRunRequest(run=migration_pb.ReportedRun(attempt=attempt))

    results = call_together(server_url, token, "ReportFinishedRun", request, empty_pb2.Empty)

    assert_all_ok(results, "ReportFinishedRun")
    finished = FinishedCQDRun.objects.get()
    assert (finished.attempt_key, finished.run_id, finished.reported_id) == (
        "0123456789abcdef",
        None,
        "",
    )
    assert finished.attempt_status == bq_pb.FAILURE
    assert RunEvent.objects.count() == 0
