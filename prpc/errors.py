"""The exception handlers raise to answer a call with a gRPC status."""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf.message import Message

from prpc.codes import Code, code_name, to_code


class PrpcError(Exception):
    """Answer the call with `code` and `message`.

    Raised by handlers and `authenticate` hooks. `details` are optional protobuf messages
    sent to the client in `X-Prpc-Status-Details-Bin` (each packed into a
    `google.protobuf.Any`). When the code's HTTP status is 500 or above the server replaces
    the message with a generic text unless `PRPC_EXPOSE_SERVER_ERROR_MESSAGES` is on (the
    original is logged); codes are what clients act on.
    """

    def __init__(self, code: int, message: str = "", *, details: Iterable[Message] = ()) -> None:
        code = to_code(code)
        if code == Code.OK:
            raise ValueError("PrpcError needs an error code, not OK")
        self.code: Code | int = code
        self.message = message
        self.details: tuple[Message, ...] = tuple(details)
        super().__init__(code, message)

    def __str__(self) -> str:
        return f"{code_name(self.code)}: {self.message}" if self.message else code_name(self.code)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({code_name(self.code)}, {self.message!r})"


class ProtocolError(PrpcError):
    """An error found by the transport itself (bad headers, undecodable body, size limits).

    Its message is always sent as is: it describes what the client got wrong, never server
    internals. `http_status` overrides the code's usual status where the protocol says so
    (406 for an unsatisfiable Accept, 415 for an unsupported Content-Type).
    """

    def __init__(self, code: int, message: str, *, http_status: int | None = None) -> None:
        super().__init__(code, message)
        self.http_status = http_status
