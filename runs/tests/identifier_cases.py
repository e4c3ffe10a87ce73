"""The one table of CL forms: what `runs.identifiers.parse` makes of text an operator pastes.

The parser's test, the operator UI's search test (cvadmin/tests/test_search.py) and the REST
API's `cl` filter test (restapi/tests/test_runs.py) are all parametrized over `CL_CASES`, so the
search box and the API accept exactly the same CL forms: a CLIdentifier or a NumberIdentifier
names a CL; any other shape, or a refusal, does not.
"""

from dataclasses import dataclass

from runs.identifiers import (
    MAX_INPUT_LENGTH,
    BuilderIdentifier,
    BuildIdentifier,
    CLIdentifier,
    Identifier,
    NumberIdentifier,
    RunIdentifier,
    TextIdentifier,
)

CR = "chromium-review.googlesource.com"
RUN_ID = "chromium/8826510802854-1-f6d25f880c52c34c"


@dataclass(frozen=True)
class Refused:
    """`parse` raises UnsearchableInput, whose message contains `says`."""

    says: str


def names_a_cl(expected: Identifier | Refused) -> bool:
    return isinstance(expected, CLIdentifier | NumberIdentifier)


def host_and_change(expected: CLIdentifier | NumberIdentifier) -> tuple[str | None, int]:
    """The CL a CL form names; no host for a change number (a CL on any host)."""
    if isinstance(expected, NumberIdentifier):
        return None, expected.number
    return expected.host, expected.change


CL_CASES: list[tuple[str, Identifier | Refused]] = [
    # A change number, on whichever Gerrit host has it.
    ("123456", NumberIdentifier(123456)),
    (" 123456 ", NumberIdentifier(123456)),
    # Gerrit URLs, with or without scheme, project, patchset, file, query or fragment.
    (f"https://{CR}/c/chromium/src/+/123456", CLIdentifier(CR, 123456)),
    (f"https://{CR}/c/chromium/src/+/123456/7", CLIdentifier(CR, 123456, 7)),
    (f"https://{CR}/c/chromium/src/+/123456/7/base/file.cc", CLIdentifier(CR, 123456, 7)),
    (f"https://{CR}/c/infra/luci/luci-go/+/123456/", CLIdentifier(CR, 123456)),
    (f"https://{CR}/c/chromium/src/+/123456?tab=checks", CLIdentifier(CR, 123456)),
    (f"https://{CR}/c/chromium/src/+/123456#message-1", CLIdentifier(CR, 123456)),
    (f"{CR}/c/chromium/src/+/123456", CLIdentifier(CR, 123456)),
    (f"https://{CR}/c/123456", CLIdentifier(CR, 123456)),
    (f"https://{CR}/123456", CLIdentifier(CR, 123456)),
    (f"http://{CR}/123456/", CLIdentifier(CR, 123456)),
    (f"https://{CR.upper()}/123456", CLIdentifier(CR, 123456)),
    (f"{CR}/123456", CLIdentifier(CR, 123456)),
    ("https://review.example.org/c/p/+/5/1", CLIdentifier("review.example.org", 5, 1)),
    ("review.example.org/5", CLIdentifier("review.example.org", 5)),
    # crrev.com/c/<n> is a Chromium change.
    ("crrev.com/c/123456", CLIdentifier(CR, 123456)),
    ("https://crrev.com/c/123456", CLIdentifier(CR, 123456)),
    ("https://crrev.com/c/123456/3", CLIdentifier(CR, 123456, 3)),
    # Refused, saying why.
    ("crrev.com/123456", Refused("crrev.com/c/")),  # a commit position
    (f"https://{CR}/c/chromium/src/+/", Refused("names no change number")),
    (f"https://{CR}/c/chromium/src/+/abc", Refused("not a change number")),
    (f"https://{CR}/q/owner:me", Refused("not a change number")),
    (f"https://{CR}/c/chromium/src/+/99999999999999999999", Refused("not a change number")),
    (f"ftp://{CR}/1", Refused("not a URL")),
    ("https://[::1/123", Refused("not a well-formed URL")),
    ("1\x002", Refused("NUL")),
    (f"https://{CR}/c/" + "a/" * MAX_INPUT_LENGTH + "+/1", Refused("characters long")),
    ("   ", Refused("Nothing to search for")),
    # Other shapes: no CL.
    ("https://ci.chromium.org/b/8912345678901234567", BuildIdentifier("", 8912345678901234567)),
    (RUN_ID, RunIdentifier(RUN_ID, "f6d25f880c52c34c")),
    ("chromium/try/linux-rel", BuilderIdentifier("chromium", "try", "linux-rel")),
    ("0123", TextIdentifier("0123")),
    ("-5", TextIdentifier("-5")),
    ("100%", TextIdentifier("100%")),  # messages quoting it must not take "%" for a format
    ("https://%s/%d", Refused("not a change number")),
    ("9" * 30, TextIdentifier("9" * 30)),  # beyond int64
    ("١٢٣", TextIdentifier("١٢٣")),  # not ASCII digits
]

CL_FORMS = [(text, expected) for text, expected in CL_CASES if names_a_cl(expected)]
NOT_CL_FORMS = [(text, expected) for text, expected in CL_CASES if not names_a_cl(expected)]


def case_id(case: tuple[str, object]) -> str:
    """A short, printable test ID for a case."""
    return ascii(case[0])[:60]
