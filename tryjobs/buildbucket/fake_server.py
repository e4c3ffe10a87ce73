"""A fake Buildbucket for tests and `make run`: a real pRPC server on 127.0.0.1.

    with FakeBuildbucket(clock=clock, push_url=url, push_token=token) as fake:
        ... point settings.BUILDBUCKET_URL_OVERRIDES at {fake.host: fake.url} ...
        fake.start_build(build_id); fake.end_build(build_id, SUCCESS)

It serves Batch (schedule items), ScheduleBuild, GetBuild, SearchBuilds and CancelBuild of
`buildbucket.v2.Builds` through the project's own prpc server (a Django WSGI app on its own
URLconf, in a thread). With `tokens` (bearer token -> caller identity, e.g. `project:infra`)
a call must present one of them, else it is answered UNAUTHENTICATED; `callers` records who
made each call.
Builds live in memory; their times come from `clock`, which the test
controls. A repeated request ID answers the build it already made, as Buildbucket does.
Every creation, start and end is a builds_v2 Pub/Sub delivery (body and headers), like
Buildbucket's topic through a push subscription: POSTed to `push_url` at once when it is set,
else kept in `outbox` for the test to deliver (in its own thread and database transaction),
drop, repeat or reorder. Tests script failures: `fail_calls` (a whole method), `slow_calls`
(answers after a delay, having done the work: a client timeout), `fail_builder` (Batch items
for one builder), `drop_pushes`.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import requests
from django.core.handlers.wsgi import WSGIHandler
from google.protobuf import json_format, struct_pb2

from cvproto.buildbucket.v2 import build_pb2, builds_service_pb2, common_pb2, notification_pb2
from cvproto.times import to_timestamp
from prpc.codes import Code
from prpc.errors import PrpcError
from prpc.service import Service
from prpc.urls import prpc_urlpatterns

__all__ = ["FakeBuildbucket"]

Build = build_pb2.Build
HOST = "fake-buildbucket.example.com"
_METHODS = ["GetBuild", "SearchBuilds", "ScheduleBuild", "CancelBuild", "Batch", "GetBuildStatus"]


@dataclass
class _Failure:
    code: int
    message: str
    times: int


def _raise_scripted(failures: list[_Failure] | None) -> None:
    """Raises the first scripted failure, if any, using up one of its times."""
    if failures:
        failure = failures[0]
        failure.times -= 1
        if failure.times <= 0:
            failures.pop(0)
        raise PrpcError(failure.code, failure.message)


class _Urls:
    """A URLconf object: the fake's own routes, not cvsite's."""

    def __init__(self, service: Service):
        self.urlpatterns = prpc_urlpatterns([service])


class _Handler(WSGIHandler):
    def __init__(self, urlconf: _Urls):
        super().__init__()
        self._urlconf = urlconf

    def get_response(self, request):
        request.urlconf = self._urlconf
        return super().get_response(request)


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


class FakeBuildbucket:
    def __init__(
        self,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        push_url: str = "",
        push_token: str = "",
        host: str = HOST,
        port: int = 0,
        tokens: Mapping[str, str] | None = None,
    ):
        self.clock = clock
        self.push_url = push_url
        self.push_token = push_token
        self.host = host
        self.port = port
        self.tokens = dict(tokens or {})
        self.callers: list[tuple[str, str]] = []
        self.builds: dict[int, Build] = {}
        self.requested_by: dict[str, int] = {}
        self.cancel_summaries: dict[int, str] = {}
        self.pushed: list[dict] = []
        self.outbox: list[tuple[bytes, dict[str, str]]] = []
        self.calls: list[str] = []
        self._ids = itertools.count(8_800_000_000_000_000_000, -1)  # newer builds: smaller IDs
        self._lock = threading.RLock()
        self._call_failures: dict[str, list[_Failure]] = {}
        self._builder_failures: dict[str, list[_Failure]] = {}
        self._drop_pushes = 0
        self._delays: dict[str, list[list[float]]] = {}
        self.service = Service(
            builds_service_pb2.DESCRIPTOR.services_by_name["Builds"],
            {
                "GetBuild": self._get_build,
                "SearchBuilds": self._search_builds,
                "ScheduleBuild": self._schedule_build,
                "CancelBuild": self._cancel_build,
                "Batch": self._batch,
                "GetBuildStatus": self._get_build,
            },
            authenticate=self._authenticate,
            outside_transaction=_METHODS,  # in memory: no database
        )
        self._server = None
        self._thread = None

    # Serving ---------------------------------------------------------------------------------

    def start(self) -> FakeBuildbucket:
        self._server = make_server(
            "127.0.0.1",
            self.port,
            _Handler(_Urls(self.service)),
            server_class=_ThreadingServer,
            handler_class=_QuietHandler,
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()

    def __enter__(self) -> FakeBuildbucket:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # Scripting -------------------------------------------------------------------------------

    def fail_calls(self, method: str, code: int, message: str = "", *, times: int = 1) -> None:
        """The next `times` calls of `method` are answered with `code`."""
        with self._lock:
            self._call_failures.setdefault(method, []).append(_Failure(code, message, times))

    def fail_builder(self, builder: str, code: int, message: str = "", *, times: int = 1):
        """The next `times` schedule requests for `builder` (a name) fail with `code`."""
        with self._lock:
            self._builder_failures.setdefault(builder, []).append(_Failure(code, message, times))

    def slow_calls(self, method: str, seconds: float, *, times: int = 1) -> None:
        """The next `times` calls of `method` do their work, then wait `seconds` to answer."""
        with self._lock:
            self._delays.setdefault(method, []).append([seconds, times])

    def take_outbox(self) -> list[tuple[bytes, dict[str, str]]]:
        """The deliveries not yet taken, oldest first."""
        with self._lock:
            taken, self.outbox = self.outbox, []
            return taken

    def drop_pushes(self, count: int) -> None:
        """The next `count` notifications are lost."""
        with self._lock:
            self._drop_pushes += count

    def add_build(self, builder: common_pb2.BuilderID, changes, **properties) -> Build:
        """A build someone else scheduled (e.g. `git cl try`) for `changes` (GerritChanges)."""
        schedule = builds_service_pb2.ScheduleBuildRequest(builder=builder, gerrit_changes=changes)
        schedule.properties.update(properties)
        with self._lock:
            return self._create(schedule)

    def start_build(self, build_id: int, **kwargs) -> Build:
        return self._transition(build_id, common_pb2.STARTED, **kwargs)

    def end_build(
        self,
        build_id: int,
        status: int,
        *,
        summary: str = "",
        output_properties: dict | None = None,
        timeout: bool = False,
    ) -> Build:
        """Ends the build with a Buildbucket `status` (SUCCESS, FAILURE, ...)."""
        return self._transition(
            build_id,
            status,
            summary=summary,
            output_properties=output_properties,
            timeout=timeout,
        )

    def advance(self, *, start_after: float, run_for: float, failing: float, rng) -> None:
        """Moves builds along on the clock: started `start_after` seconds after creation,
        ended `run_for` seconds after the start, INFRA_FAILURE with probability `failing`
        (`rng.random()`), else SUCCESS. For `make run`, where no test drives them."""
        now = self.clock()
        with self._lock:
            due = [
                (build.id, build.status)
                for build in self.builds.values()
                if (
                    build.status == common_pb2.SCHEDULED
                    and (now - build.create_time.ToDatetime(tzinfo=UTC)).total_seconds()
                    >= start_after
                )
                or (
                    build.status == common_pb2.STARTED
                    and (now - build.start_time.ToDatetime(tzinfo=UTC)).total_seconds() >= run_for
                )
            ]
        for build_id, status in due:
            if status == common_pb2.SCHEDULED:
                self.start_build(build_id)
            elif rng.random() < failing:
                self.end_build(build_id, common_pb2.INFRA_FAILURE, summary="The bot went away")
            else:
                self.end_build(build_id, common_pb2.SUCCESS, summary="All tests passed")

    def build_of_request(self, request_id: int | str) -> Build:
        return self.builds[self.requested_by[str(request_id)]]

    # Builds ----------------------------------------------------------------------------------

    def _now(self):
        return to_timestamp(self.clock())

    def _create(self, schedule: builds_service_pb2.ScheduleBuildRequest) -> Build:
        build_id = next(self._ids)
        now = self._now()
        build = Build(
            id=build_id,
            builder=schedule.builder,
            status=common_pb2.SCHEDULED,
            create_time=now,
            update_time=now,
            created_by="project:fake",
        )
        build.input.gerrit_changes.extend(schedule.gerrit_changes)
        build.input.properties.CopyFrom(schedule.properties)
        build.input.experiments.extend(sorted(schedule.experiments))
        build.tags.extend(schedule.tags)
        build.tags.extend(
            common_pb2.StringPair(
                key="buildset", value=f"patch/gerrit/{c.host}/{c.change}/{c.patchset}"
            )
            for c in schedule.gerrit_changes
        )
        build.infra.buildbucket.hostname = self.host
        build.infra.buildbucket.requested_properties.CopyFrom(schedule.properties)
        build.infra.resultdb.hostname = "results.fake.example.com"
        build.infra.resultdb.invocation = f"invocations/build-{build_id}"
        self.builds[build_id] = build
        if schedule.request_id:
            self.requested_by[schedule.request_id] = build_id
        self._push(build)
        return build

    def _transition(self, build_id, status, *, summary="", output_properties=None, timeout=False):
        with self._lock:
            build = self.builds[build_id]
            now = self._now()
            build.status = status
            build.update_time.CopyFrom(now)
            if status == common_pb2.STARTED:
                build.start_time.CopyFrom(now)
            else:
                build.end_time.CopyFrom(now)
                build.summary_markdown = summary
                if output_properties is not None:
                    build.output.properties.update(output_properties)
                if timeout:
                    build.status_details.timeout.SetInParent()
            copy = Build()
            copy.CopyFrom(build)
        self._push(copy)
        return copy

    def _push(self, build: Build) -> None:
        """Sends the builds_v2 notification of `build` (large fields split off, zlib)."""
        with self._lock:
            if self._drop_pushes:
                self._drop_pushes -= 1
                return
        large = Build()
        large.input.properties.CopyFrom(build.input.properties)
        large.output.properties.CopyFrom(build.output.properties)
        large.steps.extend(build.steps)
        small = Build()
        small.CopyFrom(build)
        small.input.ClearField("properties")
        small.output.ClearField("properties")
        small.ClearField("steps")
        payload = notification_pb2.BuildsV2PubSub(
            build=small, build_large_fields=zlib.compress(large.SerializeToString())
        )
        data = json_format.MessageToJson(payload, indent=0).encode()
        envelope = {
            "message": {
                "data": base64.b64encode(data).decode(),
                "attributes": {
                    "project": build.builder.project,
                    "bucket": build.builder.bucket,
                    "builder": build.builder.builder,
                    "is_completed": "true" if build.status & common_pb2.ENDED_MASK else "false",
                    "version": "v2",
                },
                "messageId": str(len(self.pushed) + 1),
            },
            "subscription": "projects/fake/subscriptions/buildbucket-builds",
        }
        body = json.dumps(envelope).encode()
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {self.push_token}",
        }
        with self._lock:
            self.pushed.append(envelope)
            if not self.push_url:
                self.outbox.append((body, headers))
                return
        try:
            requests.post(self.push_url, data=body, headers=headers, timeout=10)
        except requests.RequestException:
            pass  # a lost notification, as Pub/Sub may lose one: the poller catches up

    # Service ---------------------------------------------------------------------------------

    def _authenticate(self, context) -> str:
        """With `tokens`, callers must present one of them as a bearer token."""
        if not self.tokens:
            return ""
        scheme, _, token = (context.metadata.first("authorization") or "").partition(" ")
        identity = self.tokens.get(token) if scheme == "Bearer" else None
        if identity is None:
            raise PrpcError(Code.UNAUTHENTICATED, "missing or wrong bearer token")
        with self._lock:
            self.callers.append((context.method, identity))
        return identity

    def _answer_later(self, method: str, response):
        with self._lock:
            delays = self._delays.get(method)
            seconds = 0.0
            if delays:
                seconds = delays[0][0]
                delays[0][1] -= 1
                if delays[0][1] <= 0:
                    delays.pop(0)
        if seconds:
            time.sleep(seconds)
        return response

    def _check(self, method: str) -> None:
        with self._lock:
            self.calls.append(method)
            _raise_scripted(self._call_failures.get(method))

    def _masked(self, build: Build, mask: builds_service_pb2.BuildMask) -> Build:
        """`build` under `mask`: its fields, output properties reduced to the listed keys."""
        if not mask.fields.paths:
            copy = Build()
            copy.CopyFrom(build)
            return copy
        out = Build()
        mask.fields.MergeMessage(build, out)
        keys = {m.path[0] for m in mask.output_properties if m.path}
        if keys and build.output.HasField("properties"):
            kept = struct_pb2.Struct()
            for key in keys & set(build.output.properties.fields):
                kept.fields[key].CopyFrom(build.output.properties.fields[key])
            out.output.properties.CopyFrom(kept)
        return out

    def _schedule_one(self, request: builds_service_pb2.ScheduleBuildRequest) -> Build:
        _raise_scripted(self._builder_failures.get(request.builder.builder))
        known = self.requested_by.get(request.request_id) if request.request_id else None
        build = self.builds[known] if known is not None else self._create(request)
        return self._masked(build, request.mask)

    def _schedule_build(self, request, context):
        self._check("ScheduleBuild")
        with self._lock:
            return self._schedule_one(request)

    def _batch(self, request, context):
        self._check("Batch")
        response = builds_service_pb2.BatchResponse()
        for item in request.requests:
            out = response.responses.add()
            if item.WhichOneof("request") != "schedule_build":
                out.error.code = Code.UNIMPLEMENTED
                out.error.message = "the fake Batch only schedules builds"
                continue
            try:
                with self._lock:
                    out.schedule_build.CopyFrom(self._schedule_one(item.schedule_build))
            except PrpcError as e:
                out.error.code = e.code
                out.error.message = e.message
        return self._answer_later("Batch", response)

    def _get_build(self, request, context):
        self._check("GetBuild")
        with self._lock:
            build = self.builds.get(request.id)
            if build is None:
                raise PrpcError(Code.NOT_FOUND, f"build {request.id} not found")
            build = self._masked(build, request.mask)
        return self._answer_later("GetBuild", build)

    def _cancel_build(self, request, context):
        self._check("CancelBuild")
        if not request.summary_markdown:
            raise PrpcError(Code.INVALID_ARGUMENT, "summary_markdown is required")
        with self._lock:
            build = self.builds.get(request.id)
            if build is None:
                raise PrpcError(Code.NOT_FOUND, f"build {request.id} not found")
            if build.status & common_pb2.ENDED_MASK:
                return self._masked(build, request.mask)
            self.cancel_summaries[request.id] = request.summary_markdown
            build.cancellation_markdown = request.summary_markdown
        build = self._transition(request.id, common_pb2.CANCELED, summary=request.summary_markdown)
        return self._answer_later("CancelBuild", build)

    def _search_builds(self, request, context):
        self._check("SearchBuilds")
        wanted = {(c.host, c.change, c.patchset) for c in request.predicate.gerrit_changes}
        after = int(request.page_token.removeprefix("id>")) if request.page_token else None
        page_size = request.page_size or 100
        with self._lock:
            matching = sorted(
                b.id
                for b in self.builds.values()
                if wanted <= {(c.host, c.change, c.patchset) for c in b.input.gerrit_changes}
                and (after is None or b.id > after)
            )
            page = matching[:page_size]
            response = builds_service_pb2.SearchBuildsResponse(
                builds=[self._masked(self.builds[i], request.mask) for i in page]
            )
            if len(matching) > page_size:
                response.next_page_token = f"id>{page[-1]}"
        return response
