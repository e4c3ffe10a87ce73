"""Which credentials cvsite uses for a Gerrit host, and a holder that keeps them out of sight.

Order, first match wins:
  1. settings.GERRIT_AUTH[host] ("login:password", from the environment);
  2. the `machine <host>` (or `default`) entry of the netrc file settings.GERRIT_NETRC_FILE;
  3. a stored token: the legacy netrc token a CQDaemon reported for the host via
     ReportUsedNetrc, a .netrc "login:password" pair, for the LUCI project the call is made
     for (one project never uses another's), found by the lookup the app that stores those
     tokens plugs in with `use_stored_tokens` (this package knows nothing of where they live);
  4. none: anonymous access.
All three kinds authenticate as HTTP Basic with base64 of "login:password".
"""

import base64
import logging
import netrc
from collections.abc import Callable
from enum import StrEnum

from django.conf import settings

from cvproto.codes import Code
from gerrit.errors import GerritError

logger = logging.getLogger(__name__)


class UnreadableToken(Exception):
    """A stored token exists but cannot be decrypted (its key is no longer configured)."""


# (host, LUCI project or None) -> the stored "login:password", "" or None when there is none;
# raises UnreadableToken.
StoredTokenLookup = Callable[[str, str | None], str | None]
_stored_token_lookup: StoredTokenLookup | None = None


def use_stored_tokens(lookup: StoredTokenLookup | None) -> None:
    """Plugs in where stored tokens come from (called once, from an app's `ready()`)."""
    global _stored_token_lookup
    _stored_token_lookup = lookup


class CredentialSource(StrEnum):
    SETTINGS = "GERRIT_AUTH"
    NETRC_FILE = "GERRIT_NETRC_FILE"
    NETRC_TOKEN = "netrc token"


class Credentials:
    """HTTP Basic credentials for one Gerrit host; repr/str never show the secret."""

    __slots__ = ("source", "_pair")

    def __init__(self, source: CredentialSource, pair: str) -> None:
        self.source = source
        self._pair = pair

    def authorization_header(self) -> str:
        return "Basic " + base64.b64encode(self._pair.encode()).decode("ascii")

    def secrets(self) -> tuple[str, ...]:
        """Every form of the secret that could leak into text, longest first, for redaction."""
        forms = {self._pair, self.authorization_header(), self.authorization_header()[6:]}
        _, sep, password = self._pair.partition(":")
        if sep and len(password) >= 4:
            forms.add(password)
        return tuple(sorted((f for f in forms if f), key=len, reverse=True))

    def __repr__(self) -> str:
        return f"<Credentials from {self.source}>"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("Gerrit credentials are not picklable")


def resolve_credentials(host: str, project: str | None = None) -> Credentials | None:
    """Credentials for `host` by the order above, or None for anonymous access. `project` is
    the LUCI project the calls are made for (None: no project's stored token applies).

    Raises GerritError(INTERNAL) when a configured source exists but cannot be used (unreadable
    netrc file, token encrypted with a key no longer configured).
    """
    configured = (getattr(settings, "GERRIT_AUTH", None) or {}).get(host)
    if configured:
        return Credentials(CredentialSource.SETTINGS, configured)
    from_file = _from_netrc_file(host)
    if from_file is not None:
        return from_file
    return _from_stored_token(host, project)


def _from_netrc_file(host: str) -> Credentials | None:
    path = getattr(settings, "GERRIT_NETRC_FILE", None)
    if not path:
        return None
    # Errors are raised outside the except blocks: the parser's exception may quote a token
    # from the file, and must not travel along as __context__.
    problem = None
    try:
        entry = netrc.netrc(path).authenticators(host)
    except OSError as e:
        problem = f"GERRIT_NETRC_FILE cannot be read: {e.strerror}"
    except netrc.NetrcParseError as e:
        problem = f"GERRIT_NETRC_FILE is malformed near line {e.lineno}"
    if problem is not None:
        raise GerritError(Code.INTERNAL, problem, host=host)
    if entry is None:
        return None
    login, _account, password = entry
    if not login or not password:
        return None
    return Credentials(CredentialSource.NETRC_FILE, f"{login}:{password}")


def _from_stored_token(host: str, project: str | None) -> Credentials | None:
    if _stored_token_lookup is None:
        return None
    # Raised outside the except block, like the netrc file's errors: nothing of the stored
    # token travels along as __context__.
    problem = None
    try:
        token = _stored_token_lookup(host, project)
    except UnreadableToken:
        token = None
        problem = f"the netrc token stored for {host} cannot be decrypted with NETRC_TOKEN_KEYS"
    if problem is not None:
        raise GerritError(Code.INTERNAL, problem, host=host)
    if not token:
        return None
    return Credentials(CredentialSource.NETRC_TOKEN, token)
