"""Every shape an operator pastes, and what it is recognised as."""

import pytest

from runs.identifiers import (
    MAX_INPUT_LENGTH,
    BuilderIdentifier,
    BuildIdentifier,
    CLIdentifier,
    NumberIdentifier,
    RunIdentifier,
    TextIdentifier,
    UnsearchableInput,
    parse,
)

RUN_ID = "chromium/8826510802854-1-f6d25f880c52c34c"
CR = "chromium-review.googlesource.com"
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
        (f"https://{CR}/c/chromium/src/+/123456", CLIdentifier(CR, 123456)),
        (f"https://{CR}/c/chromium/src/+/123456/7", CLIdentifier(CR, 123456, 7)),
        (
            f"https://{CR}/c/chromium/src/+/123456/7/base/files/file.cc",
            CLIdentifier(CR, 123456, 7),
        ),
        (f"https://{CR}/c/infra/luci/luci-go/+/123456/", CLIdentifier(CR, 123456)),
        (f"https://{CR}/123456", CLIdentifier(CR, 123456)),
        (f"{CR}/123456", CLIdentifier(CR, 123456)),
        (f"https://{CR}/c/123456", CLIdentifier(CR, 123456)),
        ("crrev.com/c/123456", CLIdentifier(CR, 123456)),
        ("https://crrev.com/c/123456", CLIdentifier(CR, 123456)),
        ("https://crrev.com/c/123456/3", CLIdentifier(CR, 123456, 3)),
        ("https://review.example.org/c/p/+/5/1", CLIdentifier("review.example.org", 5, 1)),
        ("123456", NumberIdentifier(123456)),
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


def test_a_build_named_without_host_is_on_the_default_host():
    assert parse("https://ci.chromium.org/b/42").external_id == f"buildbucket/{BB}/42"


@pytest.mark.parametrize(
    "text, says",
    [
        ("run\x00id", "NUL"),
        ("a" * (MAX_INPUT_LENGTH + 1), "characters long"),
        ("   ", "Nothing to search for"),
        ("https://ci.chromium.org/ui/p/chromium/builders/try/linux-rel/12345", "by ID"),
        ("https://ci.chromium.org/p/chromium", "ci.chromium.org/b/"),
        (f"https://{CR}/c/chromium/src/+/", "names no change"),
        (f"https://{CR}/c/chromium/src/+/abc", "not a change number"),
        (f"https://{CR}/c/chromium/src/+/99999999999999999999", "not a change number"),
        ("https://crrev.com/123", "crrev.com/c/"),
        ("https://example.com/c/project/+/x", "not a change number"),
        ("https://[::1/123", "not a well-formed URL"),
        ("ftp://chromium-review.googlesource.com/1", "not a URL"),
        (f"buildbucket/{BB}", "not a tryjob external ID"),
        (f"buildbucket/{BB}/-1", "not a build ID"),
        (f"https://{BB}/builds/1", "…/build/<build id>"),
    ],
)
def test_refusals_say_why(text, says):
    with pytest.raises(UnsearchableInput, match=says):
        parse(text)
