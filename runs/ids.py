"""Run IDs, CQDaemon attempt keys and Gerrit CL external IDs.

Pure helpers: no ORM, no clock (callers pass times in).
Spec: migration_behaviour.md §3.1 (Run ID, attempt key) and §3.4 (CL identity).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = [
    "DIGEST_VERSION",
    "END_OF_THE_WORLD_NS",
    "START_OF_THE_WORLD",
    "AttemptKeyCL",
    "IDError",
    "InvalidAttemptKeyCLError",
    "InvalidCLExternalIDError",
    "InvalidProjectError",
    "InvalidRunIDError",
    "RunID",
    "attempt_key",
    "gerrit_cl_external_id",
    "gerrit_cl_url",
    "invert_time_ms",
    "parse_gerrit_cl_external_id",
    "validate_project",
]

# Only digest version 1 has ever existed.
DIGEST_VERSION = 1

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_INT64 = 2**63 - 1

# END = START + max Go duration. Before START, Go's END.Sub(t) saturates, so every
# such time would map to the same inverted value; we reject those instead.
START_OF_THE_WORLD = datetime(2014, 5, 9, 1, 26, tzinfo=UTC)
END_OF_THE_WORLD_NS = (START_OF_THE_WORLD - _EPOCH) // timedelta(microseconds=1) * 1000 + _MAX_INT64

_MAX_DIGEST_VERSION = 999_999_999
_INVERTED_DIGITS = 13
_MAX_INVERTED_MS = 10**_INVERTED_DIGITS - 1

_INVERTED_RE = re.compile(r"[0-9]{13}")
_DIGEST_VERSION_RE = re.compile(r"0|[1-9][0-9]{0,8}")
_ATTEMPT_KEY_RE = re.compile(r"[0-9a-f]{16}")
_POSITIVE_DECIMAL_RE = re.compile(r"[1-9][0-9]*")


class IDError(ValueError):
    """Base class for all errors raised by this module."""


class InvalidProjectError(IDError):
    """A LUCI project name is malformed."""


class InvalidRunIDError(IDError):
    """A Run ID (or one of its parts) is malformed."""


class InvalidAttemptKeyCLError(IDError):
    """Input to the attempt key computation is malformed."""


class InvalidCLExternalIDError(IDError):
    """A Gerrit CL external ID, host or change number is malformed."""


def _is_int(v: object) -> bool:
    # bool is an int subclass, but True as a change number is always a bug.
    return isinstance(v, int) and not isinstance(v, bool)


def validate_project(project: str) -> None:
    """Raises InvalidProjectError unless `project` is non-empty with no '/' or whitespace."""
    if not isinstance(project, str):
        raise InvalidProjectError(
            f"invalid LUCI project {project!r}: must be a str, not {type(project).__name__}"
        )
    if not project:
        raise InvalidProjectError('invalid LUCI project "": must not be empty')
    if "/" in project:
        raise InvalidProjectError(f'invalid LUCI project "{project}": must not contain "/"')
    if any(c.isspace() for c in project):
        raise InvalidProjectError(f'invalid LUCI project "{project}": must not contain whitespace')


def invert_time_ms(create_time: datetime) -> int:
    """Returns whole milliseconds from `create_time` until END, truncated.

    Later times give smaller numbers so that newer Run IDs sort first.
    """
    if not isinstance(create_time, datetime):
        raise InvalidRunIDError(
            f"invalid create time {create_time!r}: must be a datetime, "
            f"not {type(create_time).__name__}"
        )
    if create_time.tzinfo is None or create_time.utcoffset() is None:
        raise InvalidRunIDError(
            f"invalid create time {create_time.isoformat()}: must be timezone-aware"
        )
    if create_time < START_OF_THE_WORLD:
        raise InvalidRunIDError(
            f"invalid create time {create_time.isoformat()}: must not be before "
            f"{START_OF_THE_WORLD.isoformat()}"
        )
    create_ns = (create_time - _EPOCH) // timedelta(microseconds=1) * 1000
    remaining_ns = END_OF_THE_WORLD_NS - create_ns
    if remaining_ns < 0:
        raise InvalidRunIDError(
            f"invalid create time {create_time.isoformat()}: must not be after "
            "2306-08-19T01:13:16.854775807Z"
        )
    return remaining_ns // 1_000_000


@dataclass(frozen=True, slots=True)
class RunID:
    """`<project>/<13-digit inverted ms>-<digest version>-<16 hex attempt key>`."""

    project: str
    inverted_ms: int
    digest_version: int
    attempt_key: str

    def __post_init__(self) -> None:
        validate_project(self.project)
        if not _is_int(self.inverted_ms) or not 0 <= self.inverted_ms <= _MAX_INVERTED_MS:
            raise InvalidRunIDError(
                f"invalid inverted time {self.inverted_ms!r}: must be an int in "
                f"[0, {_MAX_INVERTED_MS}]"
            )
        if not _is_int(self.digest_version) or not 0 <= self.digest_version <= _MAX_DIGEST_VERSION:
            raise InvalidRunIDError(
                f"invalid digest version {self.digest_version!r}: must be an int in "
                f"[0, {_MAX_DIGEST_VERSION}]"
            )
        _validate_attempt_key(self.attempt_key)

    def __str__(self) -> str:
        return (
            f"{self.project}/{self.inverted_ms:0{_INVERTED_DIGITS}d}"
            f"-{self.digest_version}-{self.attempt_key}"
        )

    @classmethod
    def new(cls, project: str, create_time: datetime, attempt_key: str) -> RunID:
        """Builds the ID of a Run created at `create_time` (aware datetime)."""
        return cls(project, invert_time_ms(create_time), DIGEST_VERSION, attempt_key)

    @classmethod
    def parse(cls, s: str) -> RunID:
        """Strictly parses `str(RunID)` output; raises InvalidRunIDError naming the bad part."""
        if not isinstance(s, str):
            raise InvalidRunIDError(f"invalid run ID {s!r}: must be a str, not {type(s).__name__}")
        project, slash, rest = s.partition("/")
        if not slash:
            raise InvalidRunIDError(f'invalid run ID "{s}": missing "/" after the LUCI project')
        try:
            validate_project(project)
        except InvalidProjectError as e:
            raise InvalidRunIDError(f'invalid run ID "{s}": {e}') from None
        if "/" in rest:
            raise InvalidRunIDError(f'invalid run ID "{s}": expected exactly one "/", got more')
        parts = rest.split("-")
        if len(parts) != 3:
            raise InvalidRunIDError(
                f'invalid run ID "{s}": expected "<inverted time>-<digest version>-<attempt key>" '
                f'after the project, got "{rest}"'
            )
        inverted, version, key = parts
        if not _INVERTED_RE.fullmatch(inverted):
            raise InvalidRunIDError(
                f'invalid run ID "{s}": inverted time "{inverted}" '
                "must be exactly 13 decimal digits"
            )
        if not _DIGEST_VERSION_RE.fullmatch(version):
            raise InvalidRunIDError(
                f'invalid run ID "{s}": digest version "{version}" must be 1 to 9 decimal digits '
                "without leading zeros"
            )
        if not _ATTEMPT_KEY_RE.fullmatch(key):
            raise InvalidRunIDError(
                f'invalid run ID "{s}": attempt key "{key}" must be exactly 16 lowercase hex digits'
            )
        return cls(project, int(inverted), int(version), key)


def _validate_attempt_key(key: str) -> None:
    if not isinstance(key, str) or not _ATTEMPT_KEY_RE.fullmatch(key):
        raise InvalidRunIDError(
            f"invalid attempt key {key!r}: must be exactly 16 lowercase hex digits"
        )


@dataclass(frozen=True, slots=True)
class AttemptKeyCL:
    """The per-CL inputs of CQDaemon's attempt key hash."""

    host: str
    change: int
    current_revision: str
    trigger_time: datetime
    mode: str
    gerrit_account_id: int

    def __post_init__(self) -> None:
        for name in ("host", "current_revision", "mode"):
            v = getattr(self, name)
            # A NUL inside a field would make two different inputs hash the same.
            if not isinstance(v, str) or not v or "\0" in v:
                raise InvalidAttemptKeyCLError(
                    f"invalid {name} {v!r}: must be a non-empty str without NUL bytes"
                )
        if not _is_int(self.change) or not 0 < self.change <= _MAX_INT64:
            raise InvalidAttemptKeyCLError(
                f"invalid change {self.change!r}: must be a positive int64"
            )
        if not _is_int(self.gerrit_account_id) or not 0 <= self.gerrit_account_id <= _MAX_INT64:
            raise InvalidAttemptKeyCLError(
                f"invalid gerrit_account_id {self.gerrit_account_id!r}: "
                "must be a non-negative int64"
            )
        t = self.trigger_time
        if not isinstance(t, datetime) or t.tzinfo is None or t.utcoffset() is None:
            raise InvalidAttemptKeyCLError(
                f"invalid trigger_time {t!r}: must be a timezone-aware datetime"
            )

    def _digest_fields(self) -> list[bytes]:
        # datetime has µs precision, so CQDaemon's ns→µs truncation is already done.
        trigger_us = (self.trigger_time - _EPOCH) // timedelta(microseconds=1)
        return [
            self.host.encode(),
            str(self.change).encode(),
            self.current_revision.encode(),
            str(trigger_us).encode(),
            self.mode.encode(),
            str(self.gerrit_account_id).encode(),
        ]


def attempt_key(cls: Iterable[AttemptKeyCL]) -> str:
    """Returns CQDaemon's attempt key (16 lowercase hex) for a Run's CLs."""
    items = list(cls)
    if not items:
        raise InvalidAttemptKeyCLError("invalid CLs []: need at least one CL")
    for cl in items:
        if not isinstance(cl, AttemptKeyCL):
            raise InvalidAttemptKeyCLError(
                f"invalid CL {cl!r}: must be an AttemptKeyCL, not {type(cl).__name__}"
            )
    items.sort(key=lambda cl: (cl.host, cl.change))
    for a, b in zip(items, items[1:], strict=False):
        if (a.host, a.change) == (b.host, b.change):
            raise InvalidAttemptKeyCLError(f'duplicate CL "{a.host}/{a.change}" in attempt key CLs')
    fields = [f for cl in items for f in cl._digest_fields()]
    return hashlib.sha256(b"\0".join(fields)).hexdigest()[:16]


def _validate_gerrit_host(host: str) -> None:
    if not isinstance(host, str) or not host:
        raise InvalidCLExternalIDError(f"invalid Gerrit host {host!r}: must be a non-empty str")
    if "/" in host:
        raise InvalidCLExternalIDError(f'invalid Gerrit host "{host}": must not contain "/"')


def _validate_change(change: int) -> None:
    if not _is_int(change) or not 0 < change <= _MAX_INT64:
        raise InvalidCLExternalIDError(
            f"invalid Gerrit change {change!r}: must be a positive int64"
        )


def gerrit_cl_external_id(host: str, change: int) -> str:
    """Returns `gerrit/<host>/<change>`."""
    _validate_gerrit_host(host)
    _validate_change(change)
    return f"gerrit/{host}/{change}"


def parse_gerrit_cl_external_id(s: str) -> tuple[str, int]:
    """Parses `gerrit/<host>/<change>` into (host, change)."""
    if not isinstance(s, str):
        raise InvalidCLExternalIDError(
            f"invalid CL external ID {s!r}: must be a str, not {type(s).__name__}"
        )
    parts = s.split("/")
    if len(parts) != 3 or parts[0] != "gerrit":
        raise InvalidCLExternalIDError(
            f'invalid CL external ID "{s}": expected "gerrit/<host>/<change>"'
        )
    _, host, change = parts
    if not host:
        raise InvalidCLExternalIDError(f'invalid CL external ID "{s}": host must not be empty')
    # Canonical decimal only, so each CL has exactly one external ID string.
    if (
        not _POSITIVE_DECIMAL_RE.fullmatch(change)
        or len(change) > 19  # also keeps int() away from its digit-count limit
        or int(change) > _MAX_INT64
    ):
        raise InvalidCLExternalIDError(
            f'invalid CL external ID "{s}": change "{change}" must be a positive decimal int64 '
            "without leading zeros"
        )
    return host, int(change)


def gerrit_cl_url(host: str, change: int) -> str:
    """Returns `https://<host>/<change>`."""
    _validate_gerrit_host(host)
    _validate_change(change)
    return f"https://{host}/{change}"
