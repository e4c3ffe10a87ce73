"""A test-only URLconf: the `migration.Migration` descriptor served by test handlers.

`FetchActiveRuns` does what its request's `luci_project` says (`verb` or `verb:argument`),
so one method covers echoing, errors, crashes, slow writes and flaky failures.
`PostGerritMessage` raises PrpcError(change, comment) for any code. Every call is recorded
in `STATE` for the tests to inspect.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field

from django.contrib.auth.models import Group
from django.db import OperationalError, transaction
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from google.protobuf import empty_pb2, timestamp_pb2

from cvproto.bigquery import attempt_pb2
from cvproto.migration import migration_pb2 as pb
from cvproto.wire import length_delimited
from prpc import CallContext, Code, Encoded, PrpcError, Service, unimplemented
from prpc.cors import AccessControl
from prpc.urls import prpc_urlpatterns

DESCRIPTOR = pb.DESCRIPTOR.services_by_name["Migration"]


@dataclass
class State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    observed: list[tuple[str, object, int, float]] = field(default_factory=list)
    # (method, code, whether inside a transaction) as the in-transaction observer saw them
    observed_in_transaction: list[tuple[str, int, bool]] = field(default_factory=list)
    requests: dict[str, object] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    break_observer: bool = False
    break_transactional_observer: bool = False
    # whether the last FetchExcludedCLs handler ran inside a transaction
    handler_in_transaction: bool | None = None
    # method -> body limit, for the service's per-method limits (none when absent)
    method_limits: dict[str, int] = field(default_factory=dict)

    def reset(self) -> None:
        with self.lock:
            self.break_observer = False
            self.break_transactional_observer = False
            self.method_limits.clear()
            self.handler_in_transaction = None
            self.observed.clear()
            self.observed_in_transaction.clear()
            self.requests.clear()
            self.counters.clear()

    def bump(self, key: str) -> int:
        with self.lock:
            self.counters[key] = self.counters.get(key, 0) + 1
            return self.counters[key]


STATE = State()


class RecordingObserver:
    def on_call_finished(self, context: CallContext, code: int, duration_seconds: float) -> None:
        STATE.observed.append((context.method, context.principal, code, duration_seconds))


class TransactionalObserver:
    """Records each call as a Group row named `observed:<n>:<method>:<code>`."""

    in_transaction = True

    def on_call_finished(self, context: CallContext, code: int, duration_seconds: float) -> None:
        inside = transaction.get_connection().in_atomic_block
        STATE.observed_in_transaction.append((context.method, code, inside))
        Group.objects.create(name=f"observed:{STATE.bump('observed')}:{context.method}:{code}")
        if STATE.break_transactional_observer:
            raise RuntimeError("recording failed")


class BreakableObserver:
    def on_call_finished(self, context: CallContext, code: int, duration_seconds: float) -> None:
        if STATE.break_observer:
            raise RuntimeError("observer bug")


def authenticate(context: CallContext) -> str:
    authorization = context.metadata.first("authorization")
    if authorization is None:
        return "anonymous:anonymous"
    if authorization == "Bearer good":
        return "user:good@example.com"
    if authorization == "Bearer forbidden":
        raise PrpcError(Code.PERMISSION_DENIED, "user:forbidden@example.com may not call this")
    if authorization == "Bearer broken":
        raise RuntimeError("token store unreachable: password=hunter2")
    raise PrpcError(Code.UNAUTHENTICATED, "the access token is not valid")


def _timestamp(seconds: int, nanos: int = 0) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)


def rich_run(run_id: str) -> pb.ActiveRun:
    """A run with int64s, enums, timestamps, nested and repeated fields, and defaults."""
    return pb.ActiveRun(
        id=run_id,
        cls=[
            pb.RunCL(
                id=8765432109876543210,
                gc=attempt_pb2.GerritChange(
                    host="chromium-review.googlesource.com",
                    change=123,
                    patchset=0,
                    submit_status=attempt_pb2.GerritChange.SUCCESS,
                ),
                files=["a.txt", "b/ü.txt"],
                trigger=pb.RunCL.Trigger(
                    time=_timestamp(1700000600, 500_000_000), account_id=1, email="t@example.com"
                ),
                deps=[pb.RunCL.Dep(id=7, hard=True), pb.RunCL.Dep(id=8)],
            )
        ],
    )


def encoded_runs(run_id: str) -> bytes:
    """rich_run(run_id) in a FetchActiveRunsResponse, encoded by hand with the run's fields
    in reverse order: valid, but not how protobuf would write it."""
    run = rich_run(run_id)
    fields = [length_delimited(2, cl.SerializeToString()) for cl in run.cls]
    fields.append(length_delimited(1, run_id.encode()))
    return length_delimited(2, b"".join(fields))  # FetchActiveRunsResponse.active_runs


def _metadata_json(context: CallContext) -> dict[str, list[str]]:
    return {
        key: ["b64:" + base64.b64encode(v).decode() if isinstance(v, bytes) else v for v in values]
        for key, values in context.metadata.items()
    }


def fetch_active_runs(request: pb.FetchActiveRunsRequest, context: CallContext):
    STATE.requests["FetchActiveRuns"] = request
    verb, _, argument = request.luci_project.partition(":")
    if verb in ("", "echo"):
        return pb.FetchActiveRunsResponse(active_runs=[rich_run(argument or "run-1")])
    if verb == "whoami":
        return pb.FetchActiveRunsResponse(active_runs=[pb.ActiveRun(id=str(context.principal))])
    if verb == "context":
        info = {
            "service": context.service,
            "method": context.method,
            "full_method": context.full_method,
            "timeout": context.timeout,
            "remaining": context.time_remaining(),
            "remote_addr": context.remote_addr,
            "request_format": context.request_format.value,
            "response_format": context.response_format.value,
            "metadata": _metadata_json(context),
        }
        return pb.FetchActiveRunsResponse(active_runs=[pb.ActiveRun(id=json.dumps(info))])
    if verb == "sleep-write":
        seconds, _, name = argument.partition(":")
        Group.objects.create(name=name)
        time.sleep(float(seconds))
        return pb.FetchActiveRunsResponse(active_runs=[pb.ActiveRun(id=name)])
    if verb == "sleep-check":
        time.sleep(float(argument))
        context.check_deadline()
        return pb.FetchActiveRunsResponse()
    if verb == "write-then-fail":
        Group.objects.create(name=argument)
        raise PrpcError(Code.FAILED_PRECONDITION, f"wrote {argument} and then failed")
    if verb == "write":
        Group.objects.create(name=argument)
        return pb.FetchActiveRunsResponse(active_runs=[pb.ActiveRun(id=argument)])
    if verb == "crash":
        raise RuntimeError("database password is hunter2")
    if verb == "db-down":
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed:\n\tRefused')
    if verb == "encoded":
        return Encoded(pb.FetchActiveRunsResponse, encoded_runs(argument))
    if verb == "encoded-wrong":
        return Encoded(pb.FetchRunStatusResponse, b"")
    if verb == "flaky":
        key, failures, code = argument.split(":")
        attempt = STATE.bump(key)
        if attempt <= int(failures):
            raise PrpcError(int(code), f"attempt {attempt} fails")
        return pb.FetchActiveRunsResponse(active_runs=[pb.ActiveRun(id=f"attempt {attempt}")])
    if verb == "big":
        return pb.FetchActiveRunsResponse(active_runs=[pb.ActiveRun(id="x" * int(argument))])
    if verb == "write-big":
        name, _, size = argument.partition(":")
        Group.objects.create(name=name)
        return pb.FetchActiveRunsResponse(active_runs=[pb.ActiveRun(id="x" * int(size))])
    if verb == "metadata":
        context.set_response_metadata("x-echo", "plain value")
        context.set_response_metadata("x-echo-bin", b"\x00\xff", b"ok")
        if argument == "fail":
            raise PrpcError(Code.NOT_FOUND, "no such run")
        return pb.FetchActiveRunsResponse()
    if verb == "reserved-metadata":
        context.set_response_metadata("content-type", "text/html")
        return pb.FetchActiveRunsResponse()
    if verb == "details":
        raise PrpcError(
            Code.FAILED_PRECONDITION,
            "has details",
            details=[pb.FetchRunStatusResponse(event="e1"), pb.ActiveRun(id="r2")],
        )
    raise PrpcError(Code.INVALID_ARGUMENT, f"unknown test verb {verb!r}")


def post_gerrit_message(request: pb.PostGerritMessageRequest, context: CallContext):
    raise PrpcError(request.change, request.comment)


def fetch_excluded_cls(request: pb.FetchExcludedCLsRequest, context: CallContext):
    """Runs outside the call's transaction (the service says so): `commit-then-fail:<name>`
    writes a Group and fails, and the Group stays."""
    STATE.requests["FetchExcludedCLs"] = request
    STATE.handler_in_transaction = transaction.get_connection().in_atomic_block
    verb, _, argument = request.luci_project.partition(":")
    if verb == "commit-then-fail":
        Group.objects.create(name=argument)
        raise PrpcError(Code.FAILED_PRECONDITION, "failed after committing")
    host = request.luci_project or "default-request"
    return pb.FetchExcludedCLsResponse(cls=[attempt_pb2.GerritChange(host=host, change=1)])


def report_verified_run(request: pb.ReportVerifiedRunRequest, context: CallContext):
    STATE.requests["ReportVerifiedRun"] = request
    return empty_pb2.Empty()


def report_runs(request: pb.ReportRunsRequest, context: CallContext):
    STATE.requests["ReportRuns"] = request
    return empty_pb2.Empty()


def returns_none(request, context):
    return None


def returns_wrong_type(request, context):
    return pb.FetchRunStatusResponse(event="wrong")


service = Service(
    DESCRIPTOR,
    {
        "ReportRuns": report_runs,
        "ReportFinishedRun": returns_wrong_type,
        "ReportVerifiedRun": report_verified_run,
        "FetchRunStatus": unimplemented,
        "PostGerritMessage": post_gerrit_message,
        "FetchActiveRuns": fetch_active_runs,
        "FetchExcludedCLs": fetch_excluded_cls,
        "ReportUsedNetrc": returns_none,
    },
    authenticate=authenticate,
    observers=[BreakableObserver(), RecordingObserver(), TransactionalObserver()],
    max_request_bytes=lambda method: STATE.method_limits.get(method, 1 << 40),
    outside_transaction=["FetchExcludedCLs"],
)


def access_control(origin: str) -> AccessControl | None:
    if origin == "https://creds.example":
        return AccessControl(allow_credentials=True, allow_headers=("X-Custom",))
    if origin == "https://nocreds.example":
        return AccessControl()
    return None


@csrf_exempt
def not_prpc(request, status: int, **kwargs):
    """What a proxy in front of a pRPC server might answer: no X-Prpc-Grpc-Code."""
    STATE.bump(f"not-prpc-{status}")
    return HttpResponse(f"<html>proxy says {status}</html>", status=status)


@csrf_exempt
def wrong_content_type(request, **kwargs):
    response = HttpResponse(b"\x0a\x00", content_type="text/html")
    response["X-Prpc-Grpc-Code"] = "0"
    return response


urlpatterns = [
    *prpc_urlpatterns([service], access_control=access_control),
    path("proxy/<int:status>/prpc/<str:service>/<str:method>", not_prpc),
    path("wrongtype/prpc/<str:service>/<str:method>", wrong_content_type),
]
