"""Where backfill records come from: the lines of a file (or stdin), read as a stream.

`FileSource("attempts.jsonl.gz")` yields `(line number, raw bytes)` pairs one line at a time,
never holding more than a line and the reader's buffer, so memory stays flat however big the
input. `.gz` files are decompressed on the fly; `-` is standard input (compressed or not). A
plain file can be resumed by seeking to a byte offset; a compressed stream or a pipe by
skipping lines.

A damaged input (a truncated or corrupt gzip stream, an unreadable file) ends the stream with
an InputError carrying the number of the line it happened at: the lines before it are good.
"""

import gzip
import hashlib
import io
import os
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["FileSource", "InputError", "SourceRecord"]

_FINGERPRINT_BYTES = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"


class InputError(Exception):
    """The input itself is damaged at `position` (the line that could not be read)."""

    def __init__(self, position: int, reason: str):
        super().__init__(reason)
        self.position = position
        self.reason = reason


@dataclass(slots=True)
class SourceRecord:
    """One raw record: its position (line number, from 1), its bytes, and, when the source is
    seekable, the byte offset just after it (where resuming would start reading)."""

    position: int
    raw: bytes
    next_offset: int | None = None


class FileSource:
    """The lines of a file, a gzip file (by its `.gz` name) or standard input (`-`)."""

    position_name = "line"

    def __init__(self, path: str):
        self.path = path
        self.is_stdin = path == "-"
        self.is_gzip = path.endswith(".gz")
        self._raw = None
        if not self.is_stdin and not os.path.isfile(path):
            raise FileNotFoundError(f"{path}: no such file")

    @property
    def description(self) -> str:
        return "standard input" if self.is_stdin else self.path

    @property
    def checkpoint_key(self) -> str:
        return "-" if self.is_stdin else os.path.abspath(self.path)

    @property
    def default_rejects_path(self) -> str | None:
        """Beside the input: `<input>.rejects`, or None for standard input."""
        return None if self.is_stdin else f"{self.path}.rejects"

    @property
    def seekable(self) -> bool:
        return not self.is_stdin and not self.is_gzip

    def fingerprint(self) -> str:
        """The size and a hash of the first MiB: enough to tell another file from this one."""
        if self.is_stdin:
            return ""
        digest = hashlib.sha256()
        with open(self.path, "rb") as f:
            digest.update(f.read(_FINGERPRINT_BYTES))
        return f"{os.path.getsize(self.path)}:{digest.hexdigest()[:32]}"

    def total_bytes(self) -> int | None:
        """The size of what progress is measured in (the file as stored), or None."""
        return None if self.is_stdin else os.path.getsize(self.path)

    def bytes_done(self) -> int:
        """How much of `total_bytes` has been read so far."""
        try:
            return self._raw.tell() if self._raw is not None else 0
        except (OSError, ValueError):
            return 0

    def fraction_done(self, records_done: int) -> float | None:
        total = self.total_bytes()
        return self.bytes_done() / total if total else None

    def records(self, after_position: int = 0, offset: int | None = None) -> Iterator[SourceRecord]:
        """Lines after line `after_position` (seeking to `offset` when given and possible).

        Empty and whitespace-only lines are skipped (but counted in line numbers).
        """
        if self.is_stdin:
            stream = self._raw = sys.stdin.buffer
            peek = getattr(stream, "peek", None)
            if peek is not None and peek(2)[:2] == _GZIP_MAGIC:  # `zcat`-less pipes work too
                stream = io.BufferedReader(gzip.GzipFile(fileobj=stream, mode="rb"))
            yield from self._lines(stream, after_position, None)
            return
        with open(self.path, "rb") as raw:
            self._raw = raw
            if self.is_gzip:
                with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                    yield from self._lines(io.BufferedReader(stream), after_position, None)
                return
            if offset is not None and after_position:
                raw.seek(offset)
                yield from self._lines(raw, 0, offset, first_position=after_position + 1)
            else:
                yield from self._lines(raw, after_position, 0)

    def _lines(
        self,
        stream,
        skip: int,
        offset: int | None,
        first_position: int = 1,
    ) -> Iterator[SourceRecord]:
        position = first_position - 1
        while True:
            try:
                line = stream.readline()
            except EOFError as e:
                raise InputError(
                    position + 1, f"the gzip stream is truncated after line {position} ({e})"
                ) from None
            except (gzip.BadGzipFile, zlib.error) as e:
                where = f"after line {position}" if position else "from the start"
                raise InputError(
                    position + 1, f"the gzip stream is corrupt {where} ({e})"
                ) from None
            except OSError as e:
                raise InputError(position + 1, f"cannot read the input: {e}") from None
            if not line:
                return
            position += 1
            if offset is not None:
                offset += len(line)
            if position <= skip or not line.strip():
                continue
            yield SourceRecord(position, line, offset)
