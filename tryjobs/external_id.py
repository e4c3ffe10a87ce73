"""Tryjob external IDs and derived keys (reuse key, CL patchset).

Pure helpers. Spec: tryjob_semantics.md §1.4 (ExternalID) and §1.5 (derived keys).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "BUILDBUCKET_KIND",
    "CL_PATCHSET_VERSION",
    "ExternalIDError",
    "InvalidCLPatchsetError",
    "InvalidExternalIDError",
    "InvalidReuseKeyInputError",
    "buildbucket_external_id",
    "cl_patchset",
    "external_id_kind",
    "external_id_url",
    "parse_buildbucket_external_id",
    "parse_cl_patchset",
    "reuse_key",
]

BUILDBUCKET_KIND = "buildbucket"
CL_PATCHSET_VERSION = 1

_MIN_INT64 = -(2**63)
_MAX_INT64 = 2**63 - 1
_MAX_INT32 = 2**31 - 1

# Mirrors what Go's strconv.ParseInt(s, 10, 64) accepts (range checked separately);
# Python's int() would also take spaces, "_" and non-ASCII digits.
_SIGNED_DECIMAL_RE = re.compile(r"[+-]?[0-9]+")
# Unsigned hex only: negative CLIDs/patchsets are never produced.
_HEX_RE = re.compile(r"[0-9a-fA-F]+")


class ExternalIDError(ValueError):
    """Base class for all errors raised by this module."""


class InvalidExternalIDError(ExternalIDError):
    """An external ID (or its host/build ID) is malformed or of an unknown kind."""


class InvalidReuseKeyInputError(ExternalIDError):
    """A (CLID, min equivalent patchset) pair is malformed."""


class InvalidCLPatchsetError(ExternalIDError):
    """A CL patchset string (or its CLID/patchset) is malformed."""


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _parse_int64(s: str) -> int | None:
    """Like Go's strconv.ParseInt(s, 10, 64); None if invalid or out of range."""
    if not _SIGNED_DECIMAL_RE.fullmatch(s):
        return None
    negative = s[0] == "-"
    # Strip zeros first: int() refuses strings over 4300 digits.
    digits = s.lstrip("+-").lstrip("0") or "0"
    if len(digits) > 19:
        return None
    v = -int(digits) if negative else int(digits)
    return v if _MIN_INT64 <= v <= _MAX_INT64 else None


def buildbucket_external_id(host: str, build_id: int) -> str:
    """Returns `buildbucket/<host>/<build_id>`."""
    if not isinstance(host, str) or not host:
        raise InvalidExternalIDError(f"invalid host {host!r}: must be a non-empty str")
    if "/" in host:
        raise InvalidExternalIDError(f'invalid host "{host}": must not contain /')
    if not _is_int(build_id) or not _MIN_INT64 <= build_id <= _MAX_INT64:
        raise InvalidExternalIDError(f"invalid build ID {build_id!r}: must be an int64")
    return f"{BUILDBUCKET_KIND}/{host}/{build_id}"


def parse_buildbucket_external_id(eid: str) -> tuple[str, int]:
    """Parses `buildbucket/<host>/<build_id>` into (host, build_id)."""

    def bad(what: str) -> InvalidExternalIDError:
        return InvalidExternalIDError(f'"{eid}" is not a valid BuildbucketID: {what}')

    if not isinstance(eid, str):
        raise bad(f"must be a str, not {type(eid).__name__}")
    parts = eid.split("/")
    if len(parts) != 3:
        raise bad(f'expected 3 "/"-separated parts, got {len(parts)}')
    kind, host, build = parts
    if kind != BUILDBUCKET_KIND:
        raise bad(f'kind "{kind}" is not "{BUILDBUCKET_KIND}"')
    if not host:
        raise bad("host must not be empty")
    build_id = _parse_int64(build)
    if build_id is None:
        raise bad(f'build ID "{build}" is not a base-10 int64')
    return host, build_id


def external_id_kind(eid: str) -> str:
    """Returns the text before the first '/', e.g. "buildbucket"."""
    if not isinstance(eid, str):
        raise InvalidExternalIDError(f"invalid ExternalID: {eid!r} is not a str")
    idx = eid.find("/")
    if idx <= 0:
        raise InvalidExternalIDError(f'invalid ExternalID: "{eid}"')
    return eid[:idx]


def external_id_url(eid: str) -> str:
    """Returns the web URL of the tryjob, e.g. `https://<host>/build/<id>`."""
    kind = external_id_kind(eid)
    if kind != BUILDBUCKET_KIND:
        raise InvalidExternalIDError(f'unrecognized ExternalID: "{eid}" has unknown kind "{kind}"')
    host, build_id = parse_buildbucket_external_id(eid)
    return f"https://{host}/build/{build_id}"


def reuse_key(
    cls: Iterable[tuple[int, int]],
    metadata: Mapping[int, Sequence[tuple[str, str]]] | None = None,
    footer_keys: Iterable[str] = (),
) -> str:
    """Returns the reuse key of a Run's CLs given as (CLID, min equivalent patchset) pairs.

    With `footer_keys` (a definition's `disable_reuse_footers`, cv_config.md §8.11), each
    CL's metadata pairs (`metadata[clid]`, commit-message footers) with one of those keys are
    part of the key, sorted by key then value, as `<clid>/<ps>/<key>:<value>/...`: a run
    whose CLs add, drop or change such a footer gets another key, so reuses nothing earlier.
    Without such footers on any CL the key is the plain one.
    """
    keys = frozenset(footer_keys)
    items = list(cls)
    if not items:
        raise InvalidReuseKeyInputError("invalid CLs []: need at least one CL")
    encoded = []
    for item in items:
        if not isinstance(item, tuple) or len(item) != 2:
            raise InvalidReuseKeyInputError(
                f"invalid CL {item!r}: must be a (clid, min_equivalent_patchset) tuple"
            )
        clid, ps = item
        if not _is_int(clid) or not 0 <= clid <= _MAX_INT64:
            raise InvalidReuseKeyInputError(
                f"invalid CL {item!r}: clid must be a non-negative int64"
            )
        if not _is_int(ps) or not 0 <= ps <= _MAX_INT32:
            raise InvalidReuseKeyInputError(
                f"invalid CL {item!r}: min_equivalent_patchset must be a non-negative int32"
            )
        parts = [b"%d/%d" % (clid, ps)]
        if keys and metadata:
            chosen = sorted(
                (k.encode(), v.encode()) for k, v in metadata.get(clid, ()) if k in keys
            )
            parts += [k + b":" + v for k, v in chosen]
        encoded.append(b"/".join(parts))
    # Byte-wise (not numeric) sort, as upstream does.
    digest = hashlib.sha256(b"\0".join(sorted(encoded))).digest()
    return base64.b64encode(digest).decode("ascii")


def cl_patchset(clid: int, patchset: int) -> str:
    """Returns `01/<16 hex clid>/<8 hex patchset>`; sorts by CL, then patchset."""
    if not _is_int(clid) or not 0 <= clid <= _MAX_INT64:
        raise InvalidCLPatchsetError(f"invalid clid {clid!r}: must be a non-negative int64")
    if not _is_int(patchset) or not 0 <= patchset <= _MAX_INT32:
        raise InvalidCLPatchsetError(f"invalid patchset {patchset!r}: must be a non-negative int32")
    return f"{CL_PATCHSET_VERSION:02x}/{clid:016x}/{patchset:08x}"


def parse_cl_patchset(s: str) -> tuple[int, int]:
    """Parses a `cl_patchset` string into (clid, patchset)."""

    def bad(what: str) -> InvalidCLPatchsetError:
        return InvalidCLPatchsetError(f'invalid CLPatchset "{s}": {what}')

    if not isinstance(s, str):
        raise InvalidCLPatchsetError(f"invalid CLPatchset {s!r}: must be a str")
    parts = s.split("/")
    if len(parts) != 3:
        raise bad(
            f'CLPatchset in unexpected format: expected 3 "/"-separated parts, got {len(parts)}'
        )
    version, clid, patchset = parts
    if not _HEX_RE.fullmatch(version) or int(version, 16) > _MAX_INT64:
        raise bad(f'version segment in unexpected format: "{version}" is not hex')
    if int(version, 16) != CL_PATCHSET_VERSION:
        raise bad(f"unsupported version {int(version, 16)}")
    if not _HEX_RE.fullmatch(clid) or int(clid, 16) > _MAX_INT64:
        raise bad(f'clid segment in unexpected format: "{clid}" is not a hex int64')
    if not _HEX_RE.fullmatch(patchset) or int(patchset, 16) > _MAX_INT32:
        raise bad(f'patchset segment in unexpected format: "{patchset}" is not a hex int32')
    return int(clid, 16), int(patchset, 16)
