"""The HTTP statuses a pRPC server answers gRPC status codes with (`Code`: cvproto.codes).

The HTTP mapping is the current upstream one (DataLoss is 500, not the 410 used until 2022).
Codes outside the known range are still representable as plain ints: a server may receive
them from a newer peer, and they map to HTTP 500.
"""

from __future__ import annotations

from cvproto.codes import Code

_HTTP_STATUS: dict[int, int] = {
    Code.OK: 200,
    Code.CANCELLED: 499,
    Code.UNKNOWN: 500,
    Code.INVALID_ARGUMENT: 400,
    Code.DEADLINE_EXCEEDED: 504,
    Code.NOT_FOUND: 404,
    Code.ALREADY_EXISTS: 409,
    Code.PERMISSION_DENIED: 403,
    Code.RESOURCE_EXHAUSTED: 429,
    Code.FAILED_PRECONDITION: 400,
    Code.ABORTED: 409,
    Code.OUT_OF_RANGE: 400,
    Code.UNIMPLEMENTED: 501,
    Code.INTERNAL: 500,
    Code.UNAVAILABLE: 503,
    Code.DATA_LOSS: 500,
    Code.UNAUTHENTICATED: 401,
}

# What a server says instead of an implementation's own message when the HTTP status is
# 500 or above (the message may carry internals; the code is what clients act on).
_GENERIC_SERVER_MESSAGES: dict[int, str] = {
    Code.DATA_LOSS: "Unrecoverable data loss or data corruption",
    Code.UNKNOWN: "Unknown server error",
    Code.INTERNAL: "Internal server error",
    Code.UNIMPLEMENTED: "API method not implemented by the server",
    Code.UNAVAILABLE: "Service unavailable",
    Code.DEADLINE_EXCEEDED: "Request deadline exceeded",
}

# Codes a client may retry with backoff: the call may succeed if simply repeated.
TRANSIENT_CODES: frozenset[int] = frozenset(
    {Code.UNKNOWN, Code.INTERNAL, Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED}
)


def to_code(value: int) -> Code | int:
    """`value` as a `Code` when it is a known code, else the int unchanged."""
    try:
        return Code(value)
    except ValueError:
        return int(value)


def code_name(value: int) -> str:
    """`NOT_FOUND` for 5; `CODE(42)` for values that are not known codes."""
    code = to_code(value)
    return code.name if isinstance(code, Code) else f"CODE({value})"


def http_status(code: int) -> int:
    """The HTTP status a server answers `code` with; 500 for unknown codes."""
    return _HTTP_STATUS.get(code, 500)


def generic_server_message(code: int) -> str:
    """The fixed text that replaces an implementation's message for HTTP >= 500."""
    return _GENERIC_SERVER_MESSAGES.get(code, "Server error")


def code_from_http_status(status: int) -> Code:
    """Best guess at a code for an HTTP response that carries no X-Prpc-Grpc-Code header
    (e.g. from a proxy or load balancer in front of the server)."""
    if status == 401:
        return Code.UNAUTHENTICATED
    if status == 403:
        return Code.PERMISSION_DENIED
    if status == 503:
        return Code.UNAVAILABLE
    return Code.INTERNAL
