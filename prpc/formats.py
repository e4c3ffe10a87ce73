"""pRPC message formats: media types, Content-Type and Accept negotiation, and codecs.

Pure functions with no Django dependency, shared by the server and the client.

Request formats by Content-Type (media type parameters allowed):

==========================================  ======================================
absent or empty                             binary
``application/prpc`` (no parameters)        binary
``application/prpc; encoding=binary``       binary
``application/prpc; encoding=json``         JSON (legacy spelling)
``application/prpc; encoding=text``         protobuf text format
``application/json`` (any parameters)       JSON
``*/*``, ``application/*``, ``application/grpc``  binary
``application/prpc`` with another parameter or encoding, anything else: an error
==========================================  ======================================
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass

from google.protobuf import json_format, text_format
from google.protobuf.message import DecodeError, Message

# RFC 9110 token characters.
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_TOKEN_RE = re.compile(_TOKEN)
_MEDIA_TYPE_RE = re.compile(rf"\s*({_TOKEN})(?:/({_TOKEN}))?\s*")
_PARAM_RE = re.compile(rf"\s*({_TOKEN})\s*=\s*(?:({_TOKEN})|\"((?:[^\"\\]|\\.)*)\")\s*")
_QVALUE_RE = re.compile(r"\d+(?:\.\d*)?|\.\d+")

JSON_PREFIX = b")]}'\n"


class Format(enum.Enum):
    """A message encoding; the value is the `encoding` parameter of `application/prpc`."""

    BINARY = "binary"
    JSON = "json"
    TEXT = "text"

    @property
    def media_type(self) -> str:
        """The exact Content-Type of a message in this format."""
        return _MEDIA_TYPES[self]


_MEDIA_TYPES = {
    Format.BINARY: "application/prpc; encoding=binary",
    Format.JSON: "application/json",
    Format.TEXT: "application/prpc; encoding=text",
}

# Ties in Accept are broken in this order.
_PREFERENCE = {Format.BINARY: 0, Format.JSON: 1, Format.TEXT: 2}


class MediaTypeError(ValueError):
    """A header value is not a media type, or not one pRPC understands."""


def parse_media_type(value: str) -> tuple[str, dict[str, str]]:
    """Splits `type/subtype; name=value; ...` into a lower-cased media type and parameters.

    Parameter names are lower-cased; values keep their case (quoted strings unquoted).
    Raises MediaTypeError on malformed syntax or a repeated parameter.
    """
    parts = _split_outside_quotes(value, ";")
    match = _MEDIA_TYPE_RE.fullmatch(parts[0])
    if not match:
        raise MediaTypeError(f"{value!r} is not a media type")
    media_type = match.group(1).lower()
    if match.group(2):
        media_type += "/" + match.group(2).lower()
    params: dict[str, str] = {}
    for part in parts[1:]:
        if not part.strip():
            continue  # a stray ";" (e.g. a trailing one) carries nothing
        param = _PARAM_RE.fullmatch(part)
        if not param:
            raise MediaTypeError(f"malformed parameter {part.strip()!r} in {value!r}")
        name = param.group(1).lower()
        if name in params:
            raise MediaTypeError(f"parameter {name!r} repeated in {value!r}")
        if param.group(2) is not None:
            params[name] = param.group(2)
        else:
            params[name] = re.sub(r"\\(.)", r"\1", param.group(3))
    return media_type, params


def format_for_media_type(media_type: str, params: dict[str, str]) -> Format:
    """Maps a parsed media type to a Format (see the module docstring's table)."""
    if media_type == "application/json":
        return Format.JSON
    if media_type in ("*/*", "application/*", "application/grpc"):
        return Format.BINARY
    if media_type == "application/prpc":
        for name in params:
            if name != "encoding":
                raise MediaTypeError(f"unexpected parameter {name!r} for application/prpc")
        encoding = params.get("encoding")
        if encoding is None:
            return Format.BINARY
        try:
            return Format(encoding.lower())
        except ValueError:
            raise MediaTypeError(
                f"invalid encoding {encoding!r} for application/prpc; "
                "valid encodings are binary, json and text"
            ) from None
    raise MediaTypeError(f"unsupported media type {media_type!r}")


def format_for_content_type(header: str | None) -> Format:
    """The request format for a Content-Type header value; binary when absent or empty."""
    if header is None or not header.strip():
        return Format.BINARY
    return format_for_media_type(*parse_media_type(header))


class AcceptError(ValueError):
    """An Accept or Accept-Encoding header is syntactically invalid (a 400, not a 406)."""


def negotiate_format(accept: str | None) -> Format | None:
    """The response format for an Accept header; binary when absent or empty.

    Items are weighted by `q` (default 1); items that name no pRPC format, and items with
    q=0 (explicitly "not acceptable"), are ignored. The highest q wins; ties go to binary,
    then JSON, then text. Returns None when no item names a format (answer 406); raises
    AcceptError when a q value is not a number or an item is malformed (answer 400).
    """
    if accept is None or not accept.strip():
        return Format.BINARY
    best: tuple[float, int] | None = None
    chosen: Format | None = None
    for item in _split_outside_quotes(accept, ","):
        if not item.strip():
            continue
        try:
            media_type, params = parse_media_type(item)
        except MediaTypeError as exc:
            raise AcceptError(str(exc)) from None
        quality = _pop_quality(params, item)
        if quality <= 0:
            continue
        try:
            fmt = format_for_media_type(media_type, params)
        except MediaTypeError:
            continue
        rank = (quality, -_PREFERENCE[fmt])
        if best is None or rank > best:
            best, chosen = rank, fmt
    return chosen


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an Accept-Encoding header allows a gzip-compressed response.

    True when a `gzip` coding (case-insensitive) is listed with q > 0. Raises AcceptError
    for a malformed item or a q value that is not a number.
    """
    if not accept_encoding:
        return False
    allowed = False
    for item in _split_outside_quotes(accept_encoding, ","):
        if not item.strip():
            continue
        parts = _split_outside_quotes(item, ";")
        coding = parts[0].strip()
        if not _TOKEN_RE.fullmatch(coding):
            raise AcceptError(f"{item.strip()!r} is not a content coding")
        params: dict[str, str] = {}
        for part in parts[1:]:
            param = _PARAM_RE.fullmatch(part)
            if not param:
                raise AcceptError(f"malformed parameter {part.strip()!r} in {item.strip()!r}")
            params[param.group(1).lower()] = param.group(2) or param.group(3) or ""
        quality = _pop_quality(params, item)
        if coding.lower() == "gzip" and quality > 0:
            allowed = True
    return allowed


def _pop_quality(params: dict[str, str], item: str) -> float:
    value = params.pop("q", None)
    if value is None:
        return 1.0
    if not _QVALUE_RE.fullmatch(value):
        raise AcceptError(f"q parameter of {item.strip()!r}: expected a number, got {value!r}")
    return float(value)


def _split_outside_quotes(value: str, separator: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


@dataclass(frozen=True)
class CodecError(ValueError):
    """A body could not be decoded as the expected message."""

    reason: str

    def __str__(self) -> str:
        return self.reason


def decode_message(body: bytes, fmt: Format, message_class: type[Message]) -> Message:
    """Parses `body` in `fmt` into a new `message_class`.

    An empty body is the default message in binary and text, and an error in JSON. Unknown
    fields are skipped in every format. Raises CodecError naming what was wrong.
    """
    message = message_class()
    name = message.DESCRIPTOR.full_name
    if fmt is Format.BINARY:
        try:
            message.ParseFromString(body)
        except (DecodeError, RuntimeError, ValueError) as exc:
            raise CodecError(f"not a binary {name}: {exc}") from None
        return message
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CodecError(f"body is not valid UTF-8 (byte {exc.start})") from None
    if fmt is Format.JSON:
        if not text.strip():
            raise CodecError(f"empty body is not a JSON {name}")
        try:
            json_format.Parse(text, message, ignore_unknown_fields=True)
        except (json_format.ParseError, RecursionError, ValueError) as exc:
            raise CodecError(f"not a JSON {name}: {exc}") from None
        return message
    try:
        text_format.Parse(text, message, allow_unknown_field=True, allow_unknown_extension=True)
    except (text_format.ParseError, RecursionError, ValueError) as exc:
        raise CodecError(f"not a text-format {name}: {exc}") from None
    return message


def encode_message(message: Message, fmt: Format) -> bytes:
    """Serializes `message` in `fmt` (a request body; see `encode_response` for responses).

    JSON uses lowerCamelCase names, omits default values and writes enums as names and
    64-bit integers as strings (the proto3 canonical mapping).
    """
    if fmt is Format.BINARY:
        return message.SerializeToString(deterministic=True)
    if fmt is Format.JSON:
        document = json_format.MessageToDict(message)
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return text_format.MessageToString(message).encode("utf-8")


@dataclass(frozen=True)
class Encoded:
    """A message already in binary wire form, e.g. put together from stored encodings.

    A handler may return one instead of its response message: a binary answer sends `data`
    as it is, without decoding it; JSON and text answers decode it first.
    """

    message_class: type[Message]
    data: bytes

    def decode(self) -> Message:
        return self.message_class.FromString(self.data)


def encode_response(message: Message | Encoded, fmt: Format) -> bytes:
    """A response body: like `encode_message`, but JSON is preceded by the `)]}'` line (so a
    browser can never run it as a script) and ends with a newline."""
    if isinstance(message, Encoded):
        if fmt is Format.BINARY:
            return message.data
        message = message.decode()
    encoded = encode_message(message, fmt)
    return JSON_PREFIX + encoded + b"\n" if fmt is Format.JSON else encoded


def strip_json_prefix(body: bytes) -> bytes:
    """Removes the `)]}'` line a pRPC server puts before JSON responses, if present."""
    return body[len(JSON_PREFIX) :] if body.startswith(JSON_PREFIX) else body
