"""Rows, requests and checks shared by the Migration RPC tests: one file per RPC
(test_report_runs.py, test_post_gerrit_message.py, ...), test_auth_and_scope.py for what all
eight share, and test_query_counts.py.

Each test asserts the whole outcome of its calls: the response message field by field, the
rows written (or not), the RunEvents, and the ApiCall record of every call (`assert_calls`).
Errors answered with HTTP >= 500 carry a generic message by protocol design: only their code
is asserted.
"""

import hashlib
import itertools
from datetime import UTC, datetime

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cvproto.bigquery import attempt_pb2 as bq_pb
from cvproto.gerrit import gerrit_pb2
from cvproto.migration import migration_pb2 as migration_pb
from cvproto.times import to_timestamp
from migration_api.models import ApiCall
from prpc.client import RpcError
from prpc.codes import Code, http_status
from runs import serializers
from runs.models import (
    CL,
    DepKind,
    FinishedCQDRun,
    GerritPost,
    Run,
    RunCL,
    RunCLDep,
    RunEvent,
    RunEventKind,
    VerifiedCQDRun,
    VerifyAction,
)
from runs.tests.factories import make_run

live = pytest.mark.django_db(transaction=True)

Action = migration_pb.ReportVerifiedRunRequest.Action
HOST = "chromium-review.googlesource.com"
ACTOR = "api:cqdaemon-test"
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
ATTEMPT_END = datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
_numbers = itertools.count(5001)


def rpc_error(code: Code, call, *args, **kwargs) -> RpcError:
    """Calls and expects RpcError `code` with its HTTP status; returns the error."""
    with pytest.raises(RpcError) as info:
        call(*args, **kwargs)
    error = info.value
    assert (error.code, error.http_status) == (code, http_status(code)), error
    return error


def calls() -> list[tuple[str, str, str]]:
    """(caller, method, code) of every recorded API call, oldest first."""
    return list(ApiCall.objects.order_by("id").values_list("caller", "method", "code"))


def assert_calls(*expected: tuple[str, str]) -> None:
    """Every recorded call was made with the test token: (method, code) each, in order."""
    assert calls() == [("cqdaemon-test", method, code) for method, code in expected]
    for call in ApiCall.objects.all():
        assert call.token is not None and call.token.name == "cqdaemon-test"
        assert call.duration_ms >= 0


def events(run: Run) -> list[tuple]:
    return [
        (e.kind, e.from_status, e.to_status, e.actor)
        for e in RunEvent.objects.filter(run_id=run.id).order_by("id")
    ]


def status_changes(run: Run) -> list[tuple[int, int]]:
    return list(
        RunEvent.objects.filter(run_id=run.id, kind=RunEventKind.STATUS_CHANGED)
        .order_by("id")
        .values_list("from_status", "to_status")
    )


def change_info(
    number: int,
    *,
    patchset: int = 1,
    project: str = "chromium/src",
    messages=(),
    cq_votes=(),
) -> gerrit_pb2.ChangeInfo:
    """A trimmed ChangeInfo as cvsite snapshots it (§3.5)."""
    sha = hashlib.sha1(f"{project}/{number}/{patchset}".encode()).hexdigest()
    info = gerrit_pb2.ChangeInfo(
        number=number,
        owner=gerrit_pb2.AccountInfo(account_id=1000001, email="owner@example.com"),
        project=project,
        ref="refs/heads/main",
        status=gerrit_pb2.NEW,
        current_revision=sha,
        revisions={
            sha: gerrit_pb2.RevisionInfo(
                kind=gerrit_pb2.RevisionInfo.REWORK,
                number=patchset,
                ref=f"refs/changes/{number % 100:02d}/{number}/{patchset}",
                created=to_timestamp(T0),
                commit=gerrit_pb2.CommitInfo(message=f"Change {number}\n"),
            )
        },
        messages=list(messages),
        created=to_timestamp(T0),
        updated=to_timestamp(T0),
    )
    for account_id, value in cq_votes:
        info.labels["Commit-Queue"].all.append(
            gerrit_pb2.ApprovalInfo(
                user=gerrit_pb2.AccountInfo(account_id=account_id),
                value=value,
                date=to_timestamp(T0),
            )
        )
    return info


def snapshot_columns(info, *, patchset: int, min_equivalent: int, files) -> dict:
    return serializers.change_snapshot_columns(
        info, patchset=patchset, min_equivalent_patchset=min_equivalent, files=files
    )


def add_cl(
    number: int | None = None,
    *,
    host: str = HOST,
    patchset: int = 1,
    min_equivalent: int = 1,
    files=("a.txt",),
    info: gerrit_pb2.ChangeInfo | None = None,
) -> CL:
    """A CL row whose current snapshot is `info` (made up from the arguments by default)."""
    number = number or next(_numbers)
    info = info or change_info(number, patchset=patchset)
    return CL.objects.create(
        host=host,
        change=number,
        **snapshot_columns(info, patchset=patchset, min_equivalent=min_equivalent, files=files),
    )


def add_run_cl(
    run: Run,
    cl: CL,
    position: int,
    *,
    info: gerrit_pb2.ChangeInfo | None = None,
    patchset: int = 1,
    min_equivalent: int = 1,
    files=("a.txt",),
    trigger_time: datetime | None = None,
    account_id: int = 42,
    email: str = "voter@example.com",
    deps=(),
) -> RunCL:
    """A RunCL snapshot of `cl` in `run`; `deps` are (CL, hard) in stored order."""
    info = info or change_info(cl.change, patchset=patchset)
    run_cl = RunCL(
        run=run,
        cl=cl,
        position=position,
        trigger_time=trigger_time or run.create_time,
        trigger_mode=run.mode,
        trigger_account_id=account_id,
        trigger_email=email,
        **snapshot_columns(info, patchset=patchset, min_equivalent=min_equivalent, files=files),
    )
    run_cl_deps = [
        RunCLDep(
            run_cl=run_cl,
            depends_on=dep,
            kind=DepKind.HARD if hard else DepKind.SOFT,
            position=i,
        )
        for i, (dep, hard) in enumerate(deps)
    ]
    serializers.set_served_message(run_cl, run_cl_deps).save()
    RunCLDep.objects.bulk_create(run_cl_deps)
    return run_cl


def make_run_with_cls(
    project: str = "chromium", *, mode: str = "DRY_RUN", count: int = 2, **run_fields
) -> tuple[Run, list[CL]]:
    run = make_run(project, mode=mode, **run_fields)
    cls = [add_cl() for _ in range(count)]
    for position, cl in enumerate(cls):
        add_run_cl(run, cl, position)
    return run, cls


def mark_verified(run: Run, action: int = VerifyAction.SUBMIT) -> VerifiedCQDRun:
    return VerifiedCQDRun.objects.create(
        run=run,
        action=action,
        final_message="" if action != VerifyAction.FAIL else "failed",
        attempt_key=run.cqd_attempt_key,
        attempt=bq_pb.Attempt(key=run.cqd_attempt_key).SerializeToString(),
        update_time=timezone.now(),
    )


def gerrit_changes(run: Run, submitted=None) -> list[bq_pb.GerritChange]:
    """The run's CLs as CQDaemon reports them; `submitted` (default all) are SUCCESS."""
    result = []
    for rc in run.run_cls.select_related("cl").order_by("position"):
        ok = submitted is None or rc.cl.change in submitted
        result.append(
            bq_pb.GerritChange(
                host=rc.cl.host,
                project=rc.gerrit_project,
                change=rc.cl.change,
                patchset=rc.patchset,
                mode=serializers.mode_to_bigquery(run.mode),
                submit_status=bq_pb.GerritChange.SUCCESS if ok else bq_pb.GerritChange.PENDING,
            )
        )
    return result


def attempt_of(run: Run, status=bq_pb.SUCCESS, submitted=None, **fields) -> bq_pb.Attempt:
    return bq_pb.Attempt(
        key=run.cqd_attempt_key,
        luci_project=run.project,
        status=status,
        substatus=bq_pb.NO_SUBSTATUS,
        start_time=to_timestamp(run.create_time),
        end_time=to_timestamp(ATTEMPT_END),
        gerrit_changes=gerrit_changes(run, submitted),
        **fields,
    )


def verified_request(
    run: Run, action, final_message: str = "", *, with_id: bool = True
) -> migration_pb.ReportVerifiedRunRequest:
    return migration_pb.ReportVerifiedRunRequest(
        run=migration_pb.ReportedRun(id=run.id if with_id else "", attempt=attempt_of(run)),
        action=action,
        final_message=final_message,
    )


def finished_request(run: Run, *, with_id: bool = True, **attempt_fields):
    return migration_pb.ReportFinishedRunRequest(
        run=migration_pb.ReportedRun(
            id=run.id if with_id else "", attempt=attempt_of(run, **attempt_fields)
        )
    )


def no_side_effects(run: Run | None = None) -> None:
    """Nothing was stored for the run, and no task was queued."""
    assert VerifiedCQDRun.objects.count() == 0
    assert FinishedCQDRun.objects.count() == 0
    assert GerritPost.objects.count() == 0
    assert DBTaskResult.objects.count() == 0
    if run is not None:
        assert events(run) == []


UNKNOWN_KEY = "0123456789abcdef"
UNKNOWN_RUN_ID = f"chromium/9000000000000-1-{UNKNOWN_KEY}"


COMMENT = 'Run "r" | Attempt "k": CQ is trying da patch'


def post_request(run: Run, gerrit, number: int = 1, **overrides):
    fields = {
        "run_id": run.id,
        "project": run.project,
        "attempt_key": run.cqd_attempt_key,
        "host": gerrit.host,
        "change": number,
        "revision": gerrit.change(number)["current_revision"] if number in gerrit.changes else "1",
        "comment": COMMENT,
        "send_email": False,
    }
    fields.update(overrides)
    return migration_pb.PostGerritMessageRequest(**fields)


def post_binary(client, token: str, method: str, request):
    response = client.post(
        f"/prpc/migration.Migration/{method}",
        data=request.SerializeToString(),
        content_type="application/prpc; encoding=binary",
        HTTP_ACCEPT="application/prpc; encoding=binary",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200, response.content
    assert response["X-Prpc-Grpc-Code"] == "0"
    return response.content
