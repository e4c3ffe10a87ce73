"""Buildbucket's builds_v2 Pub/Sub notifications, decoded (buildbucket.md §1.16, §2.8, §2.11).

A push delivery is a JSON envelope whose `message.data` is base64 of the JSON of a
`BuildsV2PubSub`; its `build_large_fields` are a zlib-compressed binary Build holding the
input and output properties and the steps, merged back into `build` here. Pure.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from dataclasses import dataclass

from google.protobuf import json_format
from google.protobuf.message import DecodeError

from cvproto.buildbucket.v2 import build_pb2, common_pb2, notification_pb2

__all__ = ["Notification", "NotificationError", "decode_push"]


class NotificationError(ValueError):
    """A push that is not a usable builds_v2 notification; the message names the field."""


@dataclass(frozen=True)
class Notification:
    """One build's news. `build` is None when the large fields were dropped (fetch it)."""

    host: str
    build_id: int
    build: build_pb2.Build | None
    message_id: str


def _field(value, name: str, kind: type):
    if not isinstance(value, kind):
        raise NotificationError(f"{name}: expected a JSON {kind.__name__}")
    return value


def decode_push(body: bytes) -> Notification:
    """The build of a push delivery's body; NotificationError when it is not one."""
    try:
        envelope = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise NotificationError("body: not JSON") from e
    envelope = _field(envelope, "body", dict)
    message = _field(envelope.get("message"), "message", dict)
    attributes = _field(message.get("attributes") or {}, "message.attributes", dict)
    if attributes.get("version") != "v2":
        raise NotificationError(
            "message.attributes.version: only builds_v2 notifications (version v2) are accepted"
        )
    message_id = str(message.get("messageId") or message.get("message_id") or "")
    data = _field(message.get("data"), "message.data", str)
    try:
        payload = json.loads(base64.b64decode(data, validate=True))
    except (binascii.Error, ValueError) as e:
        raise NotificationError("message.data: not base64 of JSON") from e
    pubsub = notification_pb2.BuildsV2PubSub()
    try:
        json_format.ParseDict(
            _field(payload, "message.data", dict), pubsub, ignore_unknown_fields=True
        )
    except json_format.ParseError as e:
        raise NotificationError(f"message.data: not a BuildsV2PubSub: {e}") from e
    build = pubsub.build
    if not build.id:
        raise NotificationError("message.data.build.id: missing")
    host = build.infra.buildbucket.hostname
    if not host or "/" in host:
        raise NotificationError("message.data.build.infra.buildbucket.hostname: missing or invalid")
    if pubsub.build_large_fields_dropped:
        return Notification(host, build.id, None, message_id)
    if pubsub.compression != common_pb2.ZLIB:
        raise NotificationError("message.data.compression: only ZLIB is supported")
    try:
        large = build_pb2.Build.FromString(zlib.decompress(pubsub.build_large_fields))
    except (zlib.error, DecodeError) as e:
        raise NotificationError(
            "message.data.buildLargeFields: not a zlib-compressed binary Build"
        ) from e
    build.MergeFrom(large)
    return Notification(host, build.id, build, message_id)
