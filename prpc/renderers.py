"""DRF renderers for protobuf responses; `media_type` is the exact response Content-Type."""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message
from rest_framework.renderers import BaseRenderer

from prpc.formats import Encoded, Format, encode_response


class ProtobufRenderer(BaseRenderer):
    wire_format: Format
    charset = None

    def render(
        self,
        data: Message | Encoded,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> bytes:
        return encode_response(data, self.wire_format)


class BinaryRenderer(ProtobufRenderer):
    media_type = Format.BINARY.media_type
    format = "prpc-binary"
    wire_format = Format.BINARY


class JSONRenderer(ProtobufRenderer):
    media_type = Format.JSON.media_type
    format = "prpc-json"
    wire_format = Format.JSON


class TextRenderer(ProtobufRenderer):
    media_type = Format.TEXT.media_type
    format = "prpc-text"
    wire_format = Format.TEXT
