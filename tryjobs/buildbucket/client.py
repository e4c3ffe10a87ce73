"""pRPC calls to Buildbucket's Builds service, with cvsite's credentials (never logged).

A host (as tryjob definitions name it, e.g. cr-buildbucket.appspot.com) is reached at
`https://<host>` unless `settings.BUILDBUCKET_URL_OVERRIDES` says otherwise. Calls are made as
a LUCI project, as upstream's: the bearer token is read before every attempt from the project's
file in `settings.BUILDBUCKET_TOKEN_FILES`, else from `settings.BUILDBUCKET_TOKEN_FILE`. A file
that cannot be read fails the call (UNAUTHENTICATED) naming the project, never the token.
"""

from __future__ import annotations

import functools
import pathlib

from django.conf import settings
from google.protobuf.message import Message

from cvproto.buildbucket.v2 import build_pb2, builds_service_pb2
from prpc.client import Client, RpcError
from prpc.codes import Code

__all__ = ["BuildsClient", "token_file"]

SERVICE = "buildbucket.v2.Builds"


def token_file(project: str) -> str | None:
    """The file holding the token `project`'s calls present; None: calls carry none."""
    return settings.BUILDBUCKET_TOKEN_FILES.get(project) or settings.BUILDBUCKET_TOKEN_FILE


def _token(project: str) -> str:
    path = token_file(project)
    if not path:
        return ""
    try:
        return pathlib.Path(path).read_text().strip()
    except OSError as e:
        raise RpcError(
            Code.UNAUTHENTICATED,
            f"the Buildbucket token file of project {project!r} cannot be read: "
            f"{e.strerror or type(e).__name__}",
        ) from None


class BuildsClient:
    """One host's Builds service, called as LUCI `project` (`""`: with the default token).
    `retries`: transient failures retried inside one call."""

    def __init__(self, host: str, project: str = "", *, retries: int = 2):
        url = settings.BUILDBUCKET_URL_OVERRIDES.get(host) or f"https://{host}"
        self.host = host
        self.project = project
        self._client = Client(
            url,
            auth_token=functools.partial(_token, project),
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
