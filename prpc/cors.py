"""Optional CORS for pRPC endpoints (off unless `prpc_urlpatterns(access_control=...)`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

_DEFAULT_ALLOW_HEADERS = (
    "Origin",
    "Content-Type",
    "Accept",
    "Authorization",
    "X-Prpc-Grpc-Timeout",
    "X-Prpc-Max-Response-Size",
)
_EXPOSE_HEADERS = "X-Prpc-Grpc-Code, X-Prpc-Status-Details-Bin"
_MAX_AGE_SECONDS = 600


@dataclass(frozen=True)
class AccessControl:
    """What an allowed origin may do: send credentials, and which extra request headers
    (listed before the protocol's own in Access-Control-Allow-Headers)."""

    allow_credentials: bool = False
    allow_headers: tuple[str, ...] = ()


# Given the request's Origin, the decision for it, or None when the origin is not allowed.
AccessControlPolicy = Callable[[str], AccessControl | None]


def allow_origins(
    origins: Iterable[str], *, allow_credentials: bool = False, allow_headers: Iterable[str] = ()
) -> AccessControlPolicy:
    """A policy allowing exactly `origins` (e.g. `https://example.com`)."""
    allowed = frozenset(origins)
    decision = AccessControl(allow_credentials, tuple(allow_headers))

    def policy(origin: str) -> AccessControl | None:
        return decision if origin in allowed else None

    return policy


def cors_headers(
    policy: AccessControlPolicy | None, origin: str | None, *, preflight: bool
) -> dict[str, str]:
    """The Access-Control-* headers for a response to a request from `origin`."""
    if policy is None or not origin:
        return {}
    decision = policy(origin)
    if decision is None:
        return {}
    headers = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    if decision.allow_credentials:
        headers["Access-Control-Allow-Credentials"] = "true"
    if preflight:
        headers["Access-Control-Allow-Headers"] = ", ".join(
            (*decision.allow_headers, *_DEFAULT_ALLOW_HEADERS)
        )
        headers["Access-Control-Allow-Methods"] = "OPTIONS, POST"
        headers["Access-Control-Max-Age"] = str(_MAX_AGE_SECONDS)
    else:
        headers["Access-Control-Expose-Headers"] = _EXPOSE_HEADERS
    return headers
