"""Reading a request body under a size limit, gunzipping it as it arrives.

The limit applies to the bytes on the wire and, for gzip bodies, to the decompressed bytes:
decompression stops one byte past the limit, so a small "gzip bomb" never expands in memory.
"""

from __future__ import annotations

import zlib
from typing import Protocol

from prpc.codes import Code
from prpc.errors import ProtocolError

CHUNK_SIZE = 64 * 1024
TOO_LARGE = "reading the request: the request size exceeds the server limit"
DECOMPRESSED_TOO_LARGE = (
    "decompressing the request: the decompressed request size exceeds the server limit"
)


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


def content_coding(header: str | None) -> str | None:
    """'gzip' for a gzip body, None for an uncompressed one; other codings are refused (415)."""
    codings = [c.strip().lower() for c in (header or "").split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return None
    if codings in (["gzip"], ["x-gzip"]):
        return "gzip"
    raise ProtocolError(
        Code.INVALID_ARGUMENT,
        f"unsupported Content-Encoding {header!r}: only gzip is supported",
        http_status=415,
    )


def read_body(
    stream: Readable,
    *,
    content_length: int | None,
    coding: str | None,
    limit: int,
) -> bytes:
    """The (decompressed) body, at most `limit` bytes; raises ProtocolError otherwise.

    Too large: UNAVAILABLE (503). Fewer bytes than Content-Length promised, or a dropped
    connection: CANCELLED (499). Bad gzip: INVALID_ARGUMENT (400).
    """
    if content_length is not None and content_length > limit:
        raise ProtocolError(Code.UNAVAILABLE, TOO_LARGE)
    gunzip = _Gunzip(limit) if coding == "gzip" else None
    chunks: list[bytes] = []
    received = 0
    while content_length is None or received < content_length:
        want = CHUNK_SIZE if content_length is None else min(CHUNK_SIZE, content_length - received)
        try:
            chunk = stream.read(want)
        except OSError as exc:
            raise _read_error(exc) from exc
        if not chunk:
            break
        received += len(chunk)
        if received > limit:
            raise ProtocolError(Code.UNAVAILABLE, TOO_LARGE)
        if gunzip is not None:
            gunzip.feed(chunk)
        else:
            chunks.append(chunk)
    if content_length is not None and received < content_length:
        raise ProtocolError(
            Code.CANCELLED,
            f"reading the request: the body ended after {received} of {content_length} bytes",
        )
    return gunzip.finish() if gunzip is not None else b"".join(chunks)


def _read_error(exc: OSError) -> ProtocolError:
    cause = exc.__cause__ if isinstance(exc.__cause__, OSError) else exc
    if isinstance(cause, ConnectionError | TimeoutError):
        return ProtocolError(Code.CANCELLED, "reading the request: the client went away")
    return ProtocolError(Code.INVALID_ARGUMENT, f"reading the request: {exc}")


class _Gunzip:
    """Incremental gunzip of one or more concatenated gzip members, capped at `limit`."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._decompressor = self._new()
        self._output: list[bytes] = []
        self._size = 0
        self._seen_input = False

    @staticmethod
    def _new() -> zlib._Decompress:
        return zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data: bytes) -> None:
        self._seen_input = self._seen_input or bool(data)
        while data:
            if self._decompressor.eof:
                self._decompressor = self._new()  # the next member of a multi-member stream
            # Ask for at most one byte past the limit: enough to know it was exceeded.
            budget = self._limit + 1 - self._size
            try:
                piece = self._decompressor.decompress(data, budget)
            except zlib.error as exc:
                raise ProtocolError(
                    Code.INVALID_ARGUMENT, f"decompressing the request: invalid gzip data ({exc})"
                ) from None
            self._size += len(piece)
            if self._size > self._limit:
                raise ProtocolError(Code.UNAVAILABLE, DECOMPRESSED_TOO_LARGE)
            self._output.append(piece)
            if self._decompressor.eof:
                data = self._decompressor.unused_data
            else:
                data = self._decompressor.unconsumed_tail

    def finish(self) -> bytes:
        if not self._seen_input or not self._decompressor.eof:
            raise ProtocolError(
                Code.INVALID_ARGUMENT,
                "decompressing the request: the gzip stream is empty or truncated",
            )
        return b"".join(self._output)
