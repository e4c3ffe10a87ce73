"""Parsing and validation of the Gerrit settings that come from the environment.

cvsite/settings.py calls these at startup so a misconfiguration stops the process with a clear
message. Messages name the variable and the offending host, never a credential.
"""

import json
import re
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

DEFAULT_TIMEOUT_SECONDS = 30.0

# A Gerrit host name, optionally with a port; never a path, user info or scheme.
HOST_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?$")


def is_valid_host(host: str) -> bool:
    return bool(HOST_RE.match(host))


def _json_object(name: str, raw: str) -> dict:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as e:
        # The decoder's position only; the text may hold a password.
        raise ImproperlyConfigured(
            f"{name} is not valid JSON (line {e.lineno}, column {e.colno})"
        ) from None
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object mapping a Gerrit host to a value")
    for host in value:
        if not is_valid_host(host):
            raise ImproperlyConfigured(f"{name}: {host!r} is not a Gerrit host name")
    return value


def parse_auth(raw: str) -> dict[str, str]:
    """GERRIT_AUTH: a JSON object mapping host to "login:password"; "" means none."""
    if not raw.strip():
        return {}
    value = _json_object("GERRIT_AUTH", raw)
    for host, pair in value.items():
        if not isinstance(pair, str) or ":" not in pair or not pair.split(":", 1)[0]:
            raise ImproperlyConfigured(
                f'GERRIT_AUTH: the value for {host!r} must be a string "login:password"'
            )
    return value


def parse_url_overrides(raw: str) -> dict[str, str]:
    """GERRIT_URL_OVERRIDES: a JSON object mapping host to the base URL to use for it."""
    if not raw.strip():
        return {}
    value = _json_object("GERRIT_URL_OVERRIDES", raw)
    return {
        host: validate_base_url(f"GERRIT_URL_OVERRIDES[{host!r}]", url)
        for host, url in value.items()
    }


def validate_base_url(name: str, url: object) -> str:
    """An http(s) URL with a host, no user info, query or fragment; returned without a final /."""
    if not isinstance(url, str):
        raise ImproperlyConfigured(f"{name} must be a string URL")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImproperlyConfigured(f"{name} must be an http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise ImproperlyConfigured(f"{name} must not carry credentials; use GERRIT_AUTH")
    if parts.query or parts.fragment:
        raise ImproperlyConfigured(f"{name} must not have a query or fragment")
    return url.rstrip("/")


def parse_timeout(raw: str) -> float:
    """GERRIT_TIMEOUT_SECONDS: a positive number; "" means the default."""
    if not raw.strip():
        return DEFAULT_TIMEOUT_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"GERRIT_TIMEOUT_SECONDS={raw!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise ImproperlyConfigured(f"GERRIT_TIMEOUT_SECONDS={raw!r} must be a positive number")
    return value
