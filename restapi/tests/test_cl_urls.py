"""The CL forms the runs' `cl` filter accepts: one table (the operator UI's search takes the
same forms; both move to runs/identifiers.py when it lands)."""

import pytest

from restapi.cl_urls import ChangeRef, parse_cl_reference

HOST = "chromium-review.googlesource.com"

ACCEPTED = [
    ("123456", ChangeRef(None, 123456)),
    (" 123456 ", ChangeRef(None, 123456)),
    (f"https://{HOST}/c/chromium/src/+/123456", ChangeRef(HOST, 123456)),
    (f"https://{HOST}/c/chromium/src/+/123456/7", ChangeRef(HOST, 123456)),
    (f"https://{HOST}/c/chromium/src/+/123456/7/base/file.cc", ChangeRef(HOST, 123456)),
    (f"https://{HOST}/c/infra/luci/luci-go/+/123456", ChangeRef(HOST, 123456)),
    (f"https://{HOST}/c/123456", ChangeRef(HOST, 123456)),
    (f"https://{HOST}/123456", ChangeRef(HOST, 123456)),
    (f"http://{HOST}/123456/", ChangeRef(HOST, 123456)),
    (f"{HOST}/123456", ChangeRef(HOST, 123456)),
    (f"https://{HOST.upper()}/123456", ChangeRef(HOST, 123456)),
    (f"https://{HOST}/c/chromium/src/+/123456?tab=checks", ChangeRef(HOST, 123456)),
    ("crrev.com/c/123456", ChangeRef(HOST, 123456)),
    ("https://crrev.com/c/123456", ChangeRef(HOST, 123456)),
]

REFUSED = [
    "",
    "0",
    "0123",
    "-5",
    "abc",
    "crrev.com/123456",  # a commit position
    f"https://{HOST}/c/chromium/src/+/",
    f"https://{HOST}/q/owner:me",
    "https://ci.chromium.org/b/8912345678901234567",
    "chromium/8826510802854-1-f6d25f880c52c34c",
    "9" * 30,
    "1\x002",
    "١٢٣",  # not ASCII digits
    f"https://{HOST}/c/" + "a/" * 5000 + "+/1",
]


@pytest.mark.parametrize("text, expected", ACCEPTED)
def test_accepted_forms(text, expected):
    assert parse_cl_reference(text) == expected


@pytest.mark.parametrize("text", REFUSED)
def test_refused_forms(text):
    with pytest.raises(ValueError):
        parse_cl_reference(text)
