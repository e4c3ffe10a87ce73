"""A pRPC client over `requests`.

    client = Client("https://cv.example.com", auth_token=token)
    response = client.call(
        "migration.Migration", "FetchActiveRuns",
        migration_pb2.FetchActiveRunsRequest(luci_project="chromium"),
        migration_pb2.FetchActiveRunsResponse,
        deadline=30,
    )

Failures raise `RpcError` (a `PrpcError` with the HTTP status). Calls answered with a
transient code (UNKNOWN, INTERNAL, UNAVAILABLE, DEADLINE_EXCEEDED; transport failures count
as UNAVAILABLE, read timeouts as DEADLINE_EXCEEDED) are retried with exponential backoff and
jitter, at most `retries` times and never past the call's deadline. Only retry calls that
are safe to repeat (pRPC servers are expected to make every method idempotent).
"""

from __future__ import annotations

import base64
import binascii
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

import requests
from google.protobuf import any_pb2
from google.protobuf.message import Message

from prpc.codes import TRANSIENT_CODES, Code, code_from_http_status, code_name
from prpc.errors import PrpcError
from prpc.formats import (
    CodecError,
    Format,
    MediaTypeError,
    decode_message,
    encode_message,
    format_for_content_type,
    strip_json_prefix,
)
from prpc.headers import (
    CODE_HEADER,
    STATUS_DETAILS_HEADER,
    TIMEOUT_HEADER,
    MetadataValue,
    encode_metadata,
    format_timeout,
)

logger = logging.getLogger("prpc.client")

M = TypeVar("M", bound=Message)

MAX_MESSAGE_CHARS = 4096
_EXCERPT_CHARS = 200


class RpcError(PrpcError):
    """A call failed with `code` and `message`.

    `http_status` is the response's HTTP status, None when no response arrived (connection
    refused, timeout). `details` holds the status details the server attached, as
    `google.protobuf.Any` messages.
    """

    def __init__(
        self,
        code: int,
        message: str,
        *,
        http_status: int | None = None,
        details: Iterable[Message] = (),
    ) -> None:
        super().__init__(code, message, details=details)
        self.http_status = http_status

    def __str__(self) -> str:
        status = f" (HTTP {self.http_status})" if self.http_status is not None else ""
        return f"{code_name(self.code)}{status}: {self.message}"


class Client:
    """Calls pRPC methods on the server at `host_url` (`https://host[:port][/prefix]`).

    `auth_token`: sent as `Authorization: Bearer <token>` (a callable is asked before every
    attempt, for tokens that expire). `timeout`: seconds for one HTTP attempt. `retries`:
    how many times a transient failure is retried. `format`: "binary" (default), "json" or
    "text", for both request and response. The backoff before retry n (0-based) is
    `min(max_backoff, initial_backoff * backoff_multiplier**n)` shortened by a random
    fraction of up to half (`jitter()` returns it in [0, 1)); `sleep` and `jitter` are
    injectable for tests.
    """

    def __init__(
        self,
        host_url: str,
        *,
        session: requests.Session | None = None,
        auth_token: str | Callable[[], str] | None = None,
        timeout: float = 10.0,
        retries: int = 5,
        format: str | Format = "binary",
        initial_backoff: float = 1.0,
        max_backoff: float = 30.0,
        backoff_multiplier: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        user_agent: str = "cvsite pRPC client",
    ) -> None:
        if not host_url.startswith(("http://", "https://")):
            raise ValueError(f"host_url {host_url!r} must start with http:// or https://")
        if retries < 0:
            raise ValueError("retries must be 0 or more")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.host_url = host_url.rstrip("/")
        self.format = Format(format) if isinstance(format, str) else format
        self._own_session = session is None
        self.session = session if session is not None else requests.Session()
        self._auth_token = auth_token
        self.timeout = timeout
        self.retries = retries
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.backoff_multiplier = backoff_multiplier
        self._sleep = sleep
        self._jitter = jitter
        self.user_agent = user_agent

    def close(self) -> None:
        """Closes the session if the client created it."""
        if self._own_session:
            self.session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def call(
        self,
        service: str,
        method: str,
        request: Message,
        response_class: type[M],
        *,
        deadline: float | None = None,
        metadata: Mapping[str, MetadataValue | Iterable[MetadataValue]] | None = None,
    ) -> M:
        """Calls `service`/`method` (e.g. `migration.Migration`, `FetchActiveRuns`).

        `deadline`: seconds the whole call may take, retries included; each attempt sends
        what remains as X-Prpc-Grpc-Timeout. `metadata`: extra request headers; keys ending
        in `-bin` take bytes (sent base64-encoded); protocol headers are refused
        (ValueError). Raises RpcError.
        """
        deadline_at = None if deadline is None else time.monotonic() + deadline
        url = f"{self.host_url}/prpc/{service}/{method}"
        body = encode_message(request, self.format)
        headers = {
            "Content-Type": self.format.media_type,
            "Accept": self.format.media_type,
            "User-Agent": self.user_agent,
        }
        for key, values in (metadata or {}).items():
            if isinstance(values, str | bytes):
                values = [values]
            name, value = encode_metadata(key, values)
            headers[name] = value

        attempt = 0
        while True:
            try:
                return self._attempt(url, body, headers, response_class, deadline_at)
            except RpcError as error:
                if error.code not in TRANSIENT_CODES or attempt >= self.retries:
                    raise
                delay = self._backoff(attempt)
                if deadline_at is not None and time.monotonic() + delay >= deadline_at:
                    raise
                attempt += 1
                logger.info(
                    "pRPC %s/%s: %s; retry %d of %d in %.2fs",
                    service,
                    method,
                    error,
                    attempt,
                    self.retries,
                    delay,
                )
                self._sleep(delay)

    def _backoff(self, attempt: int) -> float:
        base = min(self.max_backoff, self.initial_backoff * self.backoff_multiplier**attempt)
        return base * (1.0 - 0.5 * self._jitter())

    def _attempt(
        self,
        url: str,
        body: bytes,
        headers: dict[str, str],
        response_class: type[M],
        deadline_at: float | None,
    ) -> M:
        headers = dict(headers)
        timeout = self.timeout
        if deadline_at is not None:
            remaining = deadline_at - time.monotonic()
            if remaining <= 0:
                raise RpcError(Code.DEADLINE_EXCEEDED, "the call's deadline passed")
            headers[TIMEOUT_HEADER] = format_timeout(remaining)
            timeout = min(timeout, remaining)
        token = self._auth_token() if callable(self._auth_token) else self._auth_token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = self.session.post(url, data=body, headers=headers, timeout=timeout)
        except requests.exceptions.ConnectTimeout as exc:
            raise RpcError(Code.UNAVAILABLE, f"connecting to {url}: {exc}") from exc
        except requests.exceptions.Timeout as exc:
            raise RpcError(Code.DEADLINE_EXCEEDED, f"no response from {url}: {exc}") from exc
        except (
            requests.exceptions.ConnectionError,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            raise RpcError(Code.UNAVAILABLE, f"calling {url}: {exc}") from exc
        return self._parse(response, response_class)

    def _parse(self, response: requests.Response, response_class: type[M]) -> M:
        status = response.status_code
        raw_code = response.headers.get(CODE_HEADER)
        if raw_code is None:
            excerpt = response.text[:_EXCERPT_CHARS].strip()
            raise RpcError(
                code_from_http_status(status),
                f"HTTP {status} {response.reason} from {response.url} is not a pRPC response "
                f"(no {CODE_HEADER} header): {excerpt!r}",
                http_status=status,
            )
        try:
            code = int(raw_code)
        except ValueError:
            raise RpcError(
                Code.INTERNAL, f"bad {CODE_HEADER} header {raw_code!r}", http_status=status
            ) from None
        if code != Code.OK:
            message = response.content.decode("utf-8", "replace")
            message = message.removesuffix("\n")[:MAX_MESSAGE_CHARS]
            raise RpcError(
                code, message, http_status=status, details=self._details(response.headers)
            )
        try:
            got = format_for_content_type(response.headers.get("Content-Type"))
        except MediaTypeError as exc:
            got = exc
        if got is not self.format:
            raise RpcError(
                Code.INTERNAL,
                f"asked for a {self.format.value} response, got Content-Type "
                f"{response.headers.get('Content-Type')!r}",
                http_status=status,
            )
        content = response.content
        if self.format is Format.JSON:
            content = strip_json_prefix(content)
        try:
            return decode_message(content, self.format, response_class)
        except CodecError as exc:
            raise RpcError(
                Code.INTERNAL, f"could not decode the response: {exc}", http_status=status
            ) from None

    def _details(self, headers: Mapping[str, str]) -> list[Message]:
        details: list[Message] = []
        for chunk in (headers.get(STATUS_DETAILS_HEADER) or "").split(","):
            if not chunk.strip():
                continue
            try:
                raw = base64.b64decode(chunk.strip(), validate=True)
                details.append(decode_message(raw, self.format, any_pb2.Any))
            except (binascii.Error, ValueError):
                logger.warning("pRPC: ignoring an undecodable status detail")
        return details
