"""pRPC request and response headers: timeouts, metadata and the response-size limit.

Pure functions with no Django dependency, shared by the server and the client.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Iterable, Iterator, Mapping

TIMEOUT_HEADER = "X-Prpc-Grpc-Timeout"
CODE_HEADER = "X-Prpc-Grpc-Code"
STATUS_DETAILS_HEADER = "X-Prpc-Status-Details-Bin"
MAX_RESPONSE_SIZE_HEADER = "X-Prpc-Max-Response-Size"

# Headers that are part of the protocol, never metadata (in either direction).
_RESERVED_NAMES = frozenset(
    {
        "accept",
        "accept-encoding",
        "content-encoding",
        "content-length",
        "content-type",
        "x-content-type-options",
        "vary",
    }
)
_RESERVED_PREFIXES = ("x-prpc-", "access-control-")

_TIMEOUT_RE = re.compile(r"(\d+)([HMSmun])")
_TIMEOUT_UNIT_NANOS = {
    "H": 3600 * 10**9,
    "M": 60 * 10**9,
    "S": 10**9,
    "m": 10**6,
    "u": 10**3,
    "n": 1,
}
# Units from finest to coarsest, for encoding.
_ENCODING_UNITS = ("n", "u", "m", "S", "M", "H")
_MAX_TIMEOUT_DIGITS = 99_999_999
# Anything longer than this is "no practical deadline" (and avoids float overflow).
_MAX_TIMEOUT_NANOS = 10 * 365 * 24 * 3600 * 10**9

_HEADER_NAME_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_MAX_RESPONSE_SIZE_RE = re.compile(r"\d+")


class HeaderError(ValueError):
    """A request header the protocol defines has a value it does not allow."""


def is_reserved(name: str) -> bool:
    """Whether `name` is a protocol header that may not be used as metadata."""
    lowered = name.lower()
    return lowered in _RESERVED_NAMES or lowered.startswith(_RESERVED_PREFIXES)


def parse_timeout(value: str) -> float:
    """Seconds in an X-Prpc-Grpc-Timeout value: digits then one unit of H, M, S, m, u, n
    (hours, minutes, seconds, milliseconds, microseconds, nanoseconds). E.g. `1500m`."""
    match = _TIMEOUT_RE.fullmatch(value)
    if not match:
        if len(value) < 2:
            raise HeaderError(f"{TIMEOUT_HEADER} {value!r} is too short")
        if value[-1] not in _TIMEOUT_UNIT_NANOS:
            raise HeaderError(
                f"{TIMEOUT_HEADER} {value!r} has unknown unit {value[-1]!r} "
                "(expected one of H, M, S, m, u, n)"
            )
        raise HeaderError(f"{TIMEOUT_HEADER} {value!r}: {value[:-1]!r} is not a whole number")
    nanos = int(match.group(1)) * _TIMEOUT_UNIT_NANOS[match.group(2)]
    return min(nanos, _MAX_TIMEOUT_NANOS) / 1e9


def format_timeout(seconds: float) -> str:
    """An X-Prpc-Grpc-Timeout value for `seconds`: the finest unit whose count fits in eight
    digits, rounded up (so the server never sees a shorter deadline than the client's)."""
    nanos = max(1, math.ceil(seconds * 1e9))
    for unit in _ENCODING_UNITS:
        count = -(-nanos // _TIMEOUT_UNIT_NANOS[unit])
        if count <= _MAX_TIMEOUT_DIGITS:
            return f"{count}{unit}"
    return f"{_MAX_TIMEOUT_DIGITS}H"


def parse_max_response_size(value: str) -> int:
    """The byte count in X-Prpc-Max-Response-Size: a positive decimal integer, nothing else."""
    if not _MAX_RESPONSE_SIZE_RE.fullmatch(value) or int(value) <= 0 or int(value) >= 2**63:
        raise HeaderError(f"{MAX_RESPONSE_SIZE_HEADER} {value!r} is not a positive integer")
    return int(value)


def canonical_header_name(name: str) -> str:
    """`x-foo-bar` -> `X-Foo-Bar`."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


MetadataValue = str | bytes


class Metadata(Mapping[str, tuple[MetadataValue, ...]]):
    """Request metadata: lower-cased header names to their values, in order.

    Values of `-bin` keys are bytes (decoded from base64); the others are strings. Lookups
    are case-insensitive.
    """

    def __init__(self, items: Iterable[tuple[str, MetadataValue]] = ()) -> None:
        self._values: dict[str, list[MetadataValue]] = {}
        for key, value in items:
            self._values.setdefault(key.lower(), []).append(value)

    def __getitem__(self, key: str) -> tuple[MetadataValue, ...]:
        return tuple(self._values[key.lower()])

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._values

    def first(self, key: str, default: MetadataValue | None = None) -> MetadataValue | None:
        """The first value of `key`, or `default`."""
        values = self._values.get(key.lower())
        return values[0] if values else default

    def __repr__(self) -> str:
        return f"Metadata({self._values!r})"


def metadata_from_wsgi_environ(environ: Mapping[str, object]) -> Metadata:
    """The request's metadata: every non-reserved header, keys lower-cased.

    A WSGI server joins repeated headers with commas, so a key has one string value per
    request, except `-bin` keys whose comma-separated base64 chunks are decoded one by one.
    `Host` also appears as `:authority`. Raises HeaderError on invalid base64.
    """
    items: list[tuple[str, MetadataValue]] = []
    for meta_key, raw in environ.items():
        if not meta_key.startswith("HTTP_") or not isinstance(raw, str):
            continue
        key = meta_key[5:].replace("_", "-").lower()
        if is_reserved(key):
            continue
        if key.endswith("-bin"):
            for chunk in raw.split(","):
                items.append((key, decode_bin_value(key, chunk.strip())))
        else:
            items.append((key, raw))
            if key == "host":
                items.append((":authority", raw))
    return Metadata(items)


def decode_bin_value(key: str, value: str) -> bytes:
    """Decodes one standard-base64 (padded) value of a `-bin` header."""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise HeaderError(f"header {canonical_header_name(key)}: invalid base64 ({exc})") from None


def encode_metadata(key: str, values: Iterable[MetadataValue]) -> tuple[str, str]:
    """A header (canonical name, value) carrying metadata `key` with `values`.

    `-bin` values are base64-encoded; several values are joined with commas (the HTTP
    equivalent of repeating the header). Raises ValueError for a reserved or malformed key,
    or a value that cannot be a header value.
    """
    if not _HEADER_NAME_RE.fullmatch(key):
        raise ValueError(f"metadata key {key!r} is not a valid header name")
    if is_reserved(key):
        raise ValueError(f"metadata key {key!r} is reserved by the pRPC protocol")
    encoded: list[str] = []
    is_bin = key.lower().endswith("-bin")
    for value in values:
        if is_bin:
            raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
            encoded.append(base64.b64encode(raw).decode("ascii"))
        else:
            if isinstance(value, bytes):
                raise ValueError(f"metadata key {key!r} takes strings; use a -bin key for bytes")
            if any(char in value for char in "\r\n\0"):
                raise ValueError(f"metadata value for {key!r} contains a line break or NUL")
            encoded.append(value)
    return canonical_header_name(key), ",".join(encoded)
