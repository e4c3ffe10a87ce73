"""A CL named the way operators paste it: a Gerrit URL in any of its forms, or a change number.

Stand-in until the operator UI's shared identifier parser (runs/identifiers.py) lands: the
runs filter then calls that one, so the API and the search box accept exactly the same forms.
"""

import re
from typing import NamedTuple

# crrev.com/c/<n> is Chromium's short link to a change on its Gerrit host.
CRREV_HOST = "crrev.com"
CRREV_GERRIT_HOST = "chromium-review.googlesource.com"
MAX_CHANGE = 2**63 - 1

MAX_LENGTH = 2000  # longer text is no CL, and is not worth a regular expression's time
_CHANGE = r"(?P<change>[1-9][0-9]*)"
_CHANGE_NUMBER = re.compile(_CHANGE)
_GERRIT_URL = re.compile(
    r"(?:https?://)?(?P<host>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+)"
    # /c/<project>/+/<n>, /c/<n> or /<n>; then maybe a patchset, a file path, a query, a fragment.
    rf"/(?P<gerrit_path>c/(?:[^+?#]+/\+/)?)?{_CHANGE}(?:/[^?#]*)?(?:[?#].*)?",
    re.IGNORECASE | re.ASCII,
)


class ChangeRef(NamedTuple):
    """A Gerrit change; `host` is None for a bare change number (any host)."""

    host: str | None
    change: int


def parse_cl_reference(text: str) -> ChangeRef:
    """The change `text` names; raises ValueError saying which forms are accepted."""
    text = text.strip()
    if _CHANGE_NUMBER.fullmatch(text):
        return ChangeRef(None, _change_number(text))
    match = _GERRIT_URL.fullmatch(text) if len(text) <= MAX_LENGTH else None
    if match is None:
        raise ValueError(
            "not a CL: expected a change number, a Gerrit change URL "
            "(https://<host>/c/<project>/+/<change>[/<patchset>], https://<host>/<change>, "
            "<host>/<change>) or crrev.com/c/<change>"
        )
    host = match["host"].lower()
    if host == CRREV_HOST:
        if not match["gerrit_path"]:
            raise ValueError("crrev.com/<n> is a commit position, not a CL: use crrev.com/c/<n>")
        host = CRREV_GERRIT_HOST
    return ChangeRef(host, _change_number(match["change"]))


def _change_number(digits: str) -> int:
    change = int(digits)
    if change > MAX_CHANGE:
        raise ValueError(f"change number {digits} is too large")
    return change
