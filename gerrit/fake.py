"""A fake Gerrit for tests: a real HTTP server on 127.0.0.1 holding changes in memory.

It speaks the part of Gerrit's REST API that gerrit.client uses, in Gerrit's JSON shape with
the `)]}'` prefix:
  GET  [/a]/changes/<id>[/detail]                   honours the `o=` query options
  POST [/a]/changes/<id>/revisions/<rev>/review     posts a message and/or votes
  POST [/a]/changes/<id>[/revisions/<rev>]/submit   merges the change
where <id> is a change number or "<url-escaped project>~<number>" and <rev> a SHA, a unique
SHA prefix, a patchset number or "current". /a/ requires an Authorization header (401
otherwise; with accounts registered via add_account, only theirs); anonymous POSTs get 403.

Every request is recorded (`requests`, `last_request`) and faults can be programmed:
`fail_next` (answer a status), `hang_next` (answer late), `drop_next` (close the connection).

Use it directly:

    with FakeGerrit() as gerrit:
        gerrit.add_change(123, project="chromium/src")
        client = GerritClient(gerrit.host, base_url=gerrit.url)

or through the pytest fixture `fake_gerrit`, which also routes `client_for_host(fake.host)` to
the server and clears configured credentials. To use the fixture in another app's tests, import
it into that app's tests/conftest.py (or the root conftest.py):

    from gerrit.fake import fake_gerrit  # noqa: F401
"""

import base64
import copy
import hashlib
import itertools
import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest

from gerrit.convert import format_timestamp

FAKE_HOST = "fake-review.example.com"
JSON_PREFIX = ")]}'\n"

DEFAULT_LABELS = {
    "Commit-Queue": {" 0": "No vote", "+1": "Dry run", "+2": "Submit"},
    "Code-Review": {"-1": "Don't submit", " 0": "No score", "+1": "Looks good to me"},
}
# Options Gerrit implies for GET /changes/<id>/detail.
DETAIL_OPTIONS = frozenset({"LABELS", "DETAILED_LABELS", "DETAILED_ACCOUNTS", "MESSAGES"})


def account(account_id: int, email: str = "", name: str = "", username: str = "") -> dict:
    """A Gerrit REST AccountInfo."""
    info: dict[str, Any] = {"_account_id": account_id}
    for key, value in (("name", name), ("email", email), ("username", username)):
        if value:
            info[key] = value
    return info


DEFAULT_OWNER = account(1000001, "owner@example.com", "Change Owner", "owner")


@dataclass
class RecordedRequest:
    """One request as the fake received it."""

    method: str
    # The path as sent, still percent-encoded, without the query string.
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    # The decoded JSON body, or None when there was none (or it was not JSON).
    body: Any
    raw_body: bytes
    # "status 500", "hang", "drop" when a programmed fault answered; None otherwise.
    fault: str | None = None

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None

    @property
    def authorization(self) -> str | None:
        return self.header("Authorization")


@dataclass
class _Fault:
    kind: str
    remaining: int
    status: int = 0
    body: str = ""
    seconds: float = 0.0
    then_answer: bool = True
    method: str | None = None
    path_contains: str | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        return not self.path_contains or self.path_contains in path

    def describe(self) -> str:
        return f"status {self.status}" if self.kind == "status" else self.kind


class _HTTPError(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request, client_address) -> None:
        # A client that gave up (timeout) makes the late answer fail; that is expected.
        pass


class FakeGerrit:
    """In-memory Gerrit changes behind a real HTTP server; see the module docstring."""

    def __init__(self, host: str = FAKE_HOST, *, clock: Callable[[], datetime] | None = None):
        self.host = host
        self.clock = clock or (lambda: datetime.now(UTC))
        self.lock = threading.RLock()
        # Change number -> Gerrit REST ChangeInfo JSON (all options' worth of data).
        self.changes: dict[int, dict] = {}
        self.requests: list[RecordedRequest] = []
        # "login:password" -> AccountInfo; when empty, any Basic credentials are accepted.
        self.accounts: dict[str, dict] = {}
        # Change number -> numbers of the changes that must be merged before it.
        self.depends_on: dict[int, list[int]] = {}
        # Change number -> message of the 409 its submission answers while set.
        self.submit_conflicts: dict[int, str] = {}
        self.max_message_bytes = 16384
        self._faults: list[_Fault] = []
        self._ids = itertools.count(1)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> "FakeGerrit":
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            # shutdown() waits up to one poll interval; keep fixture teardown quick.
            kwargs={"poll_interval": 0.02},
            name=f"fake-gerrit-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> "FakeGerrit":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeGerrit is not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- state -----------------------------------------------------------------------------

    def add_account(
        self, login: str, password: str, *, account_id: int, email: str = "", name: str = ""
    ) -> dict:
        """Registers HTTP credentials; from then on /a/ accepts only registered ones."""
        info = account(account_id, email, name, login)
        with self.lock:
            self.accounts[f"{login}:{password}"] = info
        return info

    def add_change(
        self,
        number: int | None = None,
        *,
        project: str = "infra/infra",
        branch: str = "main",
        status: str = "NEW",
        owner: dict | None = None,
        subject: str = "Make the thing better",
        patchsets: int = 1,
        files: Iterable[str] = ("README.md",),
        submittable: bool = True,
        is_private: bool = False,
        depends_on: Iterable[int] = (),
        created: datetime | None = None,
    ) -> dict:
        """A new change with `patchsets` revisions and empty CQ/Code-Review labels.

        Returns the stored ChangeInfo JSON; tests may edit it (before serving it).
        """
        with self.lock:
            if number is None:
                number = max(self.changes, default=0) + 1
            if number in self.changes:
                raise ValueError(f"change {number} already exists")
            created = created or self.clock()
            owner = copy.deepcopy(owner or DEFAULT_OWNER)
            change_id = "I" + hashlib.sha1(f"{project}/{number}".encode()).hexdigest()
            change = {
                "id": f"{quote(project, safe='')}~{branch}~{change_id}",
                "project": project,
                "branch": branch,
                "change_id": change_id,
                "subject": subject,
                "status": status,
                "created": format_timestamp(created),
                "updated": format_timestamp(created),
                "submittable": submittable,
                "_number": number,
                "owner": owner,
                "labels": {
                    name: {"values": dict(values), "default_value": 0, "all": []}
                    for name, values in DEFAULT_LABELS.items()
                },
                "messages": [],
                "revisions": {},
                "_files": list(files),
            }
            if is_private:
                change["is_private"] = True
            self.changes[number] = change
            self.depends_on[number] = list(depends_on)
            for _ in range(patchsets):
                self.add_patchset(number, at=created)
            return change

    def add_patchset(self, number: int, *, kind: str = "REWORK", at: datetime | None = None) -> str:
        """Uploads a new patchset, which becomes current; returns its SHA."""
        with self.lock:
            change = self.changes[number]
            previous = change.get("current_revision")
            ps = len(change["revisions"]) + 1
            sha = hashlib.sha1(f"{change['project']}/{number}/{ps}".encode()).hexdigest()
            when = format_timestamp(at or self.clock())
            change["revisions"][sha] = {
                "kind": kind,
                "_number": ps,
                "created": when,
                "uploader": copy.deepcopy(change["owner"]),
                "ref": f"refs/changes/{number % 100:02d}/{number}/{ps}",
                "commit": {
                    "parents": [{"commit": previous or "0" * 40, "subject": "Parent commit"}],
                    "subject": change["subject"],
                    "message": f"{change['subject']}\n\nChange-Id: {change['change_id']}\n",
                },
                "files": {
                    path: {"lines_inserted": 1, "size_delta": 10, "size": 100}
                    for path in change["_files"]
                },
            }
            change["current_revision"] = sha
            change["updated"] = when
            return sha

    def vote(
        self,
        number: int,
        label: str,
        value: int,
        *,
        voter: dict,
        date: datetime | None = None,
        tag: str = "",
    ) -> None:
        """Sets `voter`'s vote on `label` (replacing an earlier one)."""
        with self.lock:
            change = self.changes[number]
            info = change["labels"].setdefault(label, {"values": {}, "default_value": 0, "all": []})
            votes = info.setdefault("all", [])
            votes[:] = [v for v in votes if v["_account_id"] != voter["_account_id"]]
            approval = {
                **copy.deepcopy(voter),
                "value": value,
                "date": format_timestamp(date or self.clock()),
                "permitted_voting_range": {
                    "min": min(_values(info), default=0),
                    "max": max(_values(info), default=0),
                },
            }
            if tag:
                approval["tag"] = tag
            votes.append(approval)

    def add_message(
        self,
        number: int,
        text: str,
        *,
        author: dict | None = None,
        date: datetime | None = None,
        tag: str = "",
    ) -> dict:
        """Appends a change message, as if someone had posted it."""
        with self.lock:
            change = self.changes[number]
            author = copy.deepcopy(author or change["owner"])
            message = {
                "id": hashlib.sha1(f"message-{next(self._ids)}".encode()).hexdigest(),
                "author": author,
                "real_author": author,
                "date": format_timestamp(date or self.clock()),
                "message": text,
                "_revision_number": change["revisions"][change["current_revision"]]["_number"],
            }
            if tag:
                message["tag"] = tag
            change["messages"].append(message)
            change["updated"] = message["date"]
            return message

    def change(self, number: int) -> dict:
        """The stored ChangeInfo JSON of a change (live, not a copy)."""
        return self.changes[number]

    # --- faults and records ----------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        count: int = 1,
        *,
        body: str | None = None,
        method: str | None = None,
        path_contains: str | None = None,
    ) -> None:
        """The next `count` matching requests get `status` (with a plain-text `body`)."""
        self._add_fault(
            _Fault(
                "status",
                count,
                status=status,
                body=body if body is not None else f"fake gerrit: programmed HTTP {status}\n",
                method=method,
                path_contains=path_contains,
            )
        )

    def hang_next(
        self,
        seconds: float,
        count: int = 1,
        *,
        then_answer: bool = True,
        method: str | None = None,
        path_contains: str | None = None,
    ) -> None:
        """The next `count` matching requests wait `seconds` (cut short when the server stops),
        then are processed and answered as usual (a slow Gerrit: a write lands even though
        the client gave up), or with then_answer=False the connection is just closed."""
        self._add_fault(
            _Fault(
                "hang",
                count,
                seconds=seconds,
                then_answer=then_answer,
                method=method,
                path_contains=path_contains,
            )
        )

    def drop_next(
        self, count: int = 1, *, method: str | None = None, path_contains: str | None = None
    ) -> None:
        """The next `count` matching requests see their connection closed with no answer."""
        self._add_fault(_Fault("drop", count, method=method, path_contains=path_contains))

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()

    def _add_fault(self, fault: _Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("count must be at least 1")
        with self.lock:
            self._faults.append(fault)

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self.lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    @property
    def last_request(self) -> RecordedRequest:
        with self.lock:
            return self.requests[-1]

    def requests_to(self, method: str, path_contains: str = "") -> list[RecordedRequest]:
        with self.lock:
            return [
                r for r in self.requests if r.method == method.upper() and path_contains in r.path
            ]

    # --- request handling (called from server threads) -------------------------------------

    def _handle(self, method: str, path: str, query: dict, headers: dict, body: Any) -> tuple:
        """-> (status, JSON payload) or raises _HTTPError."""
        segments = [unquote(s) for s in path.strip("/").split("/")]
        requester = None
        if segments and segments[0] == "a":
            segments = segments[1:]
            requester = self._authenticate(headers)
        elif method != "GET":
            raise _HTTPError(403, "Authentication required")
        if len(segments) < 2 or segments[0] != "changes":
            raise _HTTPError(404, "Not found")
        with self.lock:
            change = self._find_change(segments[1])
            rest = segments[2:]
            if method == "GET" and rest in ([], ["detail"]):
                options = set(query.get("o", []))
                if rest == ["detail"]:
                    options |= DETAIL_OPTIONS
                return 200, _render(change, options)
            if (
                method == "POST"
                and len(rest) == 3
                and rest[0] == "revisions"
                and rest[2] == "review"
            ):
                return 200, self._review(change, rest[1], body or {}, requester)
            if method == "POST" and rest == ["submit"]:
                self._submit(change, None, requester)
                return 200, _render(change, set())
            if (
                method == "POST"
                and len(rest) == 3
                and rest[0] == "revisions"
                and rest[2] == "submit"
            ):
                self._submit(change, rest[1], requester)
                return 200, {"status": change["status"]}
        if method not in ("GET", "POST"):
            raise _HTTPError(405, "Method Not Allowed")
        raise _HTTPError(404, "Not found")

    def _authenticate(self, headers: dict) -> dict:
        header = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic" or not value:
            raise _HTTPError(401, "Unauthorized")
        try:
            pair = base64.b64decode(value, validate=True).decode()
        except ValueError:
            raise _HTTPError(401, "Unauthorized") from None
        with self.lock:
            if self.accounts:
                if pair not in self.accounts:
                    raise _HTTPError(401, "Unauthorized")
                return copy.deepcopy(self.accounts[pair])
        login = pair.partition(":")[0]
        return account(5000000, login if "@" in login else f"{login}@example.com", login, login)

    def _find_change(self, change_id: str) -> dict:
        project, sep, number = change_id.rpartition("~")
        change = self.changes.get(int(number)) if number.isdigit() else None
        if change is None or (sep and change["project"] != project):
            raise _HTTPError(404, f"Not found: {change_id}")
        return change

    def _find_revision(self, change: dict, revision: str) -> str:
        revisions = change["revisions"]
        if revision == "current":
            return change["current_revision"]
        if revision in revisions:
            return revision
        if revision.isdigit():
            for sha, info in revisions.items():
                if info["_number"] == int(revision):
                    return sha
        matches = [sha for sha in revisions if len(revision) >= 4 and sha.startswith(revision)]
        if len(matches) == 1:
            return matches[0]
        raise _HTTPError(404, f"Not found: {revision}")

    def _review(self, change: dict, revision: str, review: dict, requester: dict) -> dict:
        sha = self._find_revision(change, revision)
        message = review.get("message", "")
        if len(message.encode()) > self.max_message_bytes:
            raise _HTTPError(400, f"Message size exceeds limit of {self.max_message_bytes} bytes")
        labels = review.get("labels") or {}
        if labels and change["status"] != "NEW":
            raise _HTTPError(409, "change is closed")
        now = self.clock()
        for name, value in labels.items():
            if name not in change["labels"]:
                raise _HTTPError(400, f'label "{name}" is not a configured label')
            self.vote(
                change["_number"],
                name,
                int(value),
                voter=requester,
                date=now,
                tag=review.get("tag", ""),
            )
        if message or labels:
            votes = "".join(
                f" {name}{int(v):+d}" if v else f" -{name}" for name, v in labels.items()
            )
            ps = change["revisions"][sha]["_number"]
            text = f"Patch Set {ps}:{votes}" + (f"\n\n{message}" if message else "")
            posted = self.add_message(
                change["_number"], text, author=requester, date=now, tag=review.get("tag", "")
            )
            posted["_revision_number"] = ps
        return {"labels": labels} if labels else {}

    def _submit(self, change: dict, revision: str | None, requester: dict) -> None:
        number = change["_number"]
        if change["status"] == "MERGED":
            raise _HTTPError(409, "change is merged")
        if change["status"] == "ABANDONED":
            raise _HTTPError(409, "change is abandoned")
        if revision is not None:
            sha = self._find_revision(change, revision)
            if sha != change["current_revision"]:
                raise _HTTPError(409, f"revision {sha} is not current revision")
        if number in self.submit_conflicts:
            raise _HTTPError(409, self.submit_conflicts[number])
        if not change.get("submittable", True):
            raise _HTTPError(409, f"Change {number}: submit requirements are not satisfied")
        for dep in self.depends_on.get(number, ()):
            if self.changes.get(dep, {}).get("status") != "MERGED":
                raise _HTTPError(
                    409, f"Change {number}: depends on change {dep} that was not submitted"
                )
        now = self.clock()
        change["status"] = "MERGED"
        change["submitted"] = format_timestamp(now)
        change["submittable"] = False
        self.add_message(
            number,
            "Change has been successfully merged",
            author=requester,
            date=now,
            tag="autogenerated:gerrit:merged",
        )


def _values(label: dict) -> list[int]:
    return [int(v.strip()) for v in label.get("values", {})]


def _render(change: dict, options: set[str]) -> dict:
    """The ChangeInfo JSON Gerrit would answer for these query options."""
    out = {
        k: copy.deepcopy(v) for k, v in change.items() if not k.startswith("_") or k == "_number"
    }
    current = change.get("current_revision")
    all_revisions = options & {"ALL_REVISIONS", "ALL_COMMITS", "ALL_FILES"}
    if all_revisions or options & {"CURRENT_REVISION", "CURRENT_COMMIT", "CURRENT_FILES"}:
        if not all_revisions:
            out["revisions"] = {current: out["revisions"][current]} if current else {}
        for sha, revision in out["revisions"].items():
            is_current = sha == current
            if not ("ALL_COMMITS" in options or ("CURRENT_COMMIT" in options and is_current)):
                revision.pop("commit", None)
            if not ("ALL_FILES" in options or ("CURRENT_FILES" in options and is_current)):
                revision.pop("files", None)
    else:
        out.pop("revisions", None)
        out.pop("current_revision", None)
    if "DETAILED_LABELS" not in options:
        if "LABELS" in options:
            for label in out.get("labels", {}).values():
                label.pop("all", None)
                label.pop("values", None)
        else:
            out.pop("labels", None)
    if "MESSAGES" not in options:
        out.pop("messages", None)
    if "SUBMITTABLE" not in options:
        out.pop("submittable", None)
    if "DETAILED_ACCOUNTS" not in options:
        _strip_accounts(out)
    return out


def _strip_accounts(value: Any) -> None:
    """Without DETAILED_ACCOUNTS Gerrit identifies accounts by number only."""
    if isinstance(value, dict):
        if "_account_id" in value:
            for key in ("name", "email", "username", "secondary_emails"):
                value.pop(key, None)
        for item in value.values():
            _strip_accounts(item)
    elif isinstance(value, list):
        for item in value:
            _strip_accounts(item)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The headers and the body go out in separate writes: with Nagle's algorithm the body
    # waits for the client's delayed ACK, 40 ms per request on a kept-alive connection.
    disable_nagle_algorithm = True
    fake: FakeGerrit

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _dispatch(self) -> None:
        fake = self.fake
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        fault = fake._take_fault(self.command, parts.path)
        record = RecordedRequest(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers=dict(self.headers.items()),
            body=body,
            raw_body=raw,
            fault=fault.describe() if fault else None,
        )
        with fake.lock:
            fake.requests.append(record)
        if fault is not None:
            if fault.kind == "status":
                self._send_text(fault.status, fault.body)
                return
            if fault.kind == "drop" or fault.kind == "hang" and not fault.then_answer:
                if fault.kind == "hang":
                    fake._stopping.wait(fault.seconds)
                self.close_connection = True
                return
            fake._stopping.wait(fault.seconds)
            if fake._stopping.is_set():
                self.close_connection = True
                return
        if raw and body is None:
            self._send_text(400, "Invalid JSON in request body\n")
            return
        try:
            status, payload = fake._handle(
                self.command, parts.path, record.query, record.headers, body
            )
        except _HTTPError as e:
            self._send_text(e.status, e.text + "\n")
            return
        data = (JSON_PREFIX + json.dumps(payload)).encode()
        self._send(status, "application/json; charset=UTF-8", data)

    def _send_text(self, status: int, text: str) -> None:
        self._send(status, "text/plain; charset=UTF-8", text.encode())

    def _send(self, status: int, content_type: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def fake_gerrit(settings):
    """A started FakeGerrit; `client_for_host(fake_gerrit.host)` talks to it anonymously.

    Configured credentials are cleared for the test, so set settings.GERRIT_AUTH (or store a
    NetrcToken) to authenticate.
    """
    with FakeGerrit() as gerrit:
        settings.GERRIT_URL_OVERRIDES = {gerrit.host: gerrit.url}
        settings.GERRIT_AUTH = {}
        settings.GERRIT_NETRC_FILE = None
        yield gerrit


__all__ = ["FAKE_HOST", "FakeGerrit", "RecordedRequest", "account", "fake_gerrit"]
