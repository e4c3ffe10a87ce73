"""DRF content negotiation by the pRPC rules (not DRF's own Accept/format-suffix logic)."""

from __future__ import annotations

from collections.abc import Sequence

from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request

from prpc.codes import Code
from prpc.errors import ProtocolError
from prpc.formats import AcceptError, MediaTypeError, format_for_content_type, negotiate_format
from prpc.parsers import ProtobufParser
from prpc.renderers import ProtobufRenderer


def request_content_type(request: Request) -> str | None:
    """The request's Content-Type, None when the client sent none.

    wsgiref (Django's runserver and LiveServerTestCase) puts `text/plain` in the environ
    when the request had no Content-Type, so there a bare `text/plain` means "absent".
    """
    meta = request.META
    value = meta.get("CONTENT_TYPE")
    if value == "text/plain" and str(meta.get("SERVER_SOFTWARE", "")).startswith("WSGIServer/"):
        return None
    return value


class PrpcContentNegotiation(BaseContentNegotiation):
    def select_parser(self, request: Request, parsers: Sequence[ProtobufParser]) -> ProtobufParser:
        header = request_content_type(request)
        try:
            fmt = format_for_content_type(header)
        except MediaTypeError as exc:
            raise ProtocolError(
                Code.INVALID_ARGUMENT, f"bad Content-Type header: {exc}", http_status=415
            ) from None
        for parser in parsers:
            if parser.wire_format is fmt:
                return parser
        raise ProtocolError(
            Code.INVALID_ARGUMENT,
            f"bad Content-Type header: {fmt.value} requests are not accepted here",
            http_status=415,
        )

    def select_renderer(
        self,
        request: Request,
        renderers: Sequence[ProtobufRenderer],
        format_suffix: str | None = None,
    ) -> tuple[ProtobufRenderer, str]:
        accept = request.META.get("HTTP_ACCEPT")
        try:
            fmt = negotiate_format(accept)
        except AcceptError as exc:
            raise ProtocolError(Code.INVALID_ARGUMENT, f"bad Accept header: {exc}") from None
        for renderer in renderers:
            if renderer.wire_format is fmt:
                return renderer, renderer.media_type
        raise ProtocolError(
            Code.INVALID_ARGUMENT,
            f"bad Accept header: {accept!r} names no supported format "
            f"({', '.join(r.media_type for r in renderers)})",
            http_status=406,
        )
