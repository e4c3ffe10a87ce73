"""What the project's commands share for reading their input files."""

from pathlib import Path

from django.core.management.base import CommandError


def read_text(path: str, what: str) -> str:
    """The UTF-8 text of `path`; CommandError naming the file and why it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
        raise CommandError(f"{path}: cannot read the {what}: {reason}") from e
