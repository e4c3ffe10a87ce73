"""The one exception the Gerrit client raises, carrying the gRPC code a caller should return.

Callers (pRPC handlers, task-queue jobs) branch on `code` and `transient` only; the message is
for people and never contains a credential (the client redacts every secret it knows before
building one).
"""

from cvproto.codes import Code

# HTTP statuses with their own code; everything else that is not 2xx is INTERNAL.
# 409 (conflict: already merged, not current revision, unmerged dependency) is what Gerrit
# answers for a failed precondition. 412 is mapped the same way on purpose, although
# upstream CV's REST client left it INTERNAL.
HTTP_STATUS_CODES: dict[int, Code] = {
    403: Code.PERMISSION_DENIED,
    404: Code.NOT_FOUND,
    409: Code.FAILED_PRECONDITION,
    412: Code.FAILED_PRECONDITION,
    429: Code.RESOURCE_EXHAUSTED,
}


def code_for_http_status(status: int) -> Code:
    return HTTP_STATUS_CODES.get(status, Code.INTERNAL)


def is_transient_http_status(status: int) -> bool:
    """Worth retrying later: Gerrit overloaded, throttling, or failing on its side."""
    return status == 429 or 500 <= status <= 599


class GerritError(Exception):
    """A Gerrit call failed.

    Attributes:
      code: the gRPC code (cvproto.codes.Code) to report upstream.
      transient: True when retrying later may succeed (5xx, 429, timeouts, connection errors).
      http_status: Gerrit's HTTP status, or None when no response arrived.
      host: the Gerrit host the call was for.
    """

    def __init__(
        self,
        code: Code,
        message: str,
        *,
        host: str = "",
        http_status: int | None = None,
        transient: bool = False,
    ) -> None:
        super().__init__(message)
        self.code = Code(code)
        self.message = message
        self.host = host
        self.http_status = http_status
        self.transient = transient

    def __str__(self) -> str:
        return f"{self.code.name}: {self.message}"

    def __repr__(self) -> str:
        return (
            f"GerritError(code={self.code.name}, http_status={self.http_status}, "
            f"transient={self.transient}, message={self.message!r})"
        )
