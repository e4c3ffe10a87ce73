"""Rows the REST API serves, and clients holding tokens of given projects."""

import itertools
from datetime import timedelta

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from migration_api.models import ApiToken
from runs.models import CL, RunCL, RunStatus
from runs.serializers import set_served_message
from runs.tests.factories import BASE_TIME, make_run
from tryjobs.models import ExecutionLogEntry, ResultStatus, Tryjob, TryjobStatus
from tryjobs.serializers import log_entry_row, save_execution_state

BB_HOST = "cr-buildbucket.appspot.com"
GERRIT_HOST = "chromium-review.googlesource.com"
_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    """Each test starts with whole rate-limit budgets (they live in the cache), and every
    request looks its token up (so query counts do not depend on the order of requests)."""
    settings.REST_API_THROTTLE_RATE = "100000/minute"
    settings.API_TOKEN_CACHE_SECONDS = 0
    cache.clear()
    yield
    cache.clear()


def token_client(*projects: str, all_projects: bool = False) -> APIClient:
    _, token = ApiToken.issue(f"reader-{next(_numbers)}", list(projects), all_projects)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def chromium_client(db) -> APIClient:
    return token_client("chromium")


def make_cl(change: int | None = None, host: str = GERRIT_HOST) -> CL:
    return CL.objects.create(
        host=host,
        change=change or 100_000 + next(_numbers),
        patchset=3,
        min_equivalent_patchset=2,
        info=b"",
    )


def add_cls(run, cls: list[CL]) -> None:
    for position, cl in enumerate(cls):
        run_cl = RunCL(
            run=run,
            cl=cl,
            position=position,
            patchset=cl.patchset,
            min_equivalent_patchset=cl.min_equivalent_patchset,
            info=b"",
            trigger_time=run.create_time,
            trigger_mode=run.mode,
            trigger_account_id=42,
        )
        set_served_message(run_cl).save()


def make_tryjob(
    status: int = TryjobStatus.ENDED,
    result: int | None = ResultStatus.SUCCEEDED,
    builder: str = "linux-rel",
    project: str = "chromium",
    launched_by=None,
    create_time=BASE_TIME,
) -> Tryjob:
    build_id = 8_900_000_000_000_000_000 + next(_numbers)
    launched = status in (TryjobStatus.TRIGGERED, TryjobStatus.ENDED, TryjobStatus.CANCELLED)
    return Tryjob.objects.create(
        buildbucket_host=BB_HOST,
        builder_project=project,
        builder_bucket="try",
        builder_name=builder,
        status=status,
        external_id=f"buildbucket/{BB_HOST}/{build_id}" if launched else None,
        result_status=result if status in (TryjobStatus.TRIGGERED, TryjobStatus.ENDED) else None,
        launched_by=launched_by,
        create_time=create_time,
        update_time=create_time,
    )


def definition(builder: str) -> tryjob_pb.Definition:
    msg = tryjob_pb.Definition()
    msg.buildbucket.host = BB_HOST
    msg.buildbucket.builder.project = "chromium"
    msg.buildbucket.builder.bucket = "try"
    msg.buildbucket.builder.builder = builder
    return msg


def make_full_run(project: str = "chromium", cls: int = 2, tryjobs: int = 2, **overrides):
    """A run with CLs, tryjobs it launched and one it reused, an execution state and a log."""
    run = make_run(project, status=overrides.pop("status", RunStatus.RUNNING), **overrides)
    add_cls(run, [make_cl() for _ in range(cls)])
    state = tryjob_pb.ExecutionState(status=tryjob_pb.ExecutionState.RUNNING)
    for i in range(tryjobs):
        tryjob = make_tryjob(TryjobStatus.TRIGGERED, ResultStatus.UNKNOWN, f"b{i}", project, run)
        state.requirement.definitions.append(definition(f"b{i}"))
        state.executions.add().attempts.add(
            tryjob_id=tryjob.id, external_id=tryjob.external_id, status=tryjob_pb.TRIGGERED
        )
    make_tryjob(project=project).reused_by.add(run)
    save_execution_state(run.id, state)
    for minute in range(tryjobs):
        entry = tryjob_pb.ExecutionLogEntry()
        entry.time.FromDatetime(run.create_time + timedelta(minutes=minute))
        entry.requirement_changed.SetInParent()
        log_entry_row(run.id, 1, entry).save()
    assert ExecutionLogEntry.objects.filter(run=run).count() == tryjobs
    return run
