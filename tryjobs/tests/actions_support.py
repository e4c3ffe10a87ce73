"""Fixtures and builders for the tests of the executor's persistence and driving (no tests).

Runs are of a cvsite-verified project, with real CL and RunCL rows (reuse keys come from
them); the fake backend is `tryjobs.fake_backend.FakeBackend`, selected through settings.
"""

import contextlib
import dataclasses
import itertools
import sqlite3

import pytest
from django.db import connections
from django.db.utils import load_backend

from cvproto.cv.config import config_pb2
from cvproto.cv.internal.tryjob import storage_pb2 as pb
from runs import actions as run_actions
from runs.models import CL, Run, RunCL, Verifier
from runs.serializers import set_served_message
from runs.tests.factories import BASE_TIME, make_run
from tryjobs import launching, serializers
from tryjobs.backend import get_backend
from tryjobs.models import ExecutionLogEntry, Tryjob

HOST = "cr-buildbucket.appspot.com"
GERRIT = "chromium-review.googlesource.com"
RetryConfig = config_pb2.Verifiers.Tryjob.RetryConfig
State = pb.ExecutionState
Result = pb.Result

_changes = itertools.count(5000)


def defn(name: str, *, critical: bool = True, project: str = "chromium", **flags):
    msg = pb.Definition(critical=critical, **flags)
    msg.buildbucket.host = HOST
    msg.buildbucket.builder.project = project
    msg.buildbucket.builder.bucket = "try"
    msg.buildbucket.builder.builder = name
    return msg


def requirement(*definitions, retry: RetryConfig | None = None) -> pb.Requirement:
    msg = pb.Requirement(definitions=definitions)
    if retry is not None:
        msg.retry_config.CopyFrom(retry)
    return msg


def make_cls(count: int = 2) -> list[CL]:
    return [
        CL.objects.create(
            host=GERRIT,
            change=next(_changes),
            patchset=3,
            min_equivalent_patchset=2,
            info=b"",
            luci_project="chromium",
        )
        for _ in range(count)
    ]


def cvsite_run(
    project: str = "chromium",
    *,
    mode: str = "DRY_RUN",
    cls: list[CL] | None = None,
    verifier: str = Verifier.CVSITE,
    **overrides,
) -> Run:
    """A RUNNING run over `cls` (new ones by default) of a project `verifier` verifies."""
    if verifier == Verifier.CVSITE:
        run_actions.set_project_verifier(project, Verifier.CVSITE, "test")
    run = make_run(project, mode=mode, **overrides)
    for position, cl in enumerate(cls if cls is not None else make_cls()):
        run_cl = RunCL(
            run=run,
            cl=cl,
            position=position,
            trigger_time=BASE_TIME,
            trigger_mode=mode,
            trigger_account_id=1,
            patchset=cl.patchset,
            min_equivalent_patchset=cl.min_equivalent_patchset,
            info=b"",
        )
        set_served_message(run_cl).save()
    return run


@pytest.fixture
def backend(settings):
    """The fake backend, fresh for the test."""
    settings.TRYJOB_BACKEND = "tryjobs.fake_backend.FakeBackend"
    get_backend.cache_clear()
    fake = get_backend()
    yield fake
    get_backend.cache_clear()


@pytest.fixture
def slept(monkeypatch):
    """Launch retries do not sleep; the list holds the delays they asked for."""
    delays: list[float] = []
    monkeypatch.setattr(
        launching,
        "LAUNCH_BACKOFF",
        dataclasses.replace(launching.LAUNCH_BACKOFF, sleep=delays.append),
    )
    return delays


def state_of(run: Run) -> State:
    state, _ = serializers.load_execution_state(run.id)
    return state


def log_kinds(run: Run) -> list[str]:
    return list(
        ExecutionLogEntry.objects.filter(run=run).order_by("id").values_list("kind", flat=True)
    )


def log_of(run: Run) -> list:
    return [
        serializers.log_entry_from_row(row)
        for row in ExecutionLogEntry.objects.filter(run=run).order_by("id")
    ]


def latest_tryjob(run: Run, index: int) -> Tryjob:
    return Tryjob.objects.get(id=state_of(run).executions[index].attempts[-1].tryjob_id)


def attempt_statuses(state: State) -> list[list[str]]:
    return [[pb.Status.Name(a.status) for a in e.attempts] for e in state.executions]


@contextlib.contextmanager
def database_for_threads(tmp_path):
    """Lets threads use the test database concurrently, each with its own connection.

    PostgreSQL needs nothing (use with a transactional test). pytest-django's SQLite test
    database lives in memory, shared-cache, where concurrent writers fail at once instead of
    waiting; so there the database is copied to a file that every connection opened from now
    on uses, with the project's SQLite options (WAL, BEGIN IMMEDIATE, busy timeout) as in a
    deployment. The in-memory database is put back untouched afterwards.
    """
    alias = "default"
    memory = connections[alias]
    if memory.vendor != "sqlite" or not memory.is_in_memory_db():
        yield
        return
    memory.ensure_connection()
    path = tmp_path / "threads.sqlite3"
    target = sqlite3.connect(path)
    try:
        memory.connection.backup(target)
    finally:
        target.close()
    original = connections.settings[alias]
    file_settings = {**original, "NAME": str(path)}
    connections.settings[alias] = file_settings
    file_connection = load_backend(file_settings["ENGINE"]).DatabaseWrapper(file_settings, alias)
    connections[alias] = file_connection
    try:
        yield
    finally:
        file_connection.close()
        connections[alias] = memory
        connections.settings[alias] = original
