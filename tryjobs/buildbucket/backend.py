"""`BuildbucketBackend`: tryjobs launched, cancelled, fetched and found as Buildbucket builds.

Use it with `TRYJOB_BACKEND=tryjobs.buildbucket.backend.BuildbucketBackend`. Like every
backend it touches no database: the executor calls it outside the run's lock and retries
what failed transiently (tryjobs/launching.py).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

from cvproto.buildbucket.v2 import builds_service_pb2
from cvproto.cv.internal.tryjob import storage_pb2 as tryjob_pb
from prpc.client import RpcError
from tryjobs import external_id as eid
from tryjobs.backend import (
    BackendError,
    LaunchCL,
    LaunchError,
    LaunchRequest,
    LaunchResult,
    ReuseCandidate,
    Started,
    TryjobBackend,
)
from tryjobs.buildbucket import messages
from tryjobs.buildbucket.client import BuildsClient

__all__ = ["MAX_BATCH", "BuildbucketBackend", "batch_sizes"]

# Buildbucket takes at most this many requests in one Batch.
MAX_BATCH = 200
# Batches in flight at once, as upstream's limit of hosts worked on concurrently.
MAX_CONCURRENT_BATCHES = 8


def batch_sizes(n: int) -> list[int]:
    """Upstream's split of n requests: ceil(n/200) even batches, any remainder in one more."""
    if n == 0:
        return []
    k = math.ceil(n / MAX_BATCH)
    size = n // k
    sizes = [size] * k
    if n - size * k:
        sizes.append(n - size * k)
    return sizes


class BuildbucketBackend(TryjobBackend):
    kind = "buildbucket"

    def __init__(self):
        self._clients: dict[tuple[str, str], BuildsClient] = {}
        self._lock = threading.Lock()

    def client(self, host: str, project: str) -> BuildsClient:
        """The client of `host` that calls as LUCI `project` (upstream: one per pair)."""
        with self._lock:
            if (host, project) not in self._clients:
                self._clients[host, project] = BuildsClient(host, project)
            return self._clients[host, project]

    # Launch (§2.2) ---------------------------------------------------------------------------

    def launch(self, requests: Sequence[LaunchRequest]) -> list[LaunchResult]:
        """One Batch per host, calling project and up to 200 requests, sent concurrently (at
        most 8 at once)."""
        by_client: dict[tuple[str, str], list[int]] = {}
        for n, request in enumerate(requests):
            key = (request.definition.buildbucket.host, request.project)
            by_client.setdefault(key, []).append(n)
        chunks: list[tuple[BuildsClient, list[int]]] = []
        for (host, project), indexes in by_client.items():
            start = 0
            for size in batch_sizes(len(indexes)):
                chunks.append((self.client(host, project), indexes[start : start + size]))
                start += size

        def send(chunk: tuple[BuildsClient, list[int]]) -> list[LaunchResult]:
            return self._batch(chunk[0], [requests[n] for n in chunk[1]])

        if len(chunks) == 1:
            answers = [send(chunks[0])]  # the common case: no thread to start
        else:
            with ThreadPoolExecutor(max_workers=min(MAX_CONCURRENT_BATCHES, len(chunks))) as pool:
                answers = list(pool.map(send, chunks))
        results: list[LaunchResult | None] = [None] * len(requests)
        for (_, chunk), answer in zip(chunks, answers, strict=True):
            for n, result in zip(chunk, answer, strict=True):
                results[n] = result
        return results

    def _batch(self, client: BuildsClient, requests: list[LaunchRequest]) -> list[LaunchResult]:
        batch = builds_service_pb2.BatchRequest()
        for request in requests:
            batch.requests.add().schedule_build.CopyFrom(messages.schedule_build_request(request))
        try:
            # Request IDs make a repeated Batch start no second build: the client retries
            # transient failures a little, the executor then with its own backoff.
            response = client.batch(batch)
        except RpcError as e:
            return [LaunchError(e.code, e.message)] * len(requests)
        if len(response.responses) != len(requests):
            message = f"Batch answered {len(requests)} requests with {len(response.responses)}"
            return [LaunchError(None, message)] * len(requests)
        return [launch_result(client.host, item) for item in response.responses]

    # Cancel (§2.7) and fetch (§2.5) ----------------------------------------------------------

    def cancel(self, external_id: str, summary: str, *, project: str) -> None:
        host, build_id = eid.parse_buildbucket_external_id(external_id)
        try:
            self.client(host, project).cancel_build(messages.cancel_request(build_id, summary))
        except RpcError as e:
            raise BackendError(e.code, e.message) from e

    def fetch(self, external_id: str, *, project: str) -> messages.ParsedBuild:
        """The build's status and result now, as LUCI `project` sees it (`""`: with the
        default token); BackendError when Buildbucket cannot say."""
        host, build_id = eid.parse_buildbucket_external_id(external_id)
        try:
            build = self.client(host, project).get_build(messages.get_build_request(build_id))
        except RpcError as e:
            raise BackendError(e.code, e.message) from e
        return messages.parse_build(build)

    # Reuse (§2.6) ----------------------------------------------------------------------------

    def find_reusable(
        self,
        cls: Sequence[LaunchCL],
        definitions: Sequence[tryjob_pb.Definition],
        *,
        project: str,
    ) -> Iterator[ReuseCandidate]:
        """Builds of exactly these CLs (patchsets within their equivalent ranges), newest
        first per host, on a definition's builder or its equivalent. Searches the CL with
        the fewest acceptable patchsets, from its current patchset down. Raises
        BackendError (transient) if a search fails."""
        if not cls:
            return
        target = min(cls, key=lambda cl: cl.patchset - cl.min_equivalent_patchset)
        by_host: dict[str, dict[str, tryjob_pb.Definition]] = {}
        for definition in definitions:
            for d in (definition, definition.equivalent_to):
                if d.HasField("buildbucket"):
                    builders = by_host.setdefault(d.buildbucket.host, {})
                    builders[messages.builder_name(d.buildbucket.builder)] = definition
        for host, builders in by_host.items():
            client = self.client(host, project)
            for patchset in range(target.patchset, target.min_equivalent_patchset - 1, -1):
                page_token = ""
                while True:
                    try:
                        page = client.search_builds(
                            messages.search_builds_request(target, patchset, page_token)
                        )
                    except RpcError as e:
                        raise BackendError(e.code, e.message) from e
                    for build in page.builds:
                        if messages.accepts_for_reuse(build, cls, builders):
                            parsed = messages.parse_build(build)
                            yield ReuseCandidate(
                                eid.buildbucket_external_id(host, build.id),
                                builders[messages.builder_name(build.builder)],
                                parsed.status,
                                parsed.result,
                                tuple(
                                    (c.host, c.change, c.patchset)
                                    for c in build.input.gerrit_changes
                                ),
                            )
                    page_token = page.next_page_token
                    if not page_token:
                        break


def launch_result(host: str, item: builds_service_pb2.BatchResponse.Response) -> LaunchResult:
    """One Batch item's answer as the executor's launch result (a build, or the error)."""
    kind = item.WhichOneof("response")
    if kind == "error":
        return LaunchError(item.error.code, item.error.message)
    if kind != "schedule_build":
        return LaunchError(None, "unexpected nil response")
    build = item.schedule_build
    try:
        parsed = messages.parse_build(build)
    except messages.BuildParseError as e:
        return LaunchError(None, str(e))
    return Started(eid.buildbucket_external_id(host, build.id), parsed.status, parsed.result)
