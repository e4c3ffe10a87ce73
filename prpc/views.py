"""The pRPC endpoint: `POST /prpc/<service>/<method>` (and `OPTIONS` for CORS preflight).

Built on DRF's APIView for dispatch, CSRF exemption, and the parser/renderer/negotiation
classes, but DRF's own steps are switched off where they would change the protocol: no
authentication/permission/throttle classes (the service's `authenticate` hook does auth),
no DRF error bodies (every answer is a pRPC response), no default Allow/Vary headers, and
the body is read by the protocol's size-limited reader instead of `request.data` (which
would skip the parser for an empty body and buffer without a limit).

Processing order: method lookup, Accept, Accept-Encoding, X-Prpc-Max-Response-Size,
metadata and timeout, Content-Type, `authenticate`, body (decoded, then every Timestamp in it
checked against the range the protobuf spec allows), handler. Authentication needs only
the headers, so a caller without credentials is refused before its body is read.

Settings (read per request):

- `PRPC_MAX_REQUEST_BYTES` (default 64 MiB): cap on the request body, on the wire and
  after gunzip, for every method (a service may set lower limits per method); beyond it the
  answer is INVALID_ARGUMENT (400) naming the limit, before the body is read when
  Content-Length announces it.
- `PRPC_BODY_READ_SECONDS` (default 10): how long the body may take to arrive, shortened to
  the client's X-Prpc-Grpc-Timeout; past it the answer is DEADLINE_EXCEEDED (504). A client
  trickling its body holds a server thread for no longer.
- `PRPC_COMPRESS_RESPONSES` (default True): gzip response bodies over 1 KiB for clients
  whose Accept-Encoding allows gzip.
- `PRPC_EXPOSE_SERVER_ERROR_MESSAGES` (default False): send a handler's own message for
  errors answered with HTTP >= 500 instead of the generic text per code.

Deadlines: the handler runs in `transaction.atomic()`. Python cannot interrupt it, so when
X-Prpc-Grpc-Timeout has passed by the time it returns, the transaction is rolled back and the
answer is DEADLINE_EXCEEDED (504): a client that gave up (and will retry) never sees a call
half-applied or applied twice. A method the service runs outside a transaction commits as it
goes and is answered as it returns. Handlers may call `context.check_deadline()` to stop early.
The response is rendered (and checked against X-Prpc-Max-Response-Size) in that transaction
too, so a call whose answer cannot be sent is rolled back as well.
"""

from __future__ import annotations

import base64
import gzip
import io
import logging
import time
from contextlib import nullcontext
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import InterfaceError, OperationalError, transaction
from django.http import HttpResponse
from google.protobuf import any_pb2, json_format, text_format
from google.protobuf.message import Message
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.views import APIView

from cvproto.validation import InvalidMessage, check_timestamps
from prpc import metrics
from prpc.body import content_coding, read_body
from prpc.codes import Code, code_name, generic_server_message, http_status
from prpc.cors import AccessControlPolicy, cors_headers
from prpc.errors import ProtocolError, PrpcError
from prpc.formats import AcceptError, Encoded, Format, accepts_gzip
from prpc.headers import (
    CODE_HEADER,
    MAX_RESPONSE_SIZE_HEADER,
    STATUS_DETAILS_HEADER,
    TIMEOUT_HEADER,
    HeaderError,
    metadata_from_wsgi_environ,
    parse_max_response_size,
    parse_timeout,
)
from prpc.negotiation import PrpcContentNegotiation
from prpc.parsers import BinaryParser, JSONParser, TextParser
from prpc.renderers import BinaryRenderer, JSONRenderer, TextRenderer
from prpc.service import CallContext, Method, Service

logger = logging.getLogger("prpc")

DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024
DEFAULT_BODY_READ_SECONDS = 10.0
# Where gunicorn hands over the connection's socket (its documented WSGI environ key).
SERVER_SOCKET_KEY = "gunicorn.socket"
GZIP_MIN_BYTES = 1024

ERROR_CONTENT_TYPE = "text/plain; charset=utf-8"

# What Django raises when the database cannot be reached or drops the connection (a server
# down, restarting or refusing connections; SQLite's "database is locked"): answered
# UNAVAILABLE, which clients retry, rather than INTERNAL.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def max_request_bytes() -> int:
    return int(getattr(settings, "PRPC_MAX_REQUEST_BYTES", DEFAULT_MAX_REQUEST_BYTES))


def body_read_seconds() -> float:
    return float(getattr(settings, "PRPC_BODY_READ_SECONDS", DEFAULT_BODY_READ_SECONDS))


class Registry:
    """The services served under one URL pattern, and the CORS policy for them."""

    def __init__(
        self, services: list[Service], access_control: AccessControlPolicy | None = None
    ) -> None:
        self.services: dict[str, Service] = {}
        for service in services:
            if service.name in self.services:
                raise ValueError(f"pRPC service {service.name} is declared twice")
            self.services[service.name] = service
        self.access_control = access_control


class PrpcView(APIView):
    registry: Registry | None = None

    authentication_classes = ()
    permission_classes = ()
    throttle_classes = ()
    parser_classes = (BinaryParser, JSONParser, TextParser)
    renderer_classes = (BinaryRenderer, JSONRenderer, TextRenderer)
    content_negotiation_class = PrpcContentNegotiation

    @property
    def default_response_headers(self) -> dict[str, str]:
        return {}

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Negotiation and auth run inside post(), in the protocol's order.
        self.format_kwarg = None

    def handle_exception(self, exc: Exception) -> HttpResponse:
        if isinstance(exc, exceptions.MethodNotAllowed):
            # Not part of the protocol: a plain 405 without pRPC headers.
            response = HttpResponse(
                f"method {self.request.method} not allowed; pRPC uses POST\n",
                status=405,
                content_type=ERROR_CONTENT_TYPE,
            )
            response["Allow"] = "OPTIONS, POST"
            return response
        logger.exception("pRPC: unexpected error outside a call")
        return _error_response(PrpcError(Code.INTERNAL), Format.BINARY)

    def options(self, request: Request, service: str, method: str) -> HttpResponse:
        response = HttpResponse(b"", status=200)
        policy = self.registry.access_control if self.registry else None
        for key, value in cors_headers(
            policy, request.META.get("HTTP_ORIGIN"), preflight=True
        ).items():
            response[key] = value
        return response

    def post(self, request: Request, service: str, method: str) -> HttpResponse:
        started = time.monotonic()
        if self.registry is None:
            raise ImproperlyConfigured("PrpcView needs a registry: mount it with prpc_urlpatterns")
        declared = self.registry.services.get(service)
        target = declared.methods.get(method) if declared else None
        if declared is None or target is None:
            what = f'service "{service}"' if declared is None else f'method "{method}"'
            logger.info("pRPC: %s is not implemented (/%s/%s)", what, service, method)
            # A 501: the message gives way to the generic one, like any error >= 500.
            response = _error_response(
                PrpcError(Code.UNIMPLEMENTED, f"{what} is not implemented"), Format.BINARY
            )
        else:
            response = self._call(request, declared, target, started)
        policy = self.registry.access_control
        for key, value in cors_headers(
            policy, request.META.get("HTTP_ORIGIN"), preflight=False
        ).items():
            response[key] = value
        return response

    def _call(
        self, request: Request, service: Service, method: Method, started: float
    ) -> HttpResponse:
        context = CallContext(
            service=service.name,
            method=method.name,
            remote_addr=request.META.get("REMOTE_ADDR", ""),
            http_request=request._request,
        )
        try:
            response = self._process(request, service, method, context, started)
            code: Code | int = Code.OK
        except PrpcError as exc:
            code = exc.code
            if not isinstance(exc, ProtocolError) and http_status(exc.code) >= 500:
                # The client gets a generic message; keep the real one for operators.
                logger.warning("pRPC %s answered %s", context.full_method, exc)
            elif exc.code == Code.DEADLINE_EXCEEDED:
                logger.warning("pRPC %s: %s", context.full_method, exc.message)
            response = _error_response(exc, context.response_format or Format.BINARY)
        except DATABASE_UNAVAILABLE as exc:
            # The database is down or unreachable: the client should retry later. One line
            # per call, not a traceback: an outage would otherwise flood the log.
            logger.warning("pRPC %s: database unavailable: %s", context.full_method, _one_line(exc))
            metrics.DATABASE_UNAVAILABLE.labels(context.service, context.method).inc()
            code = Code.UNAVAILABLE
            response = _error_response(
                PrpcError(Code.UNAVAILABLE), context.response_format or Format.BINARY
            )
        except Exception:
            # Authentication or handler bug: log it all, tell the client nothing of it.
            logger.exception("pRPC %s: unexpected error serving the call", context.full_method)
            code = Code.INTERNAL
            response = _error_response(PrpcError(Code.INTERNAL), Format.BINARY)
        for name, value in context.response_headers.items():
            response[name] = value
        duration = time.monotonic() - started
        told_in_transaction = code == Code.OK
        for observer in service.observers:
            if told_in_transaction and _in_transaction(observer):
                continue
            try:
                observer.on_call_finished(context, code, duration)
            except DATABASE_UNAVAILABLE as exc:
                logger.warning(
                    "pRPC %s: observer %r: database unavailable: %s",
                    context.full_method,
                    observer,
                    _one_line(exc),
                )
            except Exception:
                logger.exception("pRPC %s: observer %r failed", context.full_method, observer)
        return response

    def _process(
        self,
        request: Request,
        service: Service,
        method: Method,
        context: CallContext,
        started: float,
    ) -> HttpResponse:
        meta = request.META
        renderer, media_type = self.perform_content_negotiation(request)
        context.response_format = renderer.wire_format
        try:
            gzip_allowed = accepts_gzip(meta.get("HTTP_ACCEPT_ENCODING"))
        except AcceptError as exc:
            raise ProtocolError(
                Code.INVALID_ARGUMENT, f"bad Accept-Encoding header: {exc}"
            ) from None
        try:
            max_response = _optional(meta, MAX_RESPONSE_SIZE_HEADER, parse_max_response_size)
            context.metadata = metadata_from_wsgi_environ(meta)
            context.timeout = _optional(meta, TIMEOUT_HEADER, parse_timeout)
        except HeaderError as exc:
            raise ProtocolError(Code.INVALID_ARGUMENT, f"bad request headers: {exc}") from None
        if context.timeout is not None:
            context.deadline = started + context.timeout

        parser = self.get_content_negotiator().select_parser(request, self.get_parsers())
        context.request_format = parser.wire_format
        content_length = _content_length(meta)
        coding = content_coding(meta.get("HTTP_CONTENT_ENCODING"))

        if service.authenticate is not None:
            context.principal = service.authenticate(context)

        if context.deadline_exceeded():
            raise ProtocolError(
                Code.DEADLINE_EXCEEDED, "the request deadline passed before the handler ran"
            )
        limit = max_request_bytes()
        if service.max_request_bytes is not None:
            limit = min(limit, service.max_request_bytes(method.name))
        read_seconds = body_read_seconds()
        if context.timeout is not None:
            read_seconds = min(read_seconds, max(context.time_remaining(), 0.0))
        body = read_body(
            request._request,
            content_length=content_length,
            coding=coding,
            limit=limit,
            seconds=read_seconds,
            socket=meta.get(SERVER_SOCKET_KEY),
        )
        message = parser.parse(
            io.BytesIO(body), parser.media_type, {"message_class": method.request_class}
        )
        try:
            check_timestamps(message)
        except InvalidMessage as exc:
            raise ProtocolError(Code.INVALID_ARGUMENT, f"bad request: {exc}") from None
        if context.deadline_exceeded():
            raise ProtocolError(
                Code.DEADLINE_EXCEEDED, "the request deadline passed before the handler ran"
            )
        transactional = method.name not in service.outside_transaction
        with transaction.atomic() if transactional else nullcontext():
            result = method.handler(message, context)
            returned = result.message_class if isinstance(result, Encoded) else type(result)
            if not issubclass(returned, method.response_class):
                raise TypeError(
                    f"handler of {context.full_method} returned {returned.__name__}, "
                    f"not {method.response_class.DESCRIPTOR.full_name}"
                )
            if transactional and context.deadline_exceeded():
                # Leaving the block by an exception rolls the handler's writes back.
                raise ProtocolError(
                    Code.DEADLINE_EXCEEDED,
                    "the request deadline passed while the handler ran; "
                    "its changes were rolled back",
                )
            # Rendered before the commit: a response that cannot be sent undoes the call.
            content = renderer.render(result, media_type)
            if max_response is not None and len(content) > max_response:
                raise ProtocolError(
                    Code.UNAVAILABLE,
                    f"prpc: the response size {len(content)} exceeds the client limit "
                    f"{max_response}",
                )
            duration = time.monotonic() - started
            told = [o for o in service.observers if _in_transaction(o)]
            # Without such observers a call outside a transaction touches no database.
            if told:
                with nullcontext() if transactional else transaction.atomic():
                    for observer in told:
                        observer.on_call_finished(context, Code.OK, duration)

        response = HttpResponse(content, status=200, content_type=media_type)
        if (
            gzip_allowed
            and len(content) > GZIP_MIN_BYTES
            and getattr(settings, "PRPC_COMPRESS_RESPONSES", True)
        ):
            response.content = gzip.compress(content, compresslevel=6)
            response["Content-Encoding"] = "gzip"
        _protocol_headers(response, Code.OK)
        return response


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _in_transaction(observer) -> bool:
    return bool(getattr(observer, "in_transaction", False))


def _optional(meta: dict[str, Any], header: str, parse):
    value = meta.get("HTTP_" + header.upper().replace("-", "_"))
    return None if value is None or value == "" else parse(value)


def _content_length(meta: dict[str, Any]) -> int | None:
    value = meta.get("CONTENT_LENGTH")
    if value in (None, ""):
        return None
    try:
        length = int(value)
    except ValueError:
        raise ProtocolError(
            Code.INVALID_ARGUMENT, f"bad request headers: Content-Length {value!r}"
        ) from None
    if length < 0:
        raise ProtocolError(Code.INVALID_ARGUMENT, f"bad request headers: Content-Length {value}")
    return length


def _protocol_headers(response: HttpResponse, code: Code | int) -> None:
    response[CODE_HEADER] = str(int(code))
    response["X-Content-Type-Options"] = "nosniff"


def _error_response(error: PrpcError, fmt: Format) -> HttpResponse:
    """A pRPC error: the status for the code, `text/plain` body = message + newline."""
    if isinstance(error, ProtocolError):
        status = error.http_status or http_status(error.code)
        message = error.message
    else:
        status = http_status(error.code)
        message = error.message
        expose = getattr(settings, "PRPC_EXPOSE_SERVER_ERROR_MESSAGES", False)
        if status >= 500 and not (expose and message):
            message = generic_server_message(error.code)
    if not message:
        message = code_name(error.code).lower().replace("_", " ")
    response = HttpResponse(
        (message + "\n").encode("utf-8"), status=status, content_type=ERROR_CONTENT_TYPE
    )
    _protocol_headers(response, error.code)
    if error.details:
        response[STATUS_DETAILS_HEADER] = ",".join(
            base64.b64encode(_encode_detail(detail, fmt)).decode("ascii")
            for detail in error.details
        )
    return response


def _encode_detail(detail: Message, fmt: Format) -> bytes:
    """A status detail as a google.protobuf.Any, in the response's encoding."""
    packed = any_pb2.Any()
    packed.Pack(detail)
    if fmt is Format.JSON:
        try:
            return json_format.MessageToJson(packed, indent=None).encode("utf-8")
        except (TypeError, KeyError):
            pass  # the detail's type is not in the default pool: fall back to binary
    elif fmt is Format.TEXT:
        return text_format.MessageToString(packed).encode("utf-8")
    return packed.SerializeToString(deterministic=True)
