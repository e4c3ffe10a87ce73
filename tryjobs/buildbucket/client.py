"""pRPC calls to Buildbucket's Builds service, with cvsite's credentials (never logged).

A host (as tryjob definitions name it, e.g. cr-buildbucket.appspot.com) is reached at
`https://<host>` unless `settings.BUILDBUCKET_URL_OVERRIDES` says otherwise. The bearer token
is read from `settings.BUILDBUCKET_TOKEN_FILE` before every attempt.
"""

from __future__ import annotations

import pathlib

from django.conf import settings
from google.protobuf.message import Message

from cvproto.buildbucket.v2 import build_pb2, builds_service_pb2
from prpc.client import Client

__all__ = ["BuildsClient"]

SERVICE = "buildbucket.v2.Builds"


def _token() -> str:
    path = settings.BUILDBUCKET_TOKEN_FILE
    return pathlib.Path(path).read_text().strip() if path else ""


class BuildsClient:
    """One host's Builds service. `retries`: transient failures retried inside one call."""

    def __init__(self, host: str, *, retries: int = 2):
        url = settings.BUILDBUCKET_URL_OVERRIDES.get(host) or f"https://{host}"
        self.host = host
        self._client = Client(
            url,
            auth_token=_token,
            timeout=settings.BUILDBUCKET_TIMEOUT_SECONDS,
            retries=retries,
            initial_backoff=0.1,
            max_backoff=2.0,
            user_agent="cvsite buildbucket client",
        )

    def _call(self, method: str, request: Message, response_class):
        return self._client.call(SERVICE, method, request, response_class)

    def batch(self, request: builds_service_pb2.BatchRequest) -> builds_service_pb2.BatchResponse:
        return self._call("Batch", request, builds_service_pb2.BatchResponse)

    def get_build(self, request: builds_service_pb2.GetBuildRequest) -> build_pb2.Build:
        return self._call("GetBuild", request, build_pb2.Build)

    def search_builds(
        self, request: builds_service_pb2.SearchBuildsRequest
    ) -> builds_service_pb2.SearchBuildsResponse:
        return self._call("SearchBuilds", request, builds_service_pb2.SearchBuildsResponse)

    def cancel_build(self, request: builds_service_pb2.CancelBuildRequest) -> build_pb2.Build:
        return self._call("CancelBuild", request, build_pb2.Build)

    def close(self) -> None:
        self._client.close()
