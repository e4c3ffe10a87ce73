"""The reject file: one JSON line per bad record, with where it was and why it was refused.

    {"line": 12, "reason": "gerrit_changes[0].change: expected an integer, got a string 'x'",
     "record": "{\"key\": ...}"}

`record` is the input line as read (cut at 64 KiB), so a fixed copy can be imported again.
A batch's rejects are written and flushed to disk before the batch commits; on `--resume` the
file is first cut back to the rejects of committed batches, so every bad record is listed
exactly once however often an import was interrupted.
"""

import json
import os
from typing import TextIO

__all__ = ["RejectFile"]

MAX_RECORD_CHARS = 64 * 1024


class RejectFile:
    """Writes rejects to `path`, keyed by `position_name` ("line", or "cl" for CLs)."""

    def __init__(self, path: str, *, position_name: str = "line", keep_upto: int | None = None):
        """`keep_upto`: resuming after that position; keep earlier rejects, drop later ones.
        None starts a new file."""
        self.path = path
        self.position_name = position_name
        self.count = 0
        self._pending: list[str] = []
        kept = self._kept_lines(keep_upto) if keep_upto is not None else []
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        self._file: TextIO = open(path, "w", encoding="utf-8")  # noqa: SIM115
        self._file.writelines(kept)
        self._sync()

    def _kept_lines(self, keep_upto: int) -> list[str]:
        if not os.path.exists(self.path):
            return []
        kept = []
        with open(self.path, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    position = json.loads(line)[self.position_name]
                except (ValueError, KeyError, TypeError):
                    continue
                if isinstance(position, int) and position <= keep_upto:
                    kept.append(line if line.endswith("\n") else line + "\n")
        return kept

    def add(self, position: int, reason: str, record: bytes | str = b"") -> None:
        if isinstance(record, bytes):
            record = record.decode("utf-8", errors="replace")
        record = record.rstrip("\r\n")
        if len(record) > MAX_RECORD_CHARS:
            record = record[:MAX_RECORD_CHARS]
        entry = {self.position_name: position, "reason": reason, "record": record}
        self._pending.append(json.dumps(entry, ensure_ascii=False) + "\n")
        self.count += 1

    def flush(self) -> None:
        """Makes the pending rejects durable; call before committing their batch."""
        if self._pending:
            self._file.writelines(self._pending)
            self._pending.clear()
            self._sync()

    def discard(self) -> None:
        """Forgets rejects of a batch that will be processed again."""
        self.count -= len(self._pending)
        self._pending.clear()

    def _sync(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self.flush()
        self._file.close()
