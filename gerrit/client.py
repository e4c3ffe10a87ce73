"""Gerrit REST client: fetch a change, post a review message, submit.

    with client_for_host("chromium-review.googlesource.com") as gerrit:
        info = gerrit.get_change(123, project="chromium/src")
        gerrit.set_review(123, info.current_revision, "Dry run: passed", project="chromium/src",
                          notify="NONE")

Every failure is a GerritError carrying a gRPC code name and a `transient` flag, so a task
queue can decide whether to retry. The client itself never retries: a POST that timed out may
have been applied, and repeating it is the caller's decision (see gerrit.messages for the
de-duplication CV does before posting).

Credentials never appear in exception messages, log lines or reprs: requests carry them in an
Authorization header that only this module's auth hook sets, any text quoted from a response is
redacted, and transport exceptions are not chained (their request objects hold the headers).
"""

import json
import logging
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from prometheus_client import Counter, Histogram

from cvproto.codes import Code
from cvproto.gerrit import gerrit_pb2
from gerrit import convert
from gerrit.conf import DEFAULT_TIMEOUT_SECONDS, is_valid_host, validate_base_url
from gerrit.credentials import Credentials, resolve_credentials
from gerrit.errors import GerritError, code_for_http_status, is_transient_http_status
from gerrit.messages import CQ_TAG

logger = logging.getLogger(__name__)

# Gerrit starts every JSON response with this line so that a browser cannot run it as script.
JSON_PREFIX = b")]}'"

# What CV asks for when it snapshots a change (wire.md §5.3).
DEFAULT_CHANGE_OPTIONS: tuple[str, ...] = (
    "ALL_REVISIONS",
    "CURRENT_COMMIT",
    "DETAILED_LABELS",
    "DETAILED_ACCOUNTS",
    "MESSAGES",
    "SUBMITTABLE",
    "SKIP_MERGEABLE",
)
NOTIFY_VALUES = frozenset({"NONE", "OWNER", "OWNER_REVIEWERS", "ALL"})
RECIPIENT_TYPES = frozenset({"TO", "CC", "BCC"})

_MAX_QUOTED_BODY = 500
_STATUS_BY_NAME = {
    "NEW": gerrit_pb2.NEW,
    "MERGED": gerrit_pb2.MERGED,
    "ABANDONED": gerrit_pb2.ABANDONED,
}
_GENERIC_SECRET_RE = re.compile(r"\b(Basic|Bearer)\s+[A-Za-z0-9+/=._~-]+", re.IGNORECASE)
_REDACTED = "[REDACTED]"

CALLS = Counter(
    "gerrit_calls",
    "Calls to Gerrit by host, HTTP method and outcome (ok, http_4xx, http_5xx, timeout, "
    "unreachable, malformed)",
    ["host", "method", "outcome"],
)
LATENCY = Histogram(
    "gerrit_call_duration_seconds",
    "Time Gerrit took to answer",
    ["host", "method"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)


class _HeaderAuth(requests.auth.AuthBase):
    """Sets the Authorization header, or nothing for anonymous calls.

    Passing an auth object on every request also stops requests from picking credentials out
    of ~/.netrc on its own, which would make "anonymous" calls silently authenticated.
    """

    def __init__(self, credentials: Credentials | None) -> None:
        self._credentials = credentials

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.pop("Authorization", None)
        if self._credentials is not None:
            request.headers["Authorization"] = self._credentials.authorization_header()
        return request

    def __repr__(self) -> str:
        return f"<_HeaderAuth {self._credentials!r}>"


class GerritClient:
    """A client for one Gerrit host. Not thread-safe; use one per thread or task.

    Args:
      host: the Gerrit host, e.g. "chromium-review.googlesource.com" (no scheme, no path).
      credentials: HTTP Basic credentials, or None for anonymous access. Authenticated calls
        go to Gerrit's /a/ URL prefix.
      session: a requests.Session to reuse; by default the client opens (and closes) its own.
      timeout: seconds to wait for a connection and, separately, for each read.
      base_url: where to send requests instead of https://<host> (proxies, tests).
    """

    def __init__(
        self,
        host: str,
        *,
        credentials: Credentials | None = None,
        session: requests.Session | None = None,
        timeout: float | None = None,
        base_url: str | None = None,
    ) -> None:
        if not is_valid_host(host):
            raise ValueError(f"{host!r} is not a Gerrit host name")
        self.host = host
        try:
            self.base_url = validate_base_url("base_url", base_url or f"https://{host}")
        except ImproperlyConfigured as e:
            raise ValueError(str(e)) from None
        self.timeout = timeout if timeout is not None else DEFAULT_TIMEOUT_SECONDS
        self._credentials = credentials
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._auth = _HeaderAuth(credentials)

    @property
    def authenticated(self) -> bool:
        return self._credentials is not None

    @property
    def credential_source(self) -> str:
        """Where the credentials came from ("GERRIT_AUTH", ...), or "anonymous"."""
        return str(self._credentials.source) if self._credentials else "anonymous"

    def __repr__(self) -> str:
        return f"<GerritClient {self.host} at {self.base_url} ({self.credential_source})>"

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> "GerritClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- API -------------------------------------------------------------------------------

    def get_change(
        self,
        change: int,
        *,
        project: str | None = None,
        options: Iterable[str | int] = DEFAULT_CHANGE_OPTIONS,
    ) -> gerrit_pb2.ChangeInfo:
        """GET /changes/<id>: the change as a gerrit.ChangeInfo.

        `options` are Gerrit query options by name ("MESSAGES") or as gerrit_pb2.QueryOption
        values; they decide which parts (revisions, labels, messages, ...) Gerrit fills in.
        """
        params = [("o", _option_name(o)) for o in options]
        data = self._call("GET", f"/changes/{_change_id(change, project)}", params=params)
        try:
            return convert.change_info(data)
        except convert.ConversionError as e:
            raise GerritError(
                Code.INTERNAL,
                self._redact(f"malformed ChangeInfo from Gerrit for change {change}: {e}"),
                host=self.host,
            ) from None

    def set_review(
        self,
        change: int,
        revision: str,
        message: str,
        *,
        project: str | None = None,
        tag: str = CQ_TAG,
        notify: str | None = None,
        notify_details: Mapping[str, Iterable[int]] | None = None,
        labels: Mapping[str, int] | None = None,
    ) -> dict[str, Any]:
        """POST /changes/<id>/revisions/<revision>/review; returns Gerrit's ReviewResult.

        `message` is sent as given: use gerrit.messages.prepare_message to trim and truncate
        it first. `notify` is Gerrit's NotifyHandling (NONE, OWNER, OWNER_REVIEWERS, ALL;
        Gerrit's default when None); `notify_details` maps a recipient type (TO, CC, BCC) to
        account IDs, which are sent sorted and de-duplicated, and types with none are left
        out. `labels` maps a label name to a vote. Empty fields are omitted from the body.
        """
        if not revision:
            raise ValueError("revision is required")
        body: dict[str, Any] = {}
        if message:
            body["message"] = message
        if tag:
            body["tag"] = tag
        if labels:
            body["labels"] = {name: int(value) for name, value in labels.items()}
        if notify is not None:
            if notify not in NOTIFY_VALUES:
                raise ValueError(f"notify={notify!r} is not one of {sorted(NOTIFY_VALUES)}")
            body["notify"] = notify
        details = {}
        for recipient_type, accounts in (notify_details or {}).items():
            if recipient_type not in RECIPIENT_TYPES:
                raise ValueError(f"notify_details recipient type {recipient_type!r} is unknown")
            ids = sorted({int(a) for a in accounts})
            if ids:
                details[recipient_type] = {"accounts": ids}
        if details:
            body["notify_details"] = details
        path = f"/changes/{_change_id(change, project)}/revisions/{_segment(revision)}/review"
        result = self._call("POST", path, body=body)
        return result if isinstance(result, dict) else {}

    def submit(
        self, change: int, revision: str | None = None, *, project: str | None = None
    ) -> "gerrit_pb2.ChangeStatus.ValueType":
        """Submits the change (at `revision`, which must then be current); returns its new
        status, normally gerrit_pb2.MERGED (CHANGE_STATUS_INVALID for one the proto lacks).

        Gerrit answers 409 (FAILED_PRECONDITION) when the change is already merged or
        abandoned, the revision is not current, or a change it depends on is not merged.
        """
        path = f"/changes/{_change_id(change, project)}"
        if revision:
            path += f"/revisions/{_segment(revision)}"
        result = self._call("POST", path + "/submit", body={})
        status = result.get("status", "") if isinstance(result, dict) else ""
        return _STATUS_BY_NAME.get(status, gerrit_pb2.CHANGE_STATUS_INVALID)

    # --- transport -------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: list[tuple[str, str]] | None = None,
        body: Any = None,
    ) -> Any:
        if self.authenticated:
            path = "/a" + path
        headers = {"Accept": "application/json", "User-Agent": "cvsite-gerrit"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json; charset=UTF-8"
        started = time.monotonic()
        failure: GerritError | None = None
        response: requests.Response | None = None
        try:
            response = self._session.request(
                method,
                self.base_url + path,
                params=params,
                data=data,
                headers=headers,
                auth=self._auth,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.Timeout:
            CALLS.labels(self.host, method, "timeout").inc()
            failure = self._error(
                Code.INTERNAL,
                f"{method} {path}: Gerrit did not answer within {self.timeout:g}s",
                transient=True,
            )
        except requests.RequestException as e:
            CALLS.labels(self.host, method, "unreachable").inc()
            failure = self._error(
                Code.INTERNAL,
                f"{method} {path}: cannot reach Gerrit ({type(e).__name__}: {e})",
                transient=True,
            )
        # Raised outside the except blocks so that the requests exception, whose request
        # object holds the Authorization header, is not kept as __context__.
        if failure is not None:
            logger.warning("%s", failure)
            raise failure
        assert response is not None
        elapsed = time.monotonic() - started
        elapsed_ms = elapsed * 1000
        status = response.status_code
        LATENCY.labels(self.host, method).observe(elapsed)
        logger.debug(
            "Gerrit %s: %s %s -> HTTP %d in %.0f ms", self.host, method, path, status, elapsed_ms
        )
        if not 200 <= status < 300:
            CALLS.labels(self.host, method, f"http_{status // 100}xx").inc()
            failure = self._error(
                code_for_http_status(status),
                f"{method} {path}: HTTP {status} from Gerrit: {self._excerpt(response.content)}",
                http_status=status,
                transient=is_transient_http_status(status),
            )
            logger.info("%s", failure)
            raise failure
        try:
            parsed = self._parse(method, path, response.content)
        except GerritError:
            CALLS.labels(self.host, method, "malformed").inc()
            raise
        CALLS.labels(self.host, method, "ok").inc()
        return parsed

    def _parse(self, method: str, path: str, content: bytes) -> Any:
        if content.startswith(JSON_PREFIX):
            content = content[len(JSON_PREFIX) :]
        if not content.strip():
            return None
        try:
            return json.loads(content)
        except ValueError:
            failure = self._error(
                Code.INTERNAL,
                f"{method} {path}: Gerrit answered with malformed JSON: {self._excerpt(content)}",
            )
        raise failure

    def _error(
        self,
        code: Code,
        message: str,
        *,
        http_status: int | None = None,
        transient: bool = False,
    ) -> GerritError:
        return GerritError(
            code,
            f"Gerrit {self.host}: {self._redact(message)}",
            host=self.host,
            http_status=http_status,
            transient=transient,
        )

    def _excerpt(self, content: bytes) -> str:
        """Response text fit for an error message: redacted first, then shortened (so a cut
        cannot leave half a secret unrecognised)."""
        text = self._redact(content.decode("utf-8", errors="replace")).strip()
        if len(text) > _MAX_QUOTED_BODY:
            text = text[:_MAX_QUOTED_BODY] + "..."
        return text or "(empty body)"

    def _redact(self, text: str) -> str:
        if self._credentials is not None:
            for secret in self._credentials.secrets():
                text = text.replace(secret, _REDACTED)
        return _GENERIC_SECRET_RE.sub(lambda m: f"{m.group(1)} {_REDACTED}", text)


def client_for_host(
    host: str,
    *,
    project: str | None = None,
    anonymous_ok: bool = True,
    timeout: float | None = None,
    session: requests.Session | None = None,
) -> GerritClient:
    """A client for `host` with the credentials gerrit.credentials picks for it.

    Settings used: GERRIT_AUTH, GERRIT_NETRC_FILE (credentials), GERRIT_URL_OVERRIDES (where
    to send requests), GERRIT_TIMEOUT_SECONDS. Looks up the netrc token stored for `project`
    (see gerrit.credentials), so it may query the database. With anonymous_ok=False a host
    without credentials is an error (GerritError INTERNAL, not transient) rather than an
    anonymous client.
    """
    if not is_valid_host(host):
        raise ValueError(f"{host!r} is not a Gerrit host name")
    credentials = resolve_credentials(host, project)
    if credentials is None and not anonymous_ok:
        raise GerritError(
            Code.INTERNAL,
            f"no credentials for Gerrit host {host}: not in GERRIT_AUTH or GERRIT_NETRC_FILE "
            f"and no CQDaemon has reported a netrc token for it for project {project!r}",
            host=host,
        )
    overrides = getattr(settings, "GERRIT_URL_OVERRIDES", None) or {}
    return GerritClient(
        host,
        credentials=credentials,
        session=session,
        timeout=timeout or getattr(settings, "GERRIT_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS),
        base_url=overrides.get(host),
    )


def _segment(value: str) -> str:
    """One URL path segment, with "/" escaped too (as Go's url.PathEscape does)."""
    return quote(str(value), safe="")


def _change_id(change: int, project: str | None) -> str:
    if isinstance(change, bool) or not isinstance(change, int) or change <= 0:
        raise ValueError(f"change must be a positive change number, not {change!r}")
    return f"{_segment(project)}~{change}" if project else str(change)


def _option_name(option: str | int) -> str:
    if isinstance(option, int):
        return gerrit_pb2.QueryOption.Name(option)
    if option not in gerrit_pb2.QueryOption.keys() or option == "OPTION_UNSPECIFIED":
        raise ValueError(f"{option!r} is not a Gerrit query option")
    return option
