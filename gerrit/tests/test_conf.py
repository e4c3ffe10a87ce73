"""Parsing of the Gerrit environment variables (cvsite/settings.py calls these at startup)."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from gerrit import conf


def test_auth():
    assert conf.parse_auth("") == {}
    assert conf.parse_auth("  ") == {}
    raw = '{"chromium-review.googlesource.com": "bot:pa:ss", "localhost:8080": "u:p"}'
    assert conf.parse_auth(raw) == {
        "chromium-review.googlesource.com": "bot:pa:ss",
        "localhost:8080": "u:p",
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('{"h.example.com": "Nn4noColonSecret"}', 'must be a string "login:password"'),
        ('{"h.example.com": ":Nn4noLoginSecret"}', 'must be a string "login:password"'),
        ('{"h.example.com": ["Nn4listSecret"]}', 'must be a string "login:password"'),
        ('{"https://h.example.com": "a:Nn4badHostSecret"}', "is not a Gerrit host name"),
        ('["a:Nn4arraySecret"]', "must be a JSON object"),
        ('{"h.example.com": "a:Nn4truncatedSecret"', r"is not valid JSON \(line 1, column"),
    ],
)
def test_auth_errors_never_quote_the_value(raw, message):
    with pytest.raises(ImproperlyConfigured, match=message) as e:
        conf.parse_auth(raw)
    assert "Nn4" not in str(e.value)
    assert e.value.__context__ is None or e.value.__suppress_context__


def test_url_overrides():
    raw = '{"h.example.com": "http://127.0.0.1:8081/", "g.example.com": "https://proxy/gerrit"}'
    assert conf.parse_url_overrides(raw) == {
        "h.example.com": "http://127.0.0.1:8081",
        "g.example.com": "https://proxy/gerrit",
    }
    assert conf.parse_url_overrides("") == {}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://h", "http:// or https://"),
        ("h.example.com", "http:// or https://"),
        ("https://user:pw@h.example.com", "must not carry credentials"),
        ("https://h.example.com/?x=1", "query or fragment"),
        (8080, "must be a string"),
    ],
)
def test_url_override_errors(url, message):
    import json

    with pytest.raises(ImproperlyConfigured, match=message):
        conf.parse_url_overrides(json.dumps({"h.example.com": url}))


def test_timeout():
    assert conf.parse_timeout("") == conf.DEFAULT_TIMEOUT_SECONDS == 30.0
    assert conf.parse_timeout("2.5") == 2.5
    for bad in ("0", "-1", "soon", "inf", "nan"):
        with pytest.raises(ImproperlyConfigured, match="GERRIT_TIMEOUT_SECONDS"):
            conf.parse_timeout(bad)


def test_settings_have_the_parsed_defaults(settings):
    # The test environment configures nothing.
    assert isinstance(settings.GERRIT_AUTH, dict)
    assert settings.GERRIT_TIMEOUT_SECONDS > 0
    assert isinstance(settings.GERRIT_URL_OVERRIDES, dict)
