"""An in-memory tryjob backend that behaves like Buildbucket, for tests and demos.

Use it with `TRYJOB_BACKEND=tryjobs.fake_backend.FakeBackend` (one instance per process:
`tryjobs.backend.get_backend()`). It starts a build per launch request (the same build again
for the same tryjob ID, like Buildbucket's request IDs), fails launches and cancels on demand,
and ends builds: `finish_build` also records the result in cvsite as a build update would
(tryjobs.updates.record_tryjob_update), which wakes the runs watching the tryjob.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cvproto.cq.recipe import cq_pb2
from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from cvproto.times import to_timestamp
from runs import clock as run_clock
from tryjobs import external_id as eid
from tryjobs.backend import (
    BackendError,
    LaunchError,
    LaunchRequest,
    LaunchResult,
    Started,
    TryjobBackend,
)
from tryjobs.updates import record_tryjob_update

Result = tryjob_pb.Result

# buildbucket.v2.Status numbers of the builds it keeps.
SCHEDULED, STARTED, SUCCESS, FAILURE, INFRA_FAILURE, CANCELED = 1, 2, 12, 20, 36, 68
_BUILD_STATUS = {
    Result.SUCCEEDED: SUCCESS,
    Result.FAILED_PERMANENTLY: FAILURE,
    Result.FAILED_TRANSIENTLY: INFRA_FAILURE,
    Result.TIMEOUT: FAILURE,
}


@dataclass
class FakeBuild:
    tryjob_id: int
    external_id: str
    request: LaunchRequest
    status: int = tryjob_pb.TRIGGERED
    result: Result = field(default_factory=Result)
    cancelled_with: str = ""


@dataclass
class _Failure:
    code: int | None
    message: str
    builder: str | None
    times: int | None  # None: every time


class FakeBackend(TryjobBackend):
    kind = "buildbucket"

    def __init__(self, clock: Callable[[], datetime] = run_clock.now):
        self.clock = clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forgets every build and scripted failure."""
        with self._lock:
            self.builds: dict[str, FakeBuild] = {}
            self.by_tryjob: dict[int, str] = {}
            self.launch_calls: list[list[LaunchRequest]] = []
            self.cancelled: list[str] = []
            self._failures: list[_Failure] = []
            self._call_errors: list[BackendError] = []
            self._cancel_failures: list[BackendError] = []
            self._next_external_ids: list[str] = []
            self._build_ids = itertools.count(8_800_000_001)

    # Scripting -----------------------------------------------------------------------------

    def fail_launch(
        self,
        code: int | None,
        message: str = "",
        *,
        builder: str | None = None,
        times: int | None = 1,
    ) -> None:
        """The next `times` launches of `builder` (a builder name; None: any) fail with `code`
        (a gRPC status code; None: an error without one). `times=None`: every launch."""
        with self._lock:
            self._failures.append(_Failure(code, message, builder, times))

    def fail_next_call(self, code: int | None, message: str = "") -> None:
        """The next launch call raises BackendError for all its requests."""
        with self._lock:
            self._call_errors.append(BackendError(code, message))

    def fail_next_cancel(self, code: int | None, message: str = "") -> None:
        with self._lock:
            self._cancel_failures.append(BackendError(code, message))

    def give_next_external_id(self, external_id: str) -> None:
        """The next started build gets this external ID (e.g. one cvsite already knows)."""
        with self._lock:
            self._next_external_ids.append(external_id)

    # TryjobBackend -------------------------------------------------------------------------

    def launch(self, requests: Sequence[LaunchRequest]) -> list[LaunchResult]:
        with self._lock:
            self.launch_calls.append(list(requests))
            if self._call_errors:
                raise self._call_errors.pop(0)
            return [self._launch_one(r) for r in requests]

    def _launch_one(self, request: LaunchRequest) -> LaunchResult:
        builder = request.definition.buildbucket.builder.builder
        for failure in self._failures:
            if failure.builder in (None, builder) and failure.times != 0:
                if failure.times is not None:
                    failure.times -= 1
                return LaunchError(failure.code, failure.message)
        known = self.by_tryjob.get(request.tryjob_id)
        if known is not None:  # a request ID seen before: the same build
            build = self.builds[known]
            return Started(build.external_id, build.status, _copy(build.result))
        host = request.definition.buildbucket.host
        build_id = next(self._build_ids)
        external_id = (
            self._next_external_ids.pop(0)
            if self._next_external_ids
            else eid.buildbucket_external_id(host, build_id)
        )
        now = to_timestamp(self.clock())
        result = Result(status=Result.UNKNOWN, create_time=now, update_time=now)
        result.buildbucket.id = build_id
        result.buildbucket.status = SCHEDULED
        result.buildbucket.builder.CopyFrom(request.definition.buildbucket.builder)
        build = FakeBuild(request.tryjob_id, external_id, request, result=result)
        self.builds[external_id] = build
        self.by_tryjob[request.tryjob_id] = external_id
        return Started(external_id, tryjob_pb.TRIGGERED, _copy(result))

    def cancel(self, external_id: str, summary: str, *, project: str) -> None:
        with self._lock:
            if self._cancel_failures:
                raise self._cancel_failures.pop(0)
            build = self.builds.get(external_id)
            if build is None:
                raise BackendError(5, f"build {external_id} not found")  # NOT_FOUND
            self.cancelled.append(external_id)
            build.cancelled_with = summary
            if build.status == tryjob_pb.TRIGGERED:
                build.result.buildbucket.status = CANCELED

    # Builds --------------------------------------------------------------------------------

    def build_of(self, tryjob_id: int) -> FakeBuild:
        return self.builds[self.by_tryjob[tryjob_id]]

    def builders_launched(self) -> list[str]:
        """Builder names of every launch request, in order (failed ones included)."""
        return [r.definition.buildbucket.builder.builder for c in self.launch_calls for r in c]

    def end_result(
        self,
        external_id: str,
        status: int,
        *,
        summary: str = "",
        output: cq_pb2.Output | None = None,
    ) -> Result:
        """Ends the build with a Result `status` (SUCCEEDED, FAILED_..., TIMEOUT)."""
        with self._lock:
            build = self.builds[external_id]
            build.status = tryjob_pb.ENDED
            build.result.status = status
            build.result.update_time.CopyFrom(to_timestamp(self.clock()))
            build.result.buildbucket.status = _BUILD_STATUS[status]
            build.result.buildbucket.summary_markdown = summary
            if output is not None:
                build.result.output.CopyFrom(output)
            return _copy(build.result)

    def finish_build(self, external_id: str, status: int, **kwargs) -> bool:
        """Ends the build and records it in cvsite (a build update); True if cvsite changed."""
        result = self.end_result(external_id, status, **kwargs)
        return record_tryjob_update(external_id, tryjob_pb.ENDED, result)


def _copy(result: Result) -> Result:
    copy = Result()
    copy.CopyFrom(result)
    return copy
