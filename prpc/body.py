"""Reading a request body under a size limit and a deadline, gunzipping it as it arrives.

The limit applies to the bytes on the wire and, for gzip bodies, to the decompressed bytes:
decompression stops one byte past the limit, so a small "gzip bomb" never expands in memory.
A body over the limit is refused before it is read when Content-Length announces it, with
INVALID_ARGUMENT (400): sending it again will not help, so clients must not retry it.

The deadline bounds the whole read, so a client trickling its body cannot hold a server
thread for longer. A server's body reader loops until it has the bytes asked for, so checking
the clock between reads is not enough: where the server hands over the connection's socket
(gunicorn does, as `gunicorn.socket` in the WSGI environ), a watchdog shuts the socket's read
side at the deadline, which ends any read in progress; elsewhere the deadline is checked
between reads.
"""

from __future__ import annotations

import heapq
import itertools
import socket as socket_module
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Protocol

from prpc.codes import Code
from prpc.errors import ProtocolError

CHUNK_SIZE = 64 * 1024


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class Shutdownable(Protocol):
    def shutdown(self, how: int, /) -> None: ...


class ReadWatchdog:
    """Shuts the read side of connections whose body is late; one thread per process.

    Watching costs a heap push under a lock; the thread starts with the first watch (in each
    server worker process, after it forked) and sleeps until the earliest deadline.
    """

    def __init__(self) -> None:
        self._wakeup = threading.Condition()
        self._deadlines: list[list] = []  # [deadline, sequence, socket, still watched]
        self._sequence = itertools.count()
        self._thread: threading.Thread | None = None

    @contextmanager
    def watch(self, sock: Shutdownable, deadline: float) -> Iterator[None]:
        entry = [deadline, next(self._sequence), sock, True]
        with self._wakeup:
            heapq.heappush(self._deadlines, entry)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="prpc-body-watchdog", daemon=True
                )
                self._thread.start()
            self._wakeup.notify()
        try:
            yield
        finally:
            with self._wakeup:
                entry[3] = False

    def _run(self) -> None:
        while True:
            with self._wakeup:
                while not self._deadlines:
                    self._wakeup.wait()
                deadline, _, sock, watched = self._deadlines[0]
                delay = deadline - time.monotonic()
                if watched and delay > 0:
                    self._wakeup.wait(delay)
                    continue
                heapq.heappop(self._deadlines)
            if watched:
                try:
                    sock.shutdown(socket_module.SHUT_RD)
                except OSError:
                    pass  # the connection is already gone


WATCHDOG = ReadWatchdog()


def too_large(limit: int) -> ProtocolError:
    return ProtocolError(
        Code.INVALID_ARGUMENT,
        f"reading the request: the request body exceeds the limit of {limit} bytes",
    )


def decompressed_too_large(limit: int) -> ProtocolError:
    return ProtocolError(
        Code.INVALID_ARGUMENT,
        f"decompressing the request: the decompressed body exceeds the limit of {limit} bytes",
    )


def read_too_slow(seconds: float) -> ProtocolError:
    return ProtocolError(
        Code.DEADLINE_EXCEEDED,
        f"reading the request: the body did not arrive within {seconds:g} s",
    )


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
    seconds: float | None = None,
    socket: Shutdownable | None = None,
) -> bytes:
    """The (decompressed) body, at most `limit` bytes, read within `seconds` (None: no bound).

    Raises ProtocolError: too large, or bad gzip: INVALID_ARGUMENT (400); not all there in
    time: DEADLINE_EXCEEDED (504); fewer bytes than Content-Length promised, or a dropped
    connection: CANCELLED (499). `socket`, if given, is the connection's: its read side is
    shut when the time is up, so that no read outlasts the deadline.
    """
    if content_length is not None and content_length > limit:
        raise too_large(limit)
    if seconds is None:
        return _read(stream, content_length, coding, limit, None)
    deadline = time.monotonic() + seconds
    watched = WATCHDOG.watch(socket, deadline) if socket is not None else nullcontext()
    try:
        with watched:
            body = _read(stream, content_length, coding, limit, deadline)
    except ProtocolError:
        if time.monotonic() >= deadline:
            raise read_too_slow(seconds) from None
        raise
    return body


def _read(stream, content_length, coding, limit, deadline) -> bytes:
    gunzip = _Gunzip(limit) if coding == "gzip" else None
    chunks: list[bytes] = []
    received = 0
    while content_length is None or received < content_length:
        want = CHUNK_SIZE if content_length is None else min(CHUNK_SIZE, content_length - received)
        if deadline is not None and time.monotonic() >= deadline:
            raise ProtocolError(Code.DEADLINE_EXCEEDED, "reading the request: too slow")
        try:
            chunk = stream.read(want)
        except OSError as exc:
            raise _read_error(exc) from exc
        if not chunk:
            break
        received += len(chunk)
        if received > limit:
            raise too_large(limit)
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
    # Django wraps the server's OSError in UnreadablePostError.
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
                raise decompressed_too_large(self._limit)
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
