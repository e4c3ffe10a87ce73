"""The pRPC server over real HTTP (live server), item by item of the protocol checklist."""

from __future__ import annotations

import base64
import gzip
import json
import logging
import socket
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group
from django.test import Client as DjangoClient
from google.protobuf import any_pb2, json_format, text_format

from cvproto.migration import migration_pb2 as pb
from prpc import Code
from prpc.codes import generic_server_message, http_status
from prpc.tests.urls import STATE, encoded_runs, rich_run

pytestmark = [pytest.mark.urls("prpc.tests.urls"), pytest.mark.django_db(transaction=True)]

BINARY = "application/prpc; encoding=binary"
JSON = "application/json"
TEXT = "application/prpc; encoding=text"
ERROR_TYPE = "text/plain; charset=utf-8"


def runs_request(project: str) -> bytes:
    return pb.FetchActiveRunsRequest(luci_project=project).SerializeToString()


def run_ids(response) -> list[str]:
    return [run.id for run in pb.FetchActiveRunsResponse.FromString(response.content).active_runs]


def context_info(response) -> dict:
    return json.loads(run_ids(response)[0])


def assert_ok(response, content_type: str = BINARY) -> None:
    assert response.status_code == 200, response.content
    assert response.headers["Content-Type"] == content_type
    assert response.headers["X-Prpc-Grpc-Code"] == "0"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def assert_error(response, status: int, code: int, message: str) -> None:
    assert response.status_code == status, response.content
    assert response.headers["X-Prpc-Grpc-Code"] == str(code)
    assert response.headers["Content-Type"] == ERROR_TYPE
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.content.decode() == message + "\n"


# --- §1.1 endpoint ------------------------------------------------------------------------


def test_binary_round_trip(post):
    response = post("FetchActiveRuns", runs_request("echo:run-42"))
    assert_ok(response)
    assert pb.FetchActiveRunsResponse.FromString(response.content) == (
        pb.FetchActiveRunsResponse(active_runs=[rich_run("run-42")])
    )
    assert "Vary" not in response.headers and "Allow" not in response.headers
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(
    ("service", "method"),
    [
        ("migration.Nope", "FetchActiveRuns"),
        ("Migration", "FetchActiveRuns"),
        ("migration.Migration", "NoSuchMethod"),
        ("migration.Migration", "fetchActiveRuns"),
        ("migration.Migration", "FETCHACTIVERUNS"),
    ],
)
def test_unknown_service_or_method_is_unimplemented(post, service, method):
    response = post(method, runs_request("echo"), {"Authorization": "Bearer bad"}, service=service)
    assert_error(response, 501, Code.UNIMPLEMENTED, "API method not implemented by the server")
    assert STATE.observed == []


def test_declared_but_unimplemented_method(post):
    response = post("FetchRunStatus", b"")
    assert_error(response, 501, Code.UNIMPLEMENTED, "API method not implemented by the server")


def test_unimplemented_message_shown_when_exposed(post, settings):
    settings.PRPC_EXPOSE_SERVER_ERROR_MESSAGES = True
    assert_error(
        post("FetchRunStatus", b""),
        501,
        Code.UNIMPLEMENTED,
        "method /migration.Migration/FetchRunStatus is not implemented",
    )
    assert_error(post("Nope", b""), 501, Code.UNIMPLEMENTED, 'method "Nope" is not implemented')


@pytest.mark.parametrize("verb", ["GET", "PUT", "DELETE", "PATCH", "HEAD"])
@pytest.mark.parametrize("method", ["FetchActiveRuns", "NoSuchMethod"])
def test_other_verbs_are_not_allowed_and_not_prpc(post, verb, method):
    response = post(method, b"", http_method=verb)
    assert response.status_code == 405
    assert response.headers["Allow"] == "OPTIONS, POST"
    assert "X-Prpc-Grpc-Code" not in response.headers
    assert response.headers["Content-Type"] == ERROR_TYPE
    if verb != "HEAD":
        assert response.text == f"method {verb} not allowed; pRPC uses POST\n"


def test_options_without_cors(post):
    response = post("FetchActiveRuns", http_method="OPTIONS")
    assert response.status_code == 200
    assert response.content == b""
    assert not [h for h in response.headers if h.lower().startswith("access-control-")]
    assert "X-Prpc-Grpc-Code" not in response.headers


def test_no_csrf_token_needed_and_no_drf_error_bodies():
    # Django's test client enforces CSRF checks when asked to; the view must be exempt.
    client = DjangoClient(enforce_csrf_checks=True)
    response = client.post(
        "/prpc/migration.Migration/FetchActiveRuns",
        data=b"{",
        content_type="application/json",
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert response["Content-Type"] == ERROR_TYPE
    assert response.content.startswith(b"could not decode body: ")


def test_server_sets_no_date_header():
    response = DjangoClient().post(
        "/prpc/migration.Migration/FetchActiveRuns",
        data=runs_request("echo"),
        content_type="application/prpc",
    )
    assert response.status_code == 200
    assert "Date" not in response


# --- §1.2 request decoding ------------------------------------------------------------------

CONTENT_TYPE_ROWS = [
    (None, "binary"),
    ("application/prpc", "binary"),
    ("application/prpc; encoding=binary", "binary"),
    ("application/prpc; encoding=json", "json"),
    ("application/json", "json"),
    ("application/json; charset=utf-8", "json"),
    ("application/prpc; encoding=text", "text"),
    ("*/*", "binary"),
    ("application/*", "binary"),
    ("application/grpc", "binary"),
]


def encode(message, fmt: str) -> bytes:
    if fmt == "binary":
        return message.SerializeToString()
    if fmt == "json":
        return json_format.MessageToJson(message).encode()
    return text_format.MessageToString(message).encode()


@pytest.mark.parametrize(("content_type", "fmt"), CONTENT_TYPE_ROWS)
def test_request_content_types(post, content_type, fmt):
    body = encode(pb.FetchActiveRunsRequest(luci_project="context"), fmt)
    headers = {"Content-Type": content_type} if content_type else {}
    response = post("FetchActiveRuns", body, headers)
    assert_ok(response)
    assert context_info(response)["request_format"] == fmt


@pytest.mark.parametrize(
    ("content_type", "reason"),
    [
        ("application/prpc; boo=true", "unexpected parameter 'boo' for application/prpc"),
        ("application/prpc; encoding=blah", "invalid encoding 'blah' for application/prpc"),
        ("text/html", "unsupported media type 'text/html'"),
        ("text/plain; charset=utf-8", "unsupported media type 'text/plain'"),
        ("application/x-protobuf", "unsupported media type 'application/x-protobuf'"),
        ("application/json; charset", "malformed parameter 'charset'"),
    ],
)
def test_bad_content_type_is_415(post, content_type, reason):
    response = post("FetchActiveRuns", runs_request("echo"), {"Content-Type": content_type})
    assert response.status_code == 415
    assert response.headers["X-Prpc-Grpc-Code"] == str(Code.INVALID_ARGUMENT)
    assert response.headers["Content-Type"] == ERROR_TYPE
    assert response.text.startswith("bad Content-Type header: ")
    assert reason in response.text


def test_bare_text_plain_is_415_outside_wsgiref():
    response = DjangoClient().post(
        "/prpc/migration.Migration/FetchActiveRuns",
        data=runs_request("echo"),
        content_type="text/plain",
    )
    assert response.status_code == 415
    assert response["X-Prpc-Grpc-Code"] == "3"


def test_bare_text_plain_under_wsgiref_means_no_content_type(post):
    # wsgiref invents "text/plain" for requests without Content-Type; see negotiation.py.
    response = post("FetchActiveRuns", runs_request("context"), {"Content-Type": "text/plain"})
    assert_ok(response)
    assert context_info(response)["request_format"] == "binary"


@pytest.mark.parametrize(
    "content_type", [None, "application/prpc; encoding=text"], ids=["binary", "text"]
)
def test_empty_body_is_the_default_message(post, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = post("FetchExcludedCLs", b"", headers)
    assert_ok(response)
    assert STATE.requests["FetchExcludedCLs"] == pb.FetchExcludedCLsRequest()
    cls = pb.FetchExcludedCLsResponse.FromString(response.content).cls
    assert [(c.host, c.change) for c in cls] == [("default-request", 1)]


def test_empty_json_body_is_rejected(post):
    response = post("FetchExcludedCLs", b"", {"Content-Type": "application/json"})
    assert_error(
        response,
        400,
        Code.INVALID_ARGUMENT,
        "could not decode body: empty body is not a JSON migration.FetchExcludedCLsRequest",
    )


@pytest.mark.parametrize(
    ("content_type", "body", "reason"),
    [
        (None, b"\x0a\x05ab", "not a binary migration.FetchActiveRunsRequest"),
        ("application/json", b'{"luciProject": ', "not a JSON migration.FetchActiveRunsRequest"),
        ("application/json", b'{"luciProject": 12}', "luciProject"),
        ("application/json", b"[1, 2]", "not a JSON migration.FetchActiveRunsRequest"),
        ("application/json", b'"\xff"', "not valid UTF-8"),
        (TEXT, b"luci_project: 12 13", "not a text-format migration.FetchActiveRunsRequest"),
    ],
)
def test_undecodable_body_is_400(post, content_type, body, reason):
    headers = {"Content-Type": content_type} if content_type else {}
    response = post("FetchActiveRuns", body, headers)
    assert response.status_code == 400
    assert response.headers["X-Prpc-Grpc-Code"] == "3"
    assert response.text.startswith("could not decode body: ")
    assert reason in response.text
    assert "FetchActiveRuns" not in STATE.requests


VERIFIED_RUN = pb.ReportVerifiedRunRequest(
    run=pb.ReportedRun(id="run-1"),
    action=pb.ReportVerifiedRunRequest.ACTION_FAIL,
    final_message="tryjobs failed",
)
VERIFIED_RUN.run.attempt.key = "attempt-key"
VERIFIED_RUN.run.attempt.start_time.FromSeconds(1700000000)
change = VERIFIED_RUN.run.attempt.gerrit_changes.add()
change.host, change.change, change.patchset, change.mode = "h", 9007199254740993, 4, 2


@pytest.mark.parametrize(
    "document",
    [
        {
            "run": {
                "id": "run-1",
                "attempt": {
                    "key": "attempt-key",
                    "startTime": "2023-11-14T22:13:20Z",
                    "gerritChanges": [
                        {
                            "host": "h",
                            "change": "9007199254740993",
                            "patchset": 4,
                            "mode": "FULL_RUN",
                        }
                    ],
                },
            },
            "action": "ACTION_FAIL",
            "finalMessage": "tryjobs failed",
        },
        {
            "run": {
                "id": "run-1",
                "attempt": {
                    "key": "attempt-key",
                    "start_time": "2023-11-14T23:13:20+01:00",
                    "gerrit_changes": [
                        {"host": "h", "change": 9007199254740993, "patchset": "4", "mode": 2}
                    ],
                },
            },
            "action": 3,
            "final_message": "tryjobs failed",
        },
    ],
    ids=["camelCase-names-strings", "snake_case-numbers"],
)
def test_json_request_mapping(post, document):
    response = post(
        "ReportVerifiedRun", json.dumps(document).encode(), {"Content-Type": "application/json"}
    )
    assert_ok(response)
    assert response.content == b""
    assert STATE.requests["ReportVerifiedRun"] == VERIFIED_RUN


def test_unknown_fields_are_ignored_in_every_format(post):
    json_body = b'{"luciProject": "context", "futureField": {"x": [1, 2]}, "other": null}'
    response = post("FetchActiveRuns", json_body, {"Content-Type": "application/json"})
    assert_ok(response)
    assert context_info(response)["request_format"] == "json"

    text_body = b'luci_project: "context" future_field: 7 nested { a: "b" }'
    response = post("FetchActiveRuns", text_body, {"Content-Type": TEXT})
    assert_ok(response)
    assert context_info(response)["request_format"] == "text"

    binary_body = runs_request("context") + b"\xa2\x06\x03abc"  # field 100, length-delimited
    response = post("FetchActiveRuns", binary_body)
    assert_ok(response)


@pytest.mark.parametrize("fmt", ["binary", "json", "text"])
def test_gzip_request_bodies(post, fmt):
    body = encode(pb.FetchActiveRunsRequest(luci_project="echo:zipped"), fmt)
    content_type = {"binary": BINARY, "json": JSON, "text": TEXT}[fmt]
    response = post(
        "FetchActiveRuns",
        gzip.compress(body),
        {"Content-Type": content_type, "Content-Encoding": "gzip"},
    )
    assert_ok(response)
    assert run_ids(response) == ["zipped"]


def test_bad_gzip_is_400(post):
    response = post("FetchActiveRuns", runs_request("echo"), {"Content-Encoding": "gzip"})
    assert response.status_code == 400
    assert response.headers["X-Prpc-Grpc-Code"] == "3"
    assert response.text.startswith("decompressing the request: invalid gzip data")


def test_truncated_gzip_is_400(post):
    body = gzip.compress(runs_request("echo"))[:-4]
    response = post("FetchActiveRuns", body, {"Content-Encoding": "gzip"})
    assert_error(
        response,
        400,
        Code.INVALID_ARGUMENT,
        "decompressing the request: the gzip stream is empty or truncated",
    )


def test_unsupported_content_encoding_is_415(post):
    response = post("FetchActiveRuns", runs_request("echo"), {"Content-Encoding": "br"})
    assert_error(
        response,
        415,
        Code.INVALID_ARGUMENT,
        "unsupported Content-Encoding 'br': only gzip is supported",
    )


# --- §1.8 size limits ---------------------------------------------------------------------


def sized_request(total: int) -> bytes:
    """A FetchActiveRunsRequest ("echo:xxx...") whose encoding is exactly `total` bytes."""
    body = runs_request("echo:" + "x" * (total - 3 - 5))
    assert len(body) == total
    return body


def test_request_exactly_at_the_limit_passes(post, settings):
    settings.PRPC_MAX_REQUEST_BYTES = 1024
    response = post("FetchActiveRuns", sized_request(1024))
    assert_ok(response)
    assert run_ids(response) == ["x" * 1016]


def test_request_over_the_limit_is_invalid_and_names_the_limit(post, settings):
    settings.PRPC_MAX_REQUEST_BYTES = 1024
    response = post("FetchActiveRuns", sized_request(1025))
    assert_error(
        response,
        400,
        Code.INVALID_ARGUMENT,
        "reading the request: the request body exceeds the limit of 1024 bytes",
    )
    assert "FetchActiveRuns" not in STATE.requests


def test_a_method_limit_is_enforced_and_the_server_limit_still_caps_it(post, settings):
    STATE.method_limits["FetchActiveRuns"] = 200
    over = post("FetchActiveRuns", sized_request(201))
    assert_error(
        over,
        400,
        Code.INVALID_ARGUMENT,
        "reading the request: the request body exceeds the limit of 200 bytes",
    )
    assert "FetchActiveRuns" not in STATE.requests
    assert_ok(post("FetchActiveRuns", sized_request(200)))
    STATE.method_limits["FetchActiveRuns"] = 10_000
    settings.PRPC_MAX_REQUEST_BYTES = 1024
    assert post("FetchActiveRuns", sized_request(1025)).status_code == 400


def test_a_body_too_large_for_its_method_is_refused_before_authentication_succeeds(post):
    STATE.method_limits["FetchActiveRuns"] = 200
    response = post("FetchActiveRuns", sized_request(201), {"Authorization": "Bearer bad"})
    assert response.status_code == 401  # the headers decide first: no token, no body read


def test_decompressed_size_limit(post, settings):
    settings.PRPC_MAX_REQUEST_BYTES = 1024
    at_limit = post(
        "FetchActiveRuns", gzip.compress(sized_request(1024)), {"Content-Encoding": "gzip"}
    )
    assert_ok(at_limit)
    over = post("FetchActiveRuns", gzip.compress(sized_request(1025)), {"Content-Encoding": "gzip"})
    assert_error(
        over,
        400,
        Code.INVALID_ARGUMENT,
        "decompressing the request: the decompressed body exceeds the limit of 1024 bytes",
    )


def test_gzip_bomb_is_refused(post, settings):
    settings.PRPC_MAX_REQUEST_BYTES = 1024 * 1024
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < settings.PRPC_MAX_REQUEST_BYTES
    response = post("FetchActiveRuns", bomb, {"Content-Encoding": "gzip"})
    assert response.status_code == 400
    assert response.headers["X-Prpc-Grpc-Code"] == "3"
    assert "decompressed body exceeds the limit of 1048576 bytes" in response.text


def test_body_shorter_than_content_length_is_cancelled(base_url):
    url = urlsplit(base_url)
    request = (
        "POST /prpc/migration.Migration/FetchActiveRuns HTTP/1.1\r\n"
        f"Host: {url.netloc}\r\nContent-Length: 100\r\nConnection: close\r\n\r\n"
    ).encode() + b"\x0a\x03abc"
    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        conn.sendall(request)
        conn.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 499 ")
    assert b"\r\nX-Prpc-Grpc-Code: 1\r\n" in head
    assert body == b"reading the request: the body ended after 5 of 100 bytes\n"


# --- §1.3 Accept ----------------------------------------------------------------------------

ACCEPT_ROWS = [
    (None, BINARY),
    ("*/*", BINARY),
    ("application/*", BINARY),
    (JSON, JSON),
    ("application/prpc; encoding=json", JSON),
    (TEXT, TEXT),
    ("application/prpc", BINARY),
    (f"{JSON}, {BINARY}", BINARY),
    (f"{JSON}, {BINARY};q=0.9", JSON),
    (f"{JSON};q=0.9, {TEXT}", TEXT),
    (f"{JSON}, {BINARY};q=0.9, */*;q=0.8", JSON),
    (f"{JSON}, foo/bar", JSON),
    (f"{TEXT}, {JSON}", JSON),
]


@pytest.mark.parametrize(("accept", "content_type"), ACCEPT_ROWS)
def test_accept_negotiation(post, accept, content_type):
    headers = {"Accept": accept} if accept else {}
    response = post("FetchActiveRuns", runs_request("echo:neg"), headers)
    assert_ok(response, content_type)
    expected = pb.FetchActiveRunsResponse(active_runs=[rich_run("neg")])
    if content_type == BINARY:
        assert pb.FetchActiveRunsResponse.FromString(response.content) == expected
    elif content_type == JSON:
        assert response.content.startswith(b")]}'\n{") and response.content.endswith(b"}\n")
        parsed = json_format.Parse(response.content[5:], pb.FetchActiveRunsResponse())
        assert parsed == expected
    else:
        assert text_format.Parse(response.text, pb.FetchActiveRunsResponse()) == expected


@pytest.mark.parametrize("accept", [BINARY, JSON, TEXT])
def test_handler_may_answer_with_the_encoded_response(post, accept):
    response = post("FetchActiveRuns", runs_request("encoded:enc"), {"Accept": accept})
    assert_ok(response, accept)
    expected = pb.FetchActiveRunsResponse(active_runs=[rich_run("enc")])
    if accept == BINARY:
        assert response.content == encoded_runs("enc")  # sent as it is, not re-encoded
        assert response.content != expected.SerializeToString()
        assert pb.FetchActiveRunsResponse.FromString(response.content) == expected
    elif accept == JSON:
        assert response.content.startswith(b")]}'\n{")
        assert json_format.Parse(response.content[5:], pb.FetchActiveRunsResponse()) == expected
    else:
        assert text_format.Parse(response.text, pb.FetchActiveRunsResponse()) == expected


def test_json_response_is_canonical(post):
    response = post("FetchActiveRuns", runs_request("echo:j"), {"Accept": JSON})
    assert_ok(response, JSON)
    assert response.content.startswith(b")]}'\n")
    assert json.loads(response.content[5:]) == {
        "activeRuns": [
            {
                "id": "j",
                "cls": [
                    {
                        "id": "8765432109876543210",
                        "gc": {
                            "host": "chromium-review.googlesource.com",
                            "change": "123",
                            "submitStatus": "SUCCESS",
                        },
                        "files": ["a.txt", "b/ü.txt"],
                        "trigger": {
                            "time": "2023-11-14T22:23:20.500Z",
                            "accountId": "1",
                            "email": "t@example.com",
                        },
                        "deps": [{"id": "7", "hard": True}, {"id": "8"}],
                    }
                ],
            }
        ]
    }


def test_json_response_exact_bytes(post):
    response = post("FetchExcludedCLs", b"", {"Accept": JSON})
    assert_ok(response, JSON)
    assert response.content == b')]}\'\n{"cls":[{"host":"default-request","change":"1"}]}\n'
    empty = post("ReportRuns", b"", {"Accept": JSON})
    assert_ok(empty, JSON)
    assert empty.content == b")]}'\n{}\n"


@pytest.mark.parametrize(
    "accept",
    ["blah", "text/html", "application/prpc; encoding=blah", "application/prpc; boo=true"],
)
def test_unsatisfiable_accept_is_406(post, accept):
    response = post("FetchActiveRuns", runs_request("echo"), {"Accept": accept})
    assert response.status_code == 406
    assert response.headers["X-Prpc-Grpc-Code"] == "3"
    assert response.headers["Content-Type"] == ERROR_TYPE
    assert response.text.startswith(f"bad Accept header: {accept!r} names no supported format")
    assert "FetchActiveRuns" not in STATE.requests


def test_bad_accept_q_is_400(post):
    response = post("FetchActiveRuns", runs_request("echo"), {"Accept": f"{JSON};q=high"})
    assert_error(
        response,
        400,
        Code.INVALID_ARGUMENT,
        "bad Accept header: q parameter of 'application/json;q=high': "
        "expected a number, got 'high'",
    )


def test_bad_accept_encoding_q_is_400(post):
    response = post("FetchActiveRuns", runs_request("echo"), {"Accept-Encoding": "gzip;q=x"})
    assert_error(
        response,
        400,
        Code.INVALID_ARGUMENT,
        "bad Accept-Encoding header: q parameter of 'gzip;q=x': expected a number, got 'x'",
    )


# --- §1.4 successful responses ----------------------------------------------------------


def test_large_responses_are_gzipped_when_accepted(post):
    response = post(
        "FetchActiveRuns", runs_request("big:5000"), {"Accept-Encoding": "gzip"}, stream=True
    )
    assert_ok(response)
    assert response.headers["Content-Encoding"] == "gzip"
    raw = response.raw.read(decode_content=False)
    assert len(raw) < 200
    assert run_ids_from(gzip.decompress(raw)) == ["x" * 5000]


def run_ids_from(content: bytes) -> list[str]:
    return [run.id for run in pb.FetchActiveRunsResponse.FromString(content).active_runs]


@pytest.mark.parametrize(
    ("project", "accept_encoding"),
    [("big:1000", "gzip"), ("big:5000", None), ("big:5000", "gzip;q=0"), ("big:5000", "br")],
)
def test_responses_not_gzipped(post, project, accept_encoding):
    headers = {"Accept-Encoding": accept_encoding} if accept_encoding else {}
    response = post("FetchActiveRuns", runs_request(project), headers, stream=True)
    assert_ok(response)
    assert "Content-Encoding" not in response.headers
    assert run_ids_from(response.raw.read()) == ["x" * int(project[4:])]


def test_response_gzip_can_be_switched_off(post, settings):
    settings.PRPC_COMPRESS_RESPONSES = False
    response = post("FetchActiveRuns", runs_request("big:5000"), {"Accept-Encoding": "gzip"})
    assert_ok(response)
    assert "Content-Encoding" not in response.headers


def test_handler_metadata_becomes_response_headers(post):
    response = post("FetchActiveRuns", runs_request("metadata"))
    assert_ok(response)
    assert response.headers["X-Echo"] == "plain value"
    assert response.headers["X-Echo-Bin"] == "AP8=,b2s="


def test_handler_metadata_on_errors_too(post):
    response = post("FetchActiveRuns", runs_request("metadata:fail"))
    assert_error(response, 404, Code.NOT_FOUND, "no such run")
    assert response.headers["X-Echo"] == "plain value"


def test_handler_cannot_set_reserved_headers(post, caplog):
    response = post("FetchActiveRuns", runs_request("reserved-metadata"))
    assert_error(response, 500, Code.INTERNAL, "Internal server error")
    assert "reserved by the pRPC protocol" in caplog.text


def test_max_response_size_enforced(post):
    response = post("FetchActiveRuns", runs_request("big:500"), {"X-Prpc-Max-Response-Size": "100"})
    assert_error(
        response,
        503,
        Code.UNAVAILABLE,
        "prpc: the response size 506 exceeds the client limit 100",
    )
    roomy = post("FetchActiveRuns", runs_request("big:500"), {"X-Prpc-Max-Response-Size": "506"})
    assert_ok(roomy)


@pytest.mark.parametrize("value", ["not-an-int", "0", "-1", "1.5"])
def test_bad_max_response_size_is_400(post, value):
    response = post("FetchActiveRuns", runs_request("echo"), {"X-Prpc-Max-Response-Size": value})
    assert_error(
        response,
        400,
        Code.INVALID_ARGUMENT,
        f"bad request headers: X-Prpc-Max-Response-Size {value!r} is not a positive integer",
    )


# --- §1.5 / §1.6 errors ---------------------------------------------------------------------

ALL_CODES = [c for c in Code if c != Code.OK] + [17, 99]


@pytest.mark.parametrize("code", ALL_CODES, ids=lambda c: str(int(c)))
def test_error_status_table(post, code):
    request = pb.PostGerritMessageRequest(change=int(code), comment=f"custom message {int(code)}")
    response = post("PostGerritMessage", request.SerializeToString())
    status = http_status(code)
    expected = f"custom message {int(code)}" if status < 500 else generic_server_message(code)
    assert_error(response, status, int(code), expected)


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (Code.DATA_LOSS, "Unrecoverable data loss or data corruption"),
        (Code.UNKNOWN, "Unknown server error"),
        (Code.INTERNAL, "Internal server error"),
        (Code.UNIMPLEMENTED, "API method not implemented by the server"),
        (Code.UNAVAILABLE, "Service unavailable"),
        (Code.DEADLINE_EXCEEDED, "Request deadline exceeded"),
        (99, "Server error"),
    ],
)
def test_server_error_messages_are_hidden_but_logged(post, caplog, code, text):
    request = pb.PostGerritMessageRequest(change=int(code), comment="secret detail")
    with caplog.at_level(logging.WARNING, logger="prpc"):
        response = post("PostGerritMessage", request.SerializeToString())
    assert response.text == text + "\n"
    assert any(r.name == "prpc" and "secret detail" in r.getMessage() for r in caplog.records)


def test_server_error_messages_can_be_exposed(post, settings):
    settings.PRPC_EXPOSE_SERVER_ERROR_MESSAGES = True
    request = pb.PostGerritMessageRequest(change=Code.UNAVAILABLE, comment="run not known yet")
    response = post("PostGerritMessage", request.SerializeToString())
    assert_error(response, 503, Code.UNAVAILABLE, "run not known yet")


def test_error_without_message_names_the_code(post):
    request = pb.PostGerritMessageRequest(change=Code.NOT_FOUND)
    assert_error(post("PostGerritMessage", request.SerializeToString()), 404, 5, "not found")


def test_unexpected_exception_is_internal_and_logged(post, caplog):
    with caplog.at_level(logging.ERROR, logger="prpc"):
        response = post("FetchActiveRuns", runs_request("crash"), {"Accept": JSON})
    assert_error(response, 500, Code.INTERNAL, "Internal server error")
    assert "hunter2" not in response.text
    (record,) = [r for r in caplog.records if r.name == "prpc" and r.levelno == logging.ERROR]
    assert record.getMessage().endswith("unexpected error serving the call")
    assert "/migration.Migration/FetchActiveRuns" in record.getMessage()
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)
    assert "database password is hunter2" in caplog.text  # the traceback is in the log
    assert "Traceback" in caplog.text


@pytest.mark.parametrize(
    ("method", "body", "returned"),
    [
        ("ReportUsedNetrc", b"", "NoneType"),
        ("ReportFinishedRun", b"", "FetchRunStatusResponse"),
        ("FetchActiveRuns", runs_request("encoded-wrong"), "FetchRunStatusResponse"),
    ],
)
def test_handler_returning_the_wrong_thing_is_internal(post, caplog, method, body, returned):
    response = post(method, body)
    assert_error(response, 500, Code.INTERNAL, "Internal server error")
    assert f"handler of /migration.Migration/{method} returned {returned}" in caplog.text


@pytest.mark.parametrize("accept", [None, JSON, TEXT])
def test_status_details_in_the_response_encoding(post, accept):
    headers = {"Accept": accept} if accept else {}
    response = post("FetchActiveRuns", runs_request("details"), headers)
    assert_error(response, 400, Code.FAILED_PRECONDITION, "has details")
    chunks = [base64.b64decode(c) for c in response.headers["X-Prpc-Status-Details-Bin"].split(",")]
    assert len(chunks) == 2
    details = []
    for chunk in chunks:
        packed = any_pb2.Any()
        if accept == JSON:
            json_format.Parse(chunk, packed)
        elif accept == TEXT:
            text_format.Parse(chunk.decode(), packed)
        else:
            packed.ParseFromString(chunk)
        details.append(packed)
    first, second = pb.FetchRunStatusResponse(), pb.ActiveRun()
    assert details[0].Unpack(first) and first.event == "e1"
    assert details[1].Unpack(second) and second.id == "r2"


def test_no_details_header_without_details(post):
    response = post("FetchActiveRuns", runs_request("nonsense-verb"))
    assert_error(response, 400, Code.INVALID_ARGUMENT, "unknown test verb 'nonsense-verb'")
    assert "X-Prpc-Status-Details-Bin" not in response.headers


# --- §1.7 request headers: timeout and metadata ------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("2H", 7200.0),
        ("3M", 180.0),
        ("10S", 10.0),
        ("1500m", 1.5),
        ("30000000u", 30.0),
        ("40000000000n", 40.0),
    ],
)
def test_timeout_units(post, value, seconds):
    response = post("FetchActiveRuns", runs_request("context"), {"X-Prpc-Grpc-Timeout": value})
    assert_ok(response)
    info = context_info(response)
    assert info["timeout"] == pytest.approx(seconds)
    assert seconds - 1 < info["remaining"] < seconds


def test_no_timeout_means_no_deadline(post):
    info = context_info(post("FetchActiveRuns", runs_request("context")))
    assert info["timeout"] is None and info["remaining"] is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("S", "'S' is too short"),
        ("5", "'5' is too short"),
        ("5x", "'5x' has unknown unit 'x' (expected one of H, M, S, m, u, n)"),
        ("5s", "'5s' has unknown unit 's' (expected one of H, M, S, m, u, n)"),
        ("1.5S", "'1.5S': '1.5' is not a whole number"),
        ("-5S", "'-5S': '-5' is not a whole number"),
        ("abcS", "'abcS': 'abc' is not a whole number"),
    ],
)
def test_bad_timeout_is_400(post, value, reason):
    response = post("FetchActiveRuns", runs_request("echo"), {"X-Prpc-Grpc-Timeout": value})
    assert_error(
        response, 400, Code.INVALID_ARGUMENT, f"bad request headers: X-Prpc-Grpc-Timeout {reason}"
    )


@pytest.mark.parametrize("value", ["1n", "5u", "0S"])
def test_expired_deadline_skips_the_handler(post, value):
    response = post("FetchActiveRuns", runs_request("write:never"), {"X-Prpc-Grpc-Timeout": value})
    assert_error(
        response,
        504,
        Code.DEADLINE_EXCEEDED,
        "the request deadline passed before the handler ran",
    )
    assert "FetchActiveRuns" not in STATE.requests
    assert not Group.objects.filter(name="never").exists()


def test_deadline_passed_during_handler_rolls_back(post):
    response = post(
        "FetchActiveRuns", runs_request("sleep-write:0.5:late"), {"X-Prpc-Grpc-Timeout": "200m"}
    )
    assert_error(
        response,
        504,
        Code.DEADLINE_EXCEEDED,
        "the request deadline passed while the handler ran; its changes were rolled back",
    )
    assert STATE.requests["FetchActiveRuns"].luci_project == "sleep-write:0.5:late"
    assert not Group.objects.filter(name="late").exists()


def test_handler_within_deadline_commits(post):
    response = post(
        "FetchActiveRuns", runs_request("sleep-write:0.1:in-time"), {"X-Prpc-Grpc-Timeout": "30S"}
    )
    assert_ok(response)
    assert run_ids(response) == ["in-time"]
    assert Group.objects.filter(name="in-time").exists()


def test_handler_error_rolls_back(post):
    response = post("FetchActiveRuns", runs_request("write-then-fail:doomed"))
    assert_error(response, 400, Code.FAILED_PRECONDITION, "wrote doomed and then failed")
    assert not Group.objects.filter(name="doomed").exists()


def test_handler_can_stop_at_the_deadline(post):
    response = post(
        "FetchActiveRuns", runs_request("sleep-check:0.3"), {"X-Prpc-Grpc-Timeout": "100m"}
    )
    assert_error(response, 504, Code.DEADLINE_EXCEEDED, "Request deadline exceeded")


def test_metadata_reaches_the_handler(post, base_url):
    response = post(
        "FetchActiveRuns",
        encode(pb.FetchActiveRunsRequest(luci_project="context"), "json"),
        {
            "Content-Type": "application/json; charset=utf-8",
            "Accept": f"{BINARY}, {JSON};q=0.5",
            "Authorization": "Bearer good",
            "X-Custom": "a value, with commas",
            "X-Data-Bin": "AAE=, /w==",
            "X-Prpc-Grpc-Timeout": "5S",
            "X-Prpc-Something": "reserved",
            "Accept-Encoding": "identity",
            "X-Content-Type-Options": "nosniff",
        },
    )
    assert_ok(response)
    info = context_info(response)
    assert info["metadata"] == {
        "authorization": ["Bearer good"],
        "x-custom": ["a value, with commas"],
        "x-data-bin": ["b64:AAE=", "b64:/w=="],
        "host": [urlsplit(base_url).netloc],
        ":authority": [urlsplit(base_url).netloc],
        "user-agent": [info["metadata"]["user-agent"][0]],
        "connection": ["keep-alive"],
    }
    assert info["service"] == "migration.Migration"
    assert info["method"] == "FetchActiveRuns"
    assert info["full_method"] == "/migration.Migration/FetchActiveRuns"
    assert info["remote_addr"] == "127.0.0.1"
    assert (info["request_format"], info["response_format"]) == ("json", "binary")


@pytest.mark.parametrize("value", ["AAE", "not base64!", "AAE=,%%%"])
def test_bad_bin_metadata_is_400(post, value):
    response = post("FetchActiveRuns", runs_request("echo"), {"X-Data-Bin": value})
    assert response.status_code == 400
    assert response.headers["X-Prpc-Grpc-Code"] == "3"
    assert response.text.startswith("bad request headers: header X-Data-Bin: invalid base64")


# --- §1.9 CORS ------------------------------------------------------------------------------


def test_preflight_for_an_allowed_origin_with_credentials(post):
    response = post(
        "FetchActiveRuns", http_method="OPTIONS", headers={"Origin": "https://creds.example"}
    )
    assert response.status_code == 200 and response.content == b""
    assert response.headers["Access-Control-Allow-Origin"] == "https://creds.example"
    assert response.headers["Vary"] == "Origin"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Access-Control-Allow-Headers"] == (
        "X-Custom, Origin, Content-Type, Accept, Authorization, X-Prpc-Grpc-Timeout, "
        "X-Prpc-Max-Response-Size"
    )
    assert response.headers["Access-Control-Allow-Methods"] == "OPTIONS, POST"
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert "Access-Control-Expose-Headers" not in response.headers


def test_preflight_without_credentials(post):
    response = post(
        "FetchActiveRuns", http_method="OPTIONS", headers={"Origin": "https://nocreds.example"}
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://nocreds.example"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert response.headers["Access-Control-Allow-Headers"].startswith("Origin, Content-Type")


def test_preflight_for_a_foreign_origin_has_no_cors_headers(post):
    response = post(
        "FetchActiveRuns", http_method="OPTIONS", headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 200 and response.content == b""
    assert not [h for h in response.headers if h.lower().startswith("access-control-")]


@pytest.mark.parametrize("project", ["echo", "crash"])
def test_cors_headers_on_calls(post, project):
    response = post("FetchActiveRuns", runs_request(project), {"Origin": "https://nocreds.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://nocreds.example"
    assert response.headers["Vary"] == "Origin"
    assert response.headers["Access-Control-Expose-Headers"] == (
        "X-Prpc-Grpc-Code, X-Prpc-Status-Details-Bin"
    )
    assert "Access-Control-Allow-Credentials" not in response.headers
    foreign = post("FetchActiveRuns", runs_request(project), {"Origin": "https://evil.example"})
    assert not [h for h in foreign.headers if h.lower().startswith("access-control-")]


def test_cors_headers_on_unknown_methods(post):
    response = post("Nope", b"", {"Origin": "https://creds.example"})
    assert response.status_code == 501
    assert response.headers["Access-Control-Allow-Origin"] == "https://creds.example"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"


# --- authentication and observers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "principal"),
    [(None, "anonymous:anonymous"), ("Bearer good", "user:good@example.com")],
)
def test_principal_from_authenticate(post, authorization, principal):
    headers = {"Authorization": authorization} if authorization else {}
    response = post("FetchActiveRuns", runs_request("whoami"), headers)
    assert_ok(response)
    assert run_ids(response) == [principal]


@pytest.mark.parametrize(
    ("token", "status", "code", "message"),
    [
        ("forbidden", 403, Code.PERMISSION_DENIED, "user:forbidden@example.com may not call this"),
        ("bad", 401, Code.UNAUTHENTICATED, "the access token is not valid"),
        ("broken", 500, Code.INTERNAL, "Internal server error"),
    ],
)
def test_authentication_failures(post, caplog, token, status, code, message):
    response = post(
        "FetchActiveRuns", runs_request("write:x"), {"Authorization": f"Bearer {token}"}
    )
    assert_error(response, status, code, message)
    assert "FetchActiveRuns" not in STATE.requests
    if token == "broken":
        assert "token store unreachable" in caplog.text


@pytest.mark.parametrize(
    ("seconds", "nanos", "reason"),
    [
        (253_402_300_800, 0, "seconds 253402300800 is outside 0001-01-01..9999-12-31"),
        (-62_135_596_801, 0, "seconds -62135596801 is outside 0001-01-01..9999-12-31"),
        (0, 1_000_000_000, "nanos 1000000000 is outside 0..999999999"),
        (0, -1, "nanos -1 is outside 0..999999999"),
    ],
)
def test_a_timestamp_outside_the_spec_is_invalid_wherever_it_is(post, seconds, nanos, reason):
    request = pb.ReportRunsRequest()
    request.runs.add().attempt.start_time.seconds = 1
    changes = request.runs.add().attempt.gerrit_changes
    changes.add()
    bad = changes.add().trigger_time
    bad.seconds, bad.nanos = seconds, nanos
    response = post("ReportRuns", request.SerializeToString())
    assert response.status_code == 400
    assert response.text.startswith(
        f"bad request: runs[1].attempt.gerrit_changes[1].trigger_time: {reason}"
    )
    assert "ReportRuns" not in STATE.requests


@pytest.mark.parametrize(
    ("seconds", "nanos"), [(-62_135_596_800, 0), (253_402_300_799, 999_999_999)]
)
def test_the_first_and_last_instants_of_the_spec_are_accepted(post, seconds, nanos):
    request = pb.ReportRunsRequest()
    start = request.runs.add().attempt.start_time
    start.seconds, start.nanos = seconds, nanos
    assert_ok(post("ReportRuns", request.SerializeToString()))


def test_a_database_outage_is_unavailable_with_one_log_line(post, caplog):
    with caplog.at_level("WARNING", logger="prpc"):
        response = post("FetchActiveRuns", runs_request("db-down"))
    assert_error(response, 503, Code.UNAVAILABLE, "Service unavailable")
    records = [r for r in caplog.records if r.name == "prpc"]
    assert [(r.levelname, r.exc_info) for r in records] == [("WARNING", None)]
    assert records[0].getMessage() == (
        "pRPC /migration.Migration/FetchActiveRuns: database unavailable: "
        'connection to server at "127.0.0.1", port 5432 failed: Refused'
    )


def test_authentication_comes_before_the_body(post):
    # A caller without credentials is refused from its headers: its body is never read.
    response = post("FetchActiveRuns", b"\xff", {"Authorization": "Bearer bad"})
    assert response.status_code == 401
    assert "FetchActiveRuns" not in STATE.requests
    response = post("FetchActiveRuns", b"\xff", {"Authorization": "Bearer good"})
    assert response.status_code == 400
    assert response.text.startswith("could not decode body")


def test_observer_sees_every_call(post):
    post("FetchActiveRuns", runs_request("echo"), {"Authorization": "Bearer good"})
    post("FetchActiveRuns", runs_request("sleep-write:0.2:obs"))
    post("PostGerritMessage", pb.PostGerritMessageRequest(change=5).SerializeToString())
    post("FetchActiveRuns", runs_request("echo"), {"Authorization": "Bearer bad"})
    post("FetchActiveRuns", runs_request("echo"), {"X-Prpc-Grpc-Timeout": "soon"})
    post("FetchActiveRuns", runs_request("crash"))
    post("NoSuchMethod", b"")
    post("FetchActiveRuns", http_method="GET")
    observed = [(method, principal, code) for method, principal, code, _ in STATE.observed]
    assert observed == [
        ("FetchActiveRuns", "user:good@example.com", Code.OK),
        ("FetchActiveRuns", "anonymous:anonymous", Code.OK),
        ("PostGerritMessage", "anonymous:anonymous", Code.NOT_FOUND),
        ("FetchActiveRuns", None, Code.UNAUTHENTICATED),
        ("FetchActiveRuns", None, Code.INVALID_ARGUMENT),
        ("FetchActiveRuns", "anonymous:anonymous", Code.INTERNAL),
    ]
    durations = [duration for *_, duration in STATE.observed]
    assert all(0 <= d < 5 for d in durations)
    assert durations[1] >= 0.2


def observation_rows() -> list[str]:
    return sorted(
        name.split(":", 2)[2]
        for name in Group.objects.filter(name__startswith="observed:").values_list(
            "name", flat=True
        )
    )


def test_an_in_transaction_observer_commits_with_a_successful_call(post):
    assert_ok(post("FetchActiveRuns", runs_request("write:kept")))
    post("FetchActiveRuns", runs_request("write-then-fail:doomed"))

    assert STATE.observed_in_transaction == [
        ("FetchActiveRuns", Code.OK, True),
        ("FetchActiveRuns", Code.FAILED_PRECONDITION, False),
    ]
    assert Group.objects.filter(name="kept").exists()
    assert not Group.objects.filter(name="doomed").exists()
    assert observation_rows() == sorted(
        [f"FetchActiveRuns:{int(Code.OK)}", f"FetchActiveRuns:{int(Code.FAILED_PRECONDITION)}"]
    )
    # The others are told after the commit, as always.
    assert [code for _, _, code, _ in STATE.observed] == [Code.OK, Code.FAILED_PRECONDITION]


def test_a_method_outside_the_transaction_commits_as_it_goes(post):
    excluded = pb.FetchExcludedCLsRequest(luci_project="chromium").SerializeToString()
    assert_ok(post("FetchExcludedCLs", excluded))
    assert STATE.handler_in_transaction is False
    # Its in-transaction observers are told in a transaction of their own.
    assert STATE.observed_in_transaction == [("FetchExcludedCLs", Code.OK, True)]
    failing = pb.FetchExcludedCLsRequest(luci_project="commit-then-fail:kept-anyway")
    response = post("FetchExcludedCLs", failing.SerializeToString())
    assert response.status_code == 400
    assert Group.objects.filter(name="kept-anyway").exists()


def test_an_in_transaction_observer_that_fails_undoes_the_call(post, caplog):
    STATE.break_transactional_observer = True
    response = post("FetchActiveRuns", runs_request("write:undone"))

    assert_error(response, 500, Code.INTERNAL, "Internal server error")
    assert "recording failed" in caplog.text
    assert not Group.objects.filter(name="undone").exists()
    assert STATE.observed_in_transaction == [
        ("FetchActiveRuns", Code.OK, True),
        ("FetchActiveRuns", Code.INTERNAL, False),
    ]
    assert [code for _, _, code, _ in STATE.observed] == [Code.INTERNAL]


def test_a_response_too_large_to_send_undoes_the_call(post):
    response = post(
        "FetchActiveRuns", runs_request("write-big:unsent:500"), {"X-Prpc-Max-Response-Size": "100"}
    )
    assert_error(
        response, 503, Code.UNAVAILABLE, "prpc: the response size 506 exceeds the client limit 100"
    )
    assert not Group.objects.filter(name="unsent").exists()
    assert STATE.observed_in_transaction == [("FetchActiveRuns", Code.UNAVAILABLE, False)]


def test_broken_observer_does_not_change_the_answer(post, caplog):
    STATE.break_observer = True
    response = post("FetchActiveRuns", runs_request("echo:fine"))
    assert_ok(response)
    assert "observer" in caplog.text and "observer bug" in caplog.text
    assert len(STATE.observed) == 1
