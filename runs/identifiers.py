"""What an operator pastes into a search box, recognised by its shape.

Pure: no ORM. `parse` turns text into one identifier (a run, a CL, a build, a builder, or
unrecognised text); callers (the admin's search, the REST API) look it up with exact,
index-backed matches. Input that cannot be looked up raises `UnsearchableInput` with a message
for the person who typed it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from runs.ids import IDError, RunID

__all__ = [
    "MAX_INPUT_LENGTH",
    "BuildIdentifier",
    "BuilderIdentifier",
    "CLIdentifier",
    "Identifier",
    "NumberIdentifier",
    "RunIdentifier",
    "TextIdentifier",
    "UnsearchableInput",
    "parse",
]

MAX_INPUT_LENGTH = 1024
# crrev.com/c/N is a Chromium change; CV's CL IDs name the review host.
CRREV_GERRIT_HOST = "chromium-review.googlesource.com"
DEFAULT_BUILDBUCKET_HOST = "cr-buildbucket.appspot.com"
MAX_INT64 = 2**63 - 1

_NUMBER_RE = re.compile(r"[1-9][0-9]{0,18}")
_ATTEMPT_KEY_RE = re.compile(r"[0-9a-f]{16}")
_RUN_ID_SUFFIX_RE = re.compile(r"[0-9]{13}-[0-9]+-([0-9a-f]{16})")
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_PROJECT_RE = re.compile(r"[a-z0-9][a-z0-9_-]*")


class UnsearchableInput(ValueError):
    """The input cannot be searched for; the message says why, for the person who typed it."""


@dataclass(frozen=True)
class RunIdentifier:
    """A whole run ID, a run ID without its project (`run_id` empty), or an attempt key."""

    run_id: str
    attempt_key: str
    suffix: str = ""  # the run ID after "<project>/", when the project was left out


@dataclass(frozen=True)
class CLIdentifier:
    """A Gerrit change on one host; `patchset` when the URL named one."""

    host: str
    change: int
    patchset: int | None = None


@dataclass(frozen=True)
class NumberIdentifier:
    """A bare number: a change number on any Gerrit host, or a Buildbucket build ID."""

    number: int


@dataclass(frozen=True)
class BuildIdentifier:
    """A Buildbucket build; `host` empty when the input did not name one (a ci.chromium.org
    URL names the build only)."""

    host: str
    build_id: int

    @property
    def external_id(self) -> str:
        return f"buildbucket/{self.host or DEFAULT_BUILDBUCKET_HOST}/{self.build_id}"


@dataclass(frozen=True)
class BuilderIdentifier:
    project: str
    bucket: str
    builder: str

    def __str__(self) -> str:
        return f"{self.project}/{self.bucket}/{self.builder}"


@dataclass(frozen=True)
class TextIdentifier:
    """No known shape: searched as a prefix of run IDs."""

    text: str


Identifier = (
    RunIdentifier
    | CLIdentifier
    | NumberIdentifier
    | BuildIdentifier
    | BuilderIdentifier
    | TextIdentifier
)


def parse(text: str) -> Identifier:
    """The identifier `text` (surrounding blanks ignored) has the shape of."""
    if "\x00" in text:
        raise UnsearchableInput("The search text holds a NUL character; no identifier does.")
    if len(text) > MAX_INPUT_LENGTH:
        raise UnsearchableInput(
            f"The search text is {len(text)} characters long; identifiers are at most "
            f"{MAX_INPUT_LENGTH}."
        )
    text = text.strip()
    if not text:
        raise UnsearchableInput("Nothing to search for.")
    if _NUMBER_RE.fullmatch(text) and int(text) <= MAX_INT64:
        return NumberIdentifier(int(text))
    if _ATTEMPT_KEY_RE.fullmatch(text):
        return RunIdentifier(run_id="", attempt_key=text)
    if match := _RUN_ID_SUFFIX_RE.fullmatch(text):
        return RunIdentifier(run_id="", attempt_key=match[1], suffix=text)
    if text.startswith("buildbucket/"):
        return _external_id(text)
    if "://" in text or _looks_like_host_path(text):
        return _url(text)
    if text.count("/") == 1:
        try:
            run_id = RunID.parse(text)
        except IDError:
            pass
        else:
            return RunIdentifier(run_id=str(run_id), attempt_key=run_id.attempt_key)
    if text.count("/") == 2:
        project, bucket, builder = text.split("/")
        if _PROJECT_RE.fullmatch(project) and _NAME_RE.fullmatch(bucket) and builder.strip():
            return BuilderIdentifier(project, bucket, builder)
    return TextIdentifier(text)


def _looks_like_host_path(text: str) -> bool:
    """`chromium-review.googlesource.com/123456` or `crrev.com/c/1`: a host, then a path."""
    host = text.split("/", 1)[0]
    return "." in host and "/" in text and " " not in text


def _number(text: str, what: str) -> int:
    if not _NUMBER_RE.fullmatch(text) or int(text) > MAX_INT64:
        raise UnsearchableInput(f"{text!r} is not a {what}.")
    return int(text)


def _external_id(text: str) -> BuildIdentifier:
    parts = text.split("/")
    if len(parts) != 3 or not parts[1]:
        raise UnsearchableInput(
            f"{text!r} is not a tryjob external ID (buildbucket/<host>/<build id>)."
        )
    return BuildIdentifier(parts[1], _number(parts[2], "build ID"))


def _url(text: str) -> CLIdentifier | BuildIdentifier:
    try:
        url = urlsplit(text if "://" in text else f"https://{text}")
        host = (url.hostname or "").lower()
    except ValueError as e:  # e.g. an unclosed IPv6 bracket
        raise UnsearchableInput(f"{text!r} is not a well-formed URL: {e}.") from None
    path = [p for p in url.path.split("/") if p]
    if url.scheme not in ("http", "https") or not host:
        raise UnsearchableInput(f"{text!r} is not a URL cvsite knows.")
    if host == "crrev.com":
        if len(path) >= 2 and path[0] == "c":
            return _gerrit_path(CRREV_GERRIT_HOST, path[1:], text)
        raise UnsearchableInput(f"{text!r}: only crrev.com/c/<change> links name a CL.")
    if host == "ci.chromium.org":
        return _milo(path, text)
    if host.endswith("buildbucket.appspot.com"):
        if len(path) == 2 and path[0] == "build":
            return BuildIdentifier(host, _number(path[1], "build ID"))
        raise UnsearchableInput(f"{text!r}: a Buildbucket URL is …/build/<build id>.")
    # Any other host is taken for a Gerrit host (not only *-review.googlesource.com).
    return _gerrit_path(host, path, text)


def _gerrit_path(host: str, path: list[str], text: str) -> CLIdentifier:
    """`<change>`, `c/<project…>/+/<change>[/<patchset>[/<file…>]]`, or `c/<change>`."""
    if "+" in path:
        after = path[path.index("+") + 1 :]
    elif path[:1] == ["c"]:
        after = path[1:]
    else:
        after = path
    if not after:
        raise UnsearchableInput(f"{text!r} names no change number.")
    change = _number(after[0], "change number")
    patchset = int(after[1]) if len(after) > 1 and _NUMBER_RE.fullmatch(after[1]) else None
    return CLIdentifier(host, change, patchset)


def _milo(path: list[str], text: str) -> BuildIdentifier:
    """ci.chromium.org/b/<id> and /ui/b/<id> name a build; a builder's build number does not
    (cvsite stores build IDs only)."""
    if path[:1] == ["ui"]:
        path = path[1:]
    if len(path) == 2 and path[0] == "b":
        return BuildIdentifier("", _number(path[1], "build ID"))
    if path[:1] == ["p"] and "builders" in path:
        raise UnsearchableInput(
            f"{text!r} names a build by its number; cvsite knows builds by ID. Open the build "
            "and paste its ci.chromium.org/b/<build id> link."
        )
    raise UnsearchableInput(f"{text!r}: a build URL is ci.chromium.org/b/<build id>.")
