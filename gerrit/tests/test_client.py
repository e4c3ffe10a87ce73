"""GerritClient against the fake Gerrit over real HTTP on 127.0.0.1."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from prometheus_client import REGISTRY

from cvproto.codes import Code
from cvproto.gerrit import gerrit_pb2
from gerrit.client import DEFAULT_CHANGE_OPTIONS, GerritClient
from gerrit.credentials import Credentials, CredentialSource
from gerrit.errors import GerritError
from gerrit.fake import account
from gerrit.messages import review_notification

T0 = datetime(2026, 1, 5, 12, 0, 0, 123456, tzinfo=UTC)
OWNER = account(1000001, "owner@example.com", "Owner", "owner")
VOTER = account(7, "voter@example.com", "Voter")
NAYSAYER = account(8, "nay@example.com", "Naysayer")
PROJECT = "chromium/src"


def stamp(when: datetime) -> Timestamp:
    t = Timestamp()
    t.FromDatetime(when)
    return t


@pytest.fixture
def gerrit(fake_gerrit):
    """The fake with a fixed clock and change 123 (two patchsets, votes, a message)."""
    fake_gerrit.clock = lambda: T0
    fake_gerrit.add_change(123, project=PROJECT, owner=OWNER, patchsets=2)
    fake_gerrit.vote(123, "Commit-Queue", 2, voter=VOTER, date=T0 + timedelta(minutes=1))
    fake_gerrit.vote(123, "Code-Review", -1, voter=NAYSAYER, date=T0 + timedelta(minutes=2))
    fake_gerrit.add_message(123, "Looks risky.", author=NAYSAYER, date=T0 + timedelta(minutes=3))
    return fake_gerrit


@pytest.fixture
def client(gerrit):
    creds = Credentials(CredentialSource.SETTINGS, "cq-bot:http-password")
    with GerritClient(gerrit.host, credentials=creds, base_url=gerrit.url, timeout=5) as c:
        yield c


@pytest.fixture
def anonymous(gerrit):
    with GerritClient(gerrit.host, base_url=gerrit.url, timeout=5) as c:
        yield c


class TestGetChange:
    def test_converts_the_change(self, client, gerrit):
        info = client.get_change(123, project=PROJECT)
        stored = gerrit.change(123)
        current = stored["current_revision"]

        assert info.number == 123
        assert info.project == PROJECT
        assert info.ref == "refs/heads/main"
        assert info.status == gerrit_pb2.NEW
        assert info.owner == gerrit_pb2.AccountInfo(
            account_id=1000001, email="owner@example.com", name="Owner", username="owner"
        )
        assert info.current_revision == current
        assert info.submittable
        assert info.created == stamp(T0) and info.updated == stamp(T0 + timedelta(minutes=3))

        assert sorted(r.number for r in info.revisions.values()) == [1, 2]
        rev = info.revisions[current]
        assert rev.number == 2 and rev.kind == gerrit_pb2.RevisionInfo.REWORK
        assert rev.ref == "refs/changes/23/123/2"
        assert rev.created == stamp(T0)
        assert rev.commit.message.startswith("Make the thing better\n\nChange-Id: I")
        # CURRENT_COMMIT only: older revisions come without their commit.
        assert not next(r for r in info.revisions.values() if r.number == 1).HasField("commit")

        cq = info.labels["Commit-Queue"]
        assert [(a.user.account_id, a.user.email, a.value) for a in cq.all] == [
            (7, "voter@example.com", 2)
        ]
        assert cq.all[0].date == stamp(T0 + timedelta(minutes=1))
        assert dict(cq.values) == {0: "No vote", 1: "Dry run", 2: "Submit"}
        cr = info.labels["Code-Review"]
        assert [(a.user.account_id, a.value) for a in cr.all] == [(8, -1)]
        assert cr.all[0].permitted_voting_range == gerrit_pb2.VotingRangeInfo(min=-1, max=1)
        assert cr.values[-1] == "Don't submit"

        (msg,) = info.messages
        assert msg.message == "Looks risky."
        assert msg.author.account_id == 8 and msg.real_author.account_id == 8
        assert msg.date == stamp(T0 + timedelta(minutes=3))

    def test_nanoseconds_are_kept(self, client, gerrit):
        gerrit.change(123)["updated"] = "2026-01-05 12:00:00.123456789"
        assert client.get_change(123).updated == Timestamp(seconds=1767614400, nanos=123456789)

    def test_request_shape(self, client, gerrit):
        client.get_change(123, project=PROJECT)
        req = gerrit.last_request
        assert req.method == "GET"
        assert req.path == "/a/changes/chromium%2Fsrc~123"
        assert req.query == {"o": list(DEFAULT_CHANGE_OPTIONS)}
        assert req.header("Accept") == "application/json"

    def test_options_by_name_or_enum_decide_what_gerrit_fills(self, client, gerrit):
        info = client.get_change(123, options=[gerrit_pb2.CURRENT_REVISION, "LABELS"])
        assert gerrit.last_request.query == {"o": ["CURRENT_REVISION", "LABELS"]}
        assert list(info.revisions) == [info.current_revision]
        assert not info.messages
        assert not info.labels["Commit-Queue"].all
        # Without DETAILED_ACCOUNTS, accounts are numbers only.
        assert info.owner == gerrit_pb2.AccountInfo(account_id=1000001)

    def test_unknown_option_is_refused_before_any_request(self, client, gerrit):
        with pytest.raises(ValueError, match="not a Gerrit query option"):
            client.get_change(123, options=["EVERYTHING"])
        assert gerrit.requests == []

    @pytest.mark.parametrize("change", [0, -1, True, "123"])
    def test_bad_change_numbers_are_refused(self, client, change):
        with pytest.raises(ValueError, match="positive change number"):
            client.get_change(change)

    def test_missing_change_is_not_found(self, client):
        with pytest.raises(GerritError) as e:
            client.get_change(999)
        assert (e.value.code, e.value.http_status, e.value.transient) == (
            Code.NOT_FOUND,
            404,
            False,
        )
        assert "Not found: 999" in str(e.value)

    def test_wrong_project_is_not_found(self, client):
        with pytest.raises(GerritError) as e:
            client.get_change(123, project="v8/v8")
        assert e.value.code == Code.NOT_FOUND

    def test_malformed_change_is_internal(self, client, gerrit):
        gerrit.change(123)["created"] = "last Tuesday"
        with pytest.raises(GerritError) as e:
            client.get_change(123)
        assert e.value.code == Code.INTERNAL and not e.value.transient
        assert "malformed ChangeInfo" in str(e.value)


class TestJsonPrefix:
    def test_fake_sends_the_prefix(self, client, gerrit):
        import requests

        raw = requests.get(f"{gerrit.url}/changes/123", timeout=5)
        assert raw.content.startswith(b")]}'\n{")
        assert client.get_change(123).number == 123

    @pytest.mark.parametrize(
        "body", [')]}\'\n{"status": "MERGED"}', ')]}\'{"status": "MERGED"}', '{"status": "MERGED"}']
    )
    def test_prefix_is_stripped_when_present(self, client, gerrit, body):
        gerrit.fail_next(200, body=body)
        assert client.submit(123) == gerrit_pb2.MERGED

    def test_malformed_json_is_internal_not_transient(self, client, gerrit):
        gerrit.fail_next(200, body=")]}'\n<html>proxy login</html>")
        with pytest.raises(GerritError) as e:
            client.get_change(123)
        assert (e.value.code, e.value.transient) == (Code.INTERNAL, False)
        assert "malformed JSON" in str(e.value)


class TestSetReview:
    def test_body_per_spec(self, client, gerrit):
        result = client.set_review(
            123,
            gerrit.change(123)["current_revision"],
            "CQ is trying the patch.",
            project=PROJECT,
            notify="OWNER_REVIEWERS",
            notify_details={"TO": [9, 7, 7]},
        )
        assert result == {}
        req = gerrit.last_request
        sha = gerrit.change(123)["current_revision"]
        assert req.method == "POST"
        assert req.path == f"/a/changes/chromium%2Fsrc~123/revisions/{sha}/review"
        assert req.header("Content-Type") == "application/json; charset=UTF-8"
        assert req.body == {
            "message": "CQ is trying the patch.",
            "tag": "autogenerated:cq",
            "notify": "OWNER_REVIEWERS",
            "notify_details": {"TO": {"accounts": [7, 9]}},
        }

    def test_message_lands_on_the_revision(self, client, gerrit):
        client.set_review(123, "1", "Dry run: passed.", notify="NONE")
        info = client.get_change(123)
        posted = info.messages[-1]
        assert posted.message == "Patch Set 1:\n\nDry run: passed."
        assert posted.author.account_id == 5000000  # the fake's identity for cq-bot
        assert gerrit.change(123)["messages"][-1]["tag"] == "autogenerated:cq"

    def test_notification_from_the_rules(self, client, gerrit):
        info = client.get_change(123)
        n = review_notification(True, "FULL_RUN", info)
        client.set_review(123, "current", "m", notify=n.notify, notify_details=n.details)
        assert gerrit.last_request.body["notify"] == "OWNER_REVIEWERS"
        assert gerrit.last_request.body["notify_details"] == {"TO": {"accounts": [7]}}

    def test_empty_fields_are_omitted(self, client, gerrit):
        client.set_review(123, "current", "hi", tag="", notify_details={"TO": [], "CC": ()})
        assert gerrit.last_request.body == {"message": "hi"}

    def test_labels_including_negative_votes(self, client, gerrit):
        result = client.set_review(
            123, "current", "", labels={"Commit-Queue": 0, "Code-Review": -1}, notify="NONE"
        )
        assert result == {"labels": {"Commit-Queue": 0, "Code-Review": -1}}
        assert gerrit.last_request.body == {
            "tag": "autogenerated:cq",
            "labels": {"Commit-Queue": 0, "Code-Review": -1},
            "notify": "NONE",
        }
        info = client.get_change(123)
        cr = {a.user.account_id: a.value for a in info.labels["Code-Review"].all}
        assert cr == {8: -1, 5000000: -1}
        assert info.messages[-1].message == "Patch Set 2: -Commit-Queue Code-Review-1"

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"notify": "EVERYONE"}, "notify="),
            ({"notify_details": {"TOO": [1]}}, "recipient type"),
        ],
    )
    def test_bad_arguments_are_refused_before_any_request(self, client, gerrit, kwargs, match):
        with pytest.raises(ValueError, match=match):
            client.set_review(123, "current", "m", **kwargs)
        with pytest.raises(ValueError, match="revision is required"):
            client.set_review(123, "", "m")
        assert gerrit.requests == []

    def test_unknown_revision_is_not_found(self, client):
        with pytest.raises(GerritError) as e:
            client.set_review(123, "deadbeef" * 5, "m")
        assert e.value.code == Code.NOT_FOUND

    def test_anonymous_post_is_permission_denied(self, anonymous, gerrit):
        with pytest.raises(GerritError) as e:
            anonymous.set_review(123, "current", "m")
        assert (e.value.code, e.value.http_status) == (Code.PERMISSION_DENIED, 403)
        assert gerrit.last_request.path == "/changes/123/revisions/current/review"
        assert gerrit.last_request.authorization is None

    def test_timed_out_post_may_still_land(self, gerrit):
        # Why the client never retries by itself: the write can happen after it gave up.
        creds = Credentials(CredentialSource.SETTINGS, "cq-bot:pw")
        slow = GerritClient(gerrit.host, credentials=creds, base_url=gerrit.url, timeout=0.2)
        gerrit.hang_next(0.5)
        with pytest.raises(GerritError) as e:
            slow.set_review(123, "current", "late message")
        assert e.value.transient
        deadline = time.monotonic() + 5
        while not any("late message" in m["message"] for m in gerrit.change(123)["messages"]):
            assert time.monotonic() < deadline
            time.sleep(0.05)


class TestSubmit:
    def test_submit_change(self, client, gerrit):
        assert client.submit(123, project=PROJECT) == gerrit_pb2.MERGED
        assert gerrit.last_request.path == "/a/changes/chromium%2Fsrc~123/submit"
        assert gerrit.last_request.body == {}
        info = client.get_change(123)
        assert info.status == gerrit_pb2.MERGED
        assert info.messages[-1].message == "Change has been successfully merged"

    def test_submit_revision(self, client, gerrit):
        sha = gerrit.change(123)["current_revision"]
        assert client.submit(123, sha) == gerrit_pb2.MERGED
        assert gerrit.last_request.path == f"/a/changes/123/revisions/{sha}/submit"

    def test_already_merged_is_failed_precondition(self, client):
        client.submit(123)
        with pytest.raises(GerritError) as e:
            client.submit(123)
        assert (e.value.code, e.value.http_status, e.value.transient) == (
            Code.FAILED_PRECONDITION,
            409,
            False,
        )
        assert "change is merged" in str(e.value)

    def test_outdated_revision_is_failed_precondition(self, client, gerrit):
        with pytest.raises(GerritError) as e:
            client.submit(123, "1")
        assert e.value.code == Code.FAILED_PRECONDITION
        assert "is not current revision" in str(e.value)
        assert gerrit.change(123)["status"] == "NEW"

    def test_unmerged_dependency_blocks_until_merged(self, client, gerrit):
        gerrit.add_change(200, project=PROJECT)
        gerrit.add_change(201, project=PROJECT, depends_on=[200])
        with pytest.raises(GerritError) as e:
            client.submit(201)
        assert e.value.code == Code.FAILED_PRECONDITION
        assert "depends on change 200" in str(e.value)
        assert client.submit(200) == gerrit_pb2.MERGED
        assert client.submit(201) == gerrit_pb2.MERGED

    def test_configured_conflict_and_abandoned(self, client, gerrit):
        gerrit.submit_conflicts[123] = "merge conflict in README.md"
        with pytest.raises(GerritError, match="merge conflict in README.md"):
            client.submit(123)
        del gerrit.submit_conflicts[123]
        gerrit.change(123)["status"] = "ABANDONED"
        with pytest.raises(GerritError, match="change is abandoned") as e:
            client.submit(123)
        assert e.value.code == Code.FAILED_PRECONDITION


@pytest.mark.parametrize(
    ("status", "code", "transient"),
    [
        (400, Code.INTERNAL, False),
        (401, Code.INTERNAL, False),
        (403, Code.PERMISSION_DENIED, False),
        (404, Code.NOT_FOUND, False),
        (409, Code.FAILED_PRECONDITION, False),
        (412, Code.FAILED_PRECONDITION, False),
        (429, Code.RESOURCE_EXHAUSTED, True),
        (500, Code.INTERNAL, True),
        (502, Code.INTERNAL, True),
        (503, Code.INTERNAL, True),
        (302, Code.INTERNAL, False),
    ],
)
@pytest.mark.parametrize("call", ["get_change", "set_review", "submit"])
def test_error_mapping(client, gerrit, status, code, transient, call):
    gerrit.fail_next(status, body=f"programmed {status}")
    calls = {
        "get_change": lambda: client.get_change(123),
        "set_review": lambda: client.set_review(123, "current", "m"),
        "submit": lambda: client.submit(123),
    }
    with pytest.raises(GerritError) as e:
        calls[call]()
    assert (e.value.code, e.value.http_status, e.value.transient) == (code, status, transient)
    assert e.value.host == gerrit.host
    assert f"HTTP {status}" in str(e.value) and f"programmed {status}" in str(e.value)
    assert str(e.value).startswith(f"{code.name}: Gerrit {gerrit.host}:")
    assert gerrit.requests[-1].fault == f"status {status}"
    # The fault was used up: the next call goes through.
    assert client.get_change(123).number == 123


def test_redirects_are_not_followed(client, gerrit):
    gerrit.fail_next(302, body="moved")
    with pytest.raises(GerritError):
        client.get_change(123)
    assert len(gerrit.requests) == 1


def test_timeout_is_internal_and_transient(gerrit):
    client = GerritClient(gerrit.host, base_url=gerrit.url, timeout=0.2)
    gerrit.hang_next(3, then_answer=False)
    started = time.monotonic()
    with pytest.raises(GerritError) as e:
        client.get_change(123)
    assert time.monotonic() - started < 2
    assert (e.value.code, e.value.http_status, e.value.transient) == (Code.INTERNAL, None, True)
    assert "did not answer within 0.2s" in str(e.value)
    assert e.value.__cause__ is None and e.value.__context__ is None


def test_dropped_connection_is_internal_and_transient(client, gerrit):
    gerrit.drop_next()
    with pytest.raises(GerritError) as e:
        client.get_change(123)
    assert (e.value.code, e.value.http_status, e.value.transient) == (Code.INTERNAL, None, True)
    assert "cannot reach Gerrit" in str(e.value)
    assert gerrit.requests[-1].fault == "drop"


def test_refused_connection_is_internal_and_transient(gerrit):
    url = gerrit.url
    gerrit.stop()
    client = GerritClient(gerrit.host, base_url=url, timeout=2)
    with pytest.raises(GerritError) as e:
        client.get_change(123)
    assert (e.value.code, e.value.transient) == (Code.INTERNAL, True)
    assert e.value.__context__ is None


def test_faults_can_target_a_method_and_path(client, gerrit):
    gerrit.fail_next(503, count=2, method="POST", path_contains="/review")
    assert client.get_change(123).number == 123
    for _ in range(2):
        with pytest.raises(GerritError):
            client.set_review(123, "current", "m")
    client.set_review(123, "current", "m")
    assert [r.fault for r in gerrit.requests] == [None, "status 503", "status 503", None]


class TestClientConstruction:
    @pytest.mark.parametrize("host", ["", "a/b", "https://x.example.com", "x.example.com/"])
    def test_bad_hosts(self, host):
        with pytest.raises(ValueError, match="not a Gerrit host"):
            GerritClient(host)

    def test_base_url_defaults_to_https_host(self):
        c = GerritClient("chromium-review.googlesource.com")
        assert c.base_url == "https://chromium-review.googlesource.com"
        assert repr(c) == (
            "<GerritClient chromium-review.googlesource.com at "
            "https://chromium-review.googlesource.com (anonymous)>"
        )

    def test_base_url_with_credentials_is_refused(self):
        with pytest.raises(ValueError, match="must not carry credentials"):
            GerritClient("x.example.com", base_url="https://u:p@x.example.com")

    def test_shared_session_is_not_closed(self, gerrit):
        import requests

        session = requests.Session()
        with GerritClient(gerrit.host, base_url=gerrit.url, session=session) as c:
            c.get_change(123)
        assert gerrit.requests[-1].path == "/changes/123"
        session.get(f"{gerrit.url}/changes/123", timeout=5).raise_for_status()
        session.close()


class TestMetrics:
    @staticmethod
    def calls(host: str, outcome: str) -> float:
        labels = {"host": host, "method": "GET", "outcome": outcome}
        return REGISTRY.get_sample_value("gerrit_calls_total", labels) or 0

    def test_each_call_is_counted_by_its_outcome(self, client, gerrit):
        before = {o: self.calls(gerrit.host, o) for o in ("ok", "http_4xx", "http_5xx")}
        client.get_change(123, project=PROJECT)
        with pytest.raises(GerritError):
            client.get_change(404404, project=PROJECT)
        gerrit.fail_next(503)
        with pytest.raises(GerritError):
            client.get_change(123, project=PROJECT)
        assert {o: self.calls(gerrit.host, o) - n for o, n in before.items()} == {
            "ok": 1,
            "http_4xx": 1,
            "http_5xx": 1,
        }
