"""Every shape an operator pastes, and what it is recognised as (the CL forms: in
runs/tests/identifier_cases.py)."""

import pytest

from runs.identifiers import (
    MAX_INPUT_LENGTH,
    BuilderIdentifier,
    BuildIdentifier,
    NumberIdentifier,
    RunIdentifier,
    TextIdentifier,
    UnsearchableInput,
    parse,
)
from runs.tests.identifier_cases import CL_CASES, Refused, case_id

RUN_ID = "chromium/8826510802854-1-f6d25f880c52c34c"
BB = "cr-buildbucket.appspot.com"


@pytest.mark.parametrize(
    "text, expected",
    [
        (RUN_ID, RunIdentifier(RUN_ID, "f6d25f880c52c34c")),
        (f"  {RUN_ID}\n", RunIdentifier(RUN_ID, "f6d25f880c52c34c")),
        (
            "8826510802854-1-f6d25f880c52c34c",
            RunIdentifier("", "f6d25f880c52c34c", "8826510802854-1-f6d25f880c52c34c"),
        ),
        ("f6d25f880c52c34c", RunIdentifier("", "f6d25f880c52c34c")),
        ("8912345678901234567", NumberIdentifier(8912345678901234567)),
        (f"buildbucket/{BB}/8912345678901234567", BuildIdentifier(BB, 8912345678901234567)),
        ("https://ci.chromium.org/b/8912345678901234567", BuildIdentifier("", 8912345678901234567)),
        (
            "https://ci.chromium.org/ui/b/8912345678901234567",
            BuildIdentifier("", 8912345678901234567),
        ),
        (f"https://{BB}/build/8912345678901234567", BuildIdentifier(BB, 8912345678901234567)),
        ("chromium/try/linux-rel", BuilderIdentifier("chromium", "try", "linux-rel")),
        (
            "chromium/luci.chromium.try/linux-rel",
            BuilderIdentifier("chromium", "luci.chromium.try", "linux-rel"),
        ),
        ("chromium/88", TextIdentifier("chromium/88")),
        (
            "Chromium/8826510802854-1-f6d25f880c52c34",
            TextIdentifier("Chromium/8826510802854-1-f6d25f880c52c34"),
        ),
        ("hello world", TextIdentifier("hello world")),
    ],
)
def test_shapes(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize("text, expected", CL_CASES, ids=map(case_id, CL_CASES))
def test_cl_forms(text, expected):
    """The table the search box and the REST API's `cl` filter are also tested with."""
    if isinstance(expected, Refused):
        with pytest.raises(UnsearchableInput, match=expected.says):
            parse(text)
    else:
        assert parse(text) == expected


def test_a_build_named_without_host_is_on_the_default_host():
    assert parse("https://ci.chromium.org/b/42").external_id == f"buildbucket/{BB}/42"


@pytest.mark.parametrize(
    "text, says",
    [
        ("a" * (MAX_INPUT_LENGTH + 1), "characters long"),
        ("https://ci.chromium.org/ui/p/chromium/builders/try/linux-rel/12345", "by ID"),
        ("https://ci.chromium.org/p/chromium", "ci.chromium.org/b/"),
        ("https://example.com/c/project/+/x", "not a change number"),
        (f"buildbucket/{BB}", "not a tryjob external ID"),
        (f"buildbucket/{BB}/-1", "not a build ID"),
        (f"https://{BB}/builds/1", "…/build/<build id>"),
    ],
)
def test_refusals_say_why(text, says):
    with pytest.raises(UnsearchableInput, match=says):
        parse(text)
