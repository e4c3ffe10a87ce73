"""The protocol's pure parts, without HTTP: tables, parsers, the body reader, declarations."""

from __future__ import annotations

import gzip
import io
import socket
import threading
import time
import tracemalloc

import pytest
from django.core.exceptions import ImproperlyConfigured
from google.protobuf import empty_pb2

from cvproto.migration import migration_pb2 as pb
from prpc import CallContext, Code, PrpcError, Service, unimplemented
from prpc.body import content_coding, read_body
from prpc.codes import code_from_http_status, code_name, generic_server_message, http_status
from prpc.cors import AccessControl, allow_origins, cors_headers
from prpc.errors import ProtocolError
from prpc.formats import (
    AcceptError,
    CodecError,
    Format,
    MediaTypeError,
    accepts_gzip,
    decode_message,
    encode_message,
    encode_response,
    format_for_content_type,
    negotiate_format,
    parse_media_type,
)
from prpc.headers import (
    HeaderError,
    encode_metadata,
    format_timeout,
    metadata_from_wsgi_environ,
    parse_max_response_size,
    parse_timeout,
)
from prpc.views import DEFAULT_MAX_REQUEST_BYTES, max_request_bytes

DESCRIPTOR = pb.DESCRIPTOR.services_by_name["Migration"]
METHODS = [m.name for m in DESCRIPTOR.methods]


# --- codes -------------------------------------------------------------------------------

HTTP_TABLE = [
    (Code.OK, 200),
    (Code.CANCELLED, 499),
    (Code.UNKNOWN, 500),
    (Code.INVALID_ARGUMENT, 400),
    (Code.DEADLINE_EXCEEDED, 504),
    (Code.NOT_FOUND, 404),
    (Code.ALREADY_EXISTS, 409),
    (Code.PERMISSION_DENIED, 403),
    (Code.RESOURCE_EXHAUSTED, 429),
    (Code.FAILED_PRECONDITION, 400),
    (Code.ABORTED, 409),
    (Code.OUT_OF_RANGE, 400),
    (Code.UNIMPLEMENTED, 501),
    (Code.INTERNAL, 500),
    (Code.UNAVAILABLE, 503),
    (Code.DATA_LOSS, 500),
    (Code.UNAUTHENTICATED, 401),
    (17, 500),
    (99, 500),
]


@pytest.mark.parametrize(("code", "status"), HTTP_TABLE)
def test_http_status_table(code, status):
    assert http_status(code) == status


def test_code_numbers_and_names():
    assert [int(c) for c in Code] == list(range(17))
    assert code_name(5) == "NOT_FOUND"
    assert code_name(42) == "CODE(42)"


def test_generic_messages_and_status_fallback():
    assert generic_server_message(Code.INTERNAL) == "Internal server error"
    assert generic_server_message(Code.RESOURCE_EXHAUSTED) == "Server error"
    assert code_from_http_status(401) == Code.UNAUTHENTICATED
    assert code_from_http_status(403) == Code.PERMISSION_DENIED
    assert code_from_http_status(503) == Code.UNAVAILABLE
    assert code_from_http_status(502) == Code.INTERNAL
    assert code_from_http_status(404) == Code.INTERNAL


def test_prpc_error():
    error = PrpcError(5, "no run")
    assert error.code is Code.NOT_FOUND and error.message == "no run"
    assert str(error) == "NOT_FOUND: no run"
    assert PrpcError(42).code == 42
    with pytest.raises(ValueError, match="not OK"):
        PrpcError(Code.OK, "fine")


# --- Content-Type (§1.2) -------------------------------------------------------------------

CONTENT_TYPES = [
    (None, Format.BINARY),
    ("", Format.BINARY),
    ("application/prpc", Format.BINARY),
    ("application/prpc; encoding=binary", Format.BINARY),
    ("application/prpc; encoding=json", Format.JSON),
    ("application/prpc; encoding=text", Format.TEXT),
    ('application/prpc; encoding="json"', Format.JSON),
    ("APPLICATION/PRPC;ENCODING=TEXT", Format.TEXT),
    ("application/json", Format.JSON),
    ("application/json; charset=utf-8", Format.JSON),
    ("application/json; foo=bar; charset=utf-8", Format.JSON),
    ("*/*", Format.BINARY),
    ("application/*", Format.BINARY),
    ("application/grpc", Format.BINARY),
]


@pytest.mark.parametrize(("header", "fmt"), CONTENT_TYPES)
def test_content_type_table(header, fmt):
    assert format_for_content_type(header) is fmt


BAD_CONTENT_TYPES = [
    ("application/prpc; boo=true", "unexpected parameter 'boo'"),
    ("application/prpc; encoding=blah", "invalid encoding 'blah'"),
    ("application/prpc; encoding=json; x=1", "unexpected parameter 'x'"),
    ("text/plain", "unsupported media type 'text/plain'"),
    ("application/x-protobuf", "unsupported media type"),
    ("blah", "unsupported media type 'blah'"),
    ("application/json; charset", "malformed parameter"),
    ("application/prpc; encoding=json; encoding=text", "repeated"),
    ("/json", "is not a media type"),
    ("application/ json", "is not a media type"),
]


@pytest.mark.parametrize(("header", "reason"), BAD_CONTENT_TYPES)
def test_content_type_errors(header, reason):
    with pytest.raises(MediaTypeError, match=reason):
        format_for_content_type(header)


def test_parse_media_type_unquotes_and_lowercases():
    assert parse_media_type('A/B; Name="x \\"y\\""; z=W;') == ("a/b", {"name": 'x "y"', "z": "W"})


# --- Accept (§1.3) --------------------------------------------------------------------------

JSON = "application/json"
BINARY = "application/prpc; encoding=binary"
TEXT = "application/prpc; encoding=text"
ACCEPTS = [
    (None, Format.BINARY),
    ("", Format.BINARY),
    ("*/*", Format.BINARY),
    ("application/*", Format.BINARY),
    (JSON, Format.JSON),
    (TEXT, Format.TEXT),
    ("application/prpc", Format.BINARY),
    ("application/prpc; encoding=json", Format.JSON),
    (f"{JSON}, {BINARY}", Format.BINARY),
    (f"{JSON}, {BINARY};q=0.9", Format.JSON),
    (f"{JSON};q=0.9, {TEXT}", Format.TEXT),
    (f"{JSON}, {BINARY};q=0.9, */*;q=0.8", Format.JSON),
    (f"{JSON}, foo/bar", Format.JSON),
    (f"{TEXT}, {JSON}", Format.JSON),
    (f"{TEXT};q=0.5, {JSON};q=0.5", Format.JSON),
    (f"{BINARY};q=0, {JSON};q=0.1", Format.JSON),
    (f"application/prpc; encoding=blah, {TEXT};q=0.1", Format.TEXT),
    ("text/html, application/json; charset=utf-8; q=0.2", Format.JSON),
]


@pytest.mark.parametrize(("accept", "fmt"), ACCEPTS)
def test_accept_negotiation(accept, fmt):
    assert negotiate_format(accept) is fmt


@pytest.mark.parametrize(
    "accept",
    [
        "blah",
        "text/html",
        "application/prpc; encoding=blah",
        "application/prpc; boo=true",
        f"{JSON};q=0",
    ],
)
def test_accept_with_no_supported_format(accept):
    assert negotiate_format(accept) is None


@pytest.mark.parametrize(
    "accept", [f"{JSON};q=high", f"{JSON};q=", f"{JSON};q=1_0", "*/*;q=-1", "a/b; =x"]
)
def test_accept_syntax_errors(accept):
    with pytest.raises(AcceptError):
        negotiate_format(accept)


@pytest.mark.parametrize(
    ("header", "allowed"),
    [
        (None, False),
        ("", False),
        ("gzip", True),
        ("GZip", True),
        ("deflate, gzip;q=0.5", True),
        ("gzip;q=0", False),
        ("identity", False),
        ("br, *", False),
    ],
)
def test_accept_encoding(header, allowed):
    assert accepts_gzip(header) is allowed


@pytest.mark.parametrize("header", ["gzip;q=x", "gzip;q=", "gzip; q"])
def test_accept_encoding_errors(header):
    with pytest.raises(AcceptError):
        accepts_gzip(header)


# --- codecs ---------------------------------------------------------------------------------


def test_json_encoding_is_canonical_and_prefixed():
    message = pb.RunCL(id=2**63 - 1, files=["ü"], deps=[pb.RunCL.Dep(id=1)])
    assert encode_response(message, Format.JSON) == (
        b')]}\'\n{"id":"9223372036854775807","files":["\xc3\xbc"],"deps":[{"id":"1"}]}\n'
    )
    assert encode_message(message, Format.JSON).startswith(b'{"id"')
    assert encode_response(empty_pb2.Empty(), Format.JSON) == b")]}'\n{}\n"


def test_decode_empty_bodies():
    assert decode_message(b"", Format.BINARY, pb.FetchActiveRunsRequest) == (
        pb.FetchActiveRunsRequest()
    )
    assert decode_message(b"", Format.TEXT, pb.FetchActiveRunsRequest) == (
        pb.FetchActiveRunsRequest()
    )
    with pytest.raises(CodecError, match="empty body is not a JSON migration.FetchActiveRuns"):
        decode_message(b"  ", Format.JSON, pb.FetchActiveRunsRequest)


def test_decode_ignores_unknown_fields_in_every_format():
    binary = pb.FetchActiveRunsRequest(luci_project="p").SerializeToString() + b"\xa0\x06\x01"
    assert decode_message(binary, Format.BINARY, pb.FetchActiveRunsRequest).luci_project == "p"
    as_json = b'{"luciProject": "p", "unknownField": {"a": [1]}}'
    assert decode_message(as_json, Format.JSON, pb.FetchActiveRunsRequest).luci_project == "p"
    as_text = b'luci_project: "p" unknown_field: 5 other { x: 1 }'
    assert decode_message(as_text, Format.TEXT, pb.FetchActiveRunsRequest).luci_project == "p"


@pytest.mark.parametrize(
    ("body", "fmt", "reason"),
    [
        (b"\xff\xff\xff", Format.BINARY, "not a binary migration.FetchActiveRunsRequest"),
        (b"{", Format.JSON, "not a JSON migration.FetchActiveRunsRequest"),
        (b'{"luciProject": 5}', Format.JSON, "luciProject"),
        (b"luci_project: ", Format.TEXT, "not a text-format migration.FetchActiveRunsRequest"),
        (b"\xff", Format.JSON, "not valid UTF-8"),
    ],
)
def test_decode_errors_name_the_problem(body, fmt, reason):
    with pytest.raises(CodecError, match=reason):
        decode_message(body, fmt, pb.FetchActiveRunsRequest)


# --- headers (§1.7) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("2H", 7200.0),
        ("3M", 180.0),
        ("10S", 10.0),
        ("1500m", 1.5),
        ("250u", 0.00025),
        ("7n", 7e-9),
        ("0S", 0.0),
        ("099S", 99.0),
    ],
)
def test_parse_timeout_units(value, seconds):
    assert parse_timeout(value) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("S", "too short"),
        ("5", "too short"),
        ("5x", "unknown unit 'x'"),
        ("5s", "unknown unit 's'"),
        ("-5S", "not a whole number"),
        ("1.5S", "not a whole number"),
        ("abcS", "not a whole number"),
        (" 5S", "not a whole number"),
    ],
)
def test_parse_timeout_errors(value, reason):
    with pytest.raises(HeaderError, match=reason):
        parse_timeout(value)


def test_huge_timeout_is_capped_not_overflowing():
    assert parse_timeout("9" * 400 + "H") == pytest.approx(10 * 365 * 24 * 3600)


@pytest.mark.parametrize(
    ("seconds", "value"),
    [
        (0.05, "50000000n"),
        (5.0, "5000000u"),
        (1e-9, "1n"),
        (0, "1n"),
        (99.99, "99990000u"),
        (100.0, "100000m"),
        (86400.0, "86400000m"),
        (3 * 86400.0, "259200S"),
        (2e8, "3333334M"),
        (3e8, "5000000M"),
    ],
)
def test_format_timeout_picks_the_finest_unit_with_eight_digits(seconds, value):
    assert format_timeout(seconds) == value
    assert parse_timeout(value) >= seconds


def test_format_timeout_caps_absurd_values():
    assert format_timeout(1e20) == "99999999H"


@pytest.mark.parametrize("value", ["not-an-int", "0", "-1", "   123", "1.5", "", "9" * 20])
def test_max_response_size_errors(value):
    with pytest.raises(HeaderError):
        parse_max_response_size(value)


def test_max_response_size():
    assert parse_max_response_size("123") == 123


def test_metadata_from_environ():
    environ = {
        "HTTP_AUTHORIZATION": "Bearer x",
        "HTTP_X_THING": "a,b",
        "HTTP_X_DATA_BIN": "AAE=, /w==",
        "HTTP_HOST": "example.com",
        "HTTP_ACCEPT": "*/*",
        "HTTP_ACCEPT_ENCODING": "gzip",
        "HTTP_CONTENT_ENCODING": "gzip",
        "HTTP_X_PRPC_GRPC_TIMEOUT": "1S",
        "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST",
        "HTTP_VARY": "x",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": "5",
        "REMOTE_ADDR": "127.0.0.1",
    }
    metadata = metadata_from_wsgi_environ(environ)
    assert dict(metadata) == {
        "authorization": ("Bearer x",),
        "x-thing": ("a,b",),
        "x-data-bin": (b"\x00\x01", b"\xff"),
        "host": ("example.com",),
        ":authority": ("example.com",),
    }
    assert metadata.first("Authorization") == "Bearer x"
    assert metadata.first("missing", "default") == "default"
    assert "X-Thing" in metadata


@pytest.mark.parametrize("value", ["AAE", "!!!!", "AA=E"])
def test_metadata_bad_base64(value):
    with pytest.raises(HeaderError, match="X-Data-Bin: invalid base64"):
        metadata_from_wsgi_environ({"HTTP_X_DATA_BIN": value})


def test_encode_metadata():
    assert encode_metadata("x-foo-bar", ["a", "b"]) == ("X-Foo-Bar", "a,b")
    assert encode_metadata("x-data-bin", [b"\x00\x01", "hi"]) == ("X-Data-Bin", "AAE=,aGk=")
    for reserved in ("content-type", "X-Prpc-Grpc-Code", "access-control-allow-origin", "vary"):
        with pytest.raises(ValueError, match="reserved"):
            encode_metadata(reserved, ["x"])
    with pytest.raises(ValueError, match="line break"):
        encode_metadata("x-foo", ["a\r\nSet-Cookie: x"])
    with pytest.raises(ValueError, match="not a valid header name"):
        encode_metadata("x foo", ["a"])
    with pytest.raises(ValueError, match="-bin"):
        encode_metadata("x-foo", [b"bytes"])


def test_context_response_metadata_and_deadline():
    context = CallContext(service="s.S", method="M")
    context.set_response_metadata("x-a-bin", b"\x01")
    assert context.response_headers == {"X-A-Bin": "AQ=="}
    assert context.full_method == "/s.S/M"
    assert context.time_remaining() is None and not context.deadline_exceeded()
    context.check_deadline()
    context.deadline = 0.0
    with pytest.raises(PrpcError) as raised:
        context.check_deadline()
    assert raised.value.code == Code.DEADLINE_EXCEEDED


# --- CORS (§1.9) ------------------------------------------------------------------------------


def test_cors_headers():
    policy = allow_origins(["https://a.example"], allow_credentials=True, allow_headers=["X-C"])
    assert cors_headers(policy, "https://b.example", preflight=True) == {}
    assert cors_headers(policy, None, preflight=False) == {}
    assert cors_headers(None, "https://a.example", preflight=False) == {}
    assert cors_headers(policy, "https://a.example", preflight=True) == {
        "Access-Control-Allow-Origin": "https://a.example",
        "Vary": "Origin",
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Headers": "X-C, Origin, Content-Type, Accept, Authorization, "
        "X-Prpc-Grpc-Timeout, X-Prpc-Max-Response-Size",
        "Access-Control-Allow-Methods": "OPTIONS, POST",
        "Access-Control-Max-Age": "600",
    }
    assert cors_headers(lambda origin: AccessControl(), "https://x", preflight=False) == {
        "Access-Control-Allow-Origin": "https://x",
        "Vary": "Origin",
        "Access-Control-Expose-Headers": "X-Prpc-Grpc-Code, X-Prpc-Status-Details-Bin",
    }


# --- body reading (§1.2, §1.8) ----------------------------------------------------------------


def _read(body: bytes, *, coding=None, limit=1024, content_length=-1) -> bytes:
    length = len(body) if content_length == -1 else content_length
    return read_body(io.BytesIO(body), content_length=length, coding=coding, limit=limit)


def test_read_plain_body_up_to_the_limit():
    assert _read(b"x" * 1024) == b"x" * 1024
    assert _read(b"") == b""
    with pytest.raises(ProtocolError) as raised:
        _read(b"x" * 1025)
    assert (raised.value.code, raised.value.message) == (
        Code.INVALID_ARGUMENT,
        "reading the request: the request body exceeds the limit of 1024 bytes",
    )


def test_read_without_content_length_still_enforces_the_limit():
    assert _read(b"abc", content_length=None) == b"abc"
    with pytest.raises(ProtocolError, match="body exceeds the limit of 1024 bytes"):
        _read(b"x" * 2000, content_length=None)


def test_short_body_is_cancelled():
    with pytest.raises(ProtocolError) as raised:
        _read(b"abc", content_length=10)
    assert raised.value.code == Code.CANCELLED
    assert "ended after 3 of 10 bytes" in raised.value.message


def test_read_errors():
    class Broken:
        def __init__(self, exc):
            self.exc = exc

        def read(self, size):
            raise self.exc

    with pytest.raises(ProtocolError) as raised:
        read_body(Broken(ConnectionResetError()), content_length=5, coding=None, limit=10)
    assert raised.value.code == Code.CANCELLED
    with pytest.raises(ProtocolError) as raised:
        read_body(Broken(OSError("disk on fire")), content_length=5, coding=None, limit=10)
    assert raised.value.code == Code.INVALID_ARGUMENT
    assert "disk on fire" in raised.value.message


class Trickle:
    """A body arriving a byte at a time, `pause` seconds apart, like a slow client's."""

    def __init__(self, body: bytes, pause: float):
        self.body, self.pause = body, pause

    def read(self, size):
        time.sleep(self.pause)
        chunk, self.body = self.body[:1], self.body[1:]
        return chunk


def test_a_body_that_does_not_arrive_in_time_is_deadline_exceeded():
    with pytest.raises(ProtocolError) as raised:
        read_body(
            Trickle(b"x" * 100, 0.02), content_length=100, coding=None, limit=1000, seconds=0.1
        )
    assert raised.value.code == Code.DEADLINE_EXCEEDED
    assert raised.value.message == "reading the request: the body did not arrive within 0.1 s"


def test_the_watchdog_ends_a_read_that_waits_for_more_than_the_deadline_allows():
    # A server's reader asks for the whole body at once and loops until it has it: only
    # shutting the socket's read side ends that read.
    server, client = socket.socketpair()
    stop = threading.Event()

    def trickle():
        while not stop.wait(0.05):
            try:
                client.send(b"x")
            except OSError:
                return

    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    try:
        with pytest.raises(ProtocolError) as raised:
            read_body(
                server.makefile("rb"),
                content_length=1000,
                coding=None,
                limit=1000,
                seconds=0.3,
                socket=server,
            )
        assert raised.value.code == Code.DEADLINE_EXCEEDED
    finally:
        stop.set()
        sender.join()
        server.close()
        client.close()


def test_a_watched_body_in_time_is_read_whole_and_its_socket_left_open():
    server, client = socket.socketpair()
    with server, client:
        client.sendall(b"abc")
        stream = server.makefile("rb")
        assert read_body(stream, content_length=3, coding=None, limit=10, seconds=5, socket=server)
        client.sendall(b"more")
        assert server.recv(4) == b"more"


def test_a_socket_read_timing_out_is_a_gone_client():
    class Silent:
        def read(self, size):
            raise TimeoutError("timed out")

    with pytest.raises(ProtocolError) as raised:
        read_body(Silent(), content_length=5, coding=None, limit=10)
    assert raised.value.code == Code.CANCELLED


def test_gunzip_exactly_at_the_limit_and_one_over():
    assert _read(gzip.compress(b"y" * 1024), coding="gzip") == b"y" * 1024
    with pytest.raises(ProtocolError) as raised:
        _read(gzip.compress(b"y" * 1025), coding="gzip")
    assert (raised.value.code, raised.value.message) == (
        Code.INVALID_ARGUMENT,
        "decompressing the request: the decompressed body exceeds the limit of 1024 bytes",
    )


def test_gunzip_multi_member_stream():
    body = gzip.compress(b"abc") + gzip.compress(b"def")
    assert _read(body, coding="gzip") == b"abcdef"


@pytest.mark.parametrize(
    "body",
    [b"not gzip at all", gzip.compress(b"abc")[:-5], b"", gzip.compress(b"abc") + b"junk"],
    ids=["garbage", "truncated", "empty", "trailing-junk"],
)
def test_bad_gzip(body):
    with pytest.raises(ProtocolError) as raised:
        _read(body, coding="gzip")
    assert raised.value.code == Code.INVALID_ARGUMENT
    assert raised.value.message.startswith("decompressing the request:")


def test_gzip_bomb_is_refused_without_inflating_it():
    bomb = gzip.compress(b"\0" * (256 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 512 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(ProtocolError, match="decompressed body exceeds the limit"):
            _read(bomb, coding="gzip", limit=1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024


@pytest.mark.parametrize(
    ("header", "coding"),
    [
        (None, None),
        ("", None),
        ("identity", None),
        ("gzip", "gzip"),
        ("GZIP", "gzip"),
        ("x-gzip", "gzip"),
        ("identity, gzip", "gzip"),
    ],
)
def test_content_coding(header, coding):
    assert content_coding(header) == coding


@pytest.mark.parametrize("header", ["br", "deflate", "gzip, gzip"])
def test_unsupported_content_coding(header):
    with pytest.raises(ProtocolError) as raised:
        content_coding(header)
    assert raised.value.http_status == 415


def test_max_request_bytes_default_and_setting(settings):
    assert DEFAULT_MAX_REQUEST_BYTES == 64 * 1024 * 1024
    del settings.PRPC_MAX_REQUEST_BYTES
    assert max_request_bytes() == 64 * 1024 * 1024
    settings.PRPC_MAX_REQUEST_BYTES = 10
    assert max_request_bytes() == 10


# --- declaring services -------------------------------------------------------------------------


def _handlers(**overrides):
    handlers = {name: unimplemented for name in METHODS}
    handlers.update(overrides)
    return handlers


def test_service_resolves_message_classes():
    service = Service(DESCRIPTOR, _handlers())
    assert service.name == "migration.Migration"
    assert list(service.methods) == METHODS
    method = service.methods["FetchActiveRuns"]
    assert method.request_class().DESCRIPTOR.full_name == "migration.FetchActiveRunsRequest"
    assert method.response_class is pb.FetchActiveRunsResponse
    assert service.methods["ReportRuns"].response_class is empty_pb2.Empty


def test_service_rejects_unknown_methods():
    with pytest.raises(ImproperlyConfigured, match=r"unknown methods \['FetchAll'\]"):
        Service(DESCRIPTOR, _handlers(FetchAll=unimplemented))


def test_service_rejects_missing_handlers():
    handlers = _handlers()
    del handlers["ReportUsedNetrc"], handlers["FetchRunStatus"]
    with pytest.raises(
        ImproperlyConfigured, match=r"no handler for \['FetchRunStatus', 'ReportUsedNetrc'\]"
    ):
        Service(DESCRIPTOR, handlers)


def test_service_rejects_bad_declarations():
    with pytest.raises(ImproperlyConfigured, match="ServiceDescriptor"):
        Service(pb.DESCRIPTOR, _handlers())
    with pytest.raises(ImproperlyConfigured, match="not callable"):
        Service(DESCRIPTOR, _handlers(ReportRuns="nope"))
    with pytest.raises(ImproperlyConfigured, match="authenticate is not callable"):
        Service(DESCRIPTOR, _handlers(), authenticate="nope")
    with pytest.raises(ImproperlyConfigured, match="no on_call_finished"):
        Service(DESCRIPTOR, _handlers(), observers=[object()])
    with pytest.raises(ImproperlyConfigured, match="max_request_bytes is not callable"):
        Service(DESCRIPTOR, _handlers(), max_request_bytes=1024)
    with pytest.raises(ImproperlyConfigured, match=r"outside_transaction names unknown .*'Nope'"):
        Service(DESCRIPTOR, _handlers(), outside_transaction=["Nope"])


def test_urlpatterns_reject_duplicate_services():
    from prpc.urls import prpc_urlpatterns

    service = Service(DESCRIPTOR, _handlers())
    with pytest.raises(ValueError, match="declared twice"):
        prpc_urlpatterns([service, service])
    (pattern,) = prpc_urlpatterns([service])
    assert str(pattern.pattern) == "prpc/<str:service>/<str:method>"
