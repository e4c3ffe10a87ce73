"""DRF parsers for protobuf request bodies (binary, JSON, text format).

The view picks one with `PrpcContentNegotiation.select_parser` and passes the message class
in the parser context as `message_class`.
"""

from __future__ import annotations

from typing import IO, Any

from google.protobuf.message import Message
from rest_framework.parsers import BaseParser

from prpc.codes import Code
from prpc.errors import ProtocolError
from prpc.formats import CodecError, Format, decode_message


class ProtobufParser(BaseParser):
    wire_format: Format

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: dict[str, Any] | None = None,
    ) -> Message:
        message_class = (parser_context or {})["message_class"]
        try:
            return decode_message(stream.read(), self.wire_format, message_class)
        except CodecError as exc:
            raise ProtocolError(Code.INVALID_ARGUMENT, f"could not decode body: {exc}") from None


class BinaryParser(ProtobufParser):
    media_type = Format.BINARY.media_type
    wire_format = Format.BINARY


class JSONParser(ProtobufParser):
    media_type = Format.JSON.media_type
    wire_format = Format.JSON


class TextParser(ProtobufParser):
    media_type = Format.TEXT.media_type
    wire_format = Format.TEXT
