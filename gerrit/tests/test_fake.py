"""The fake Gerrit itself: what it answers, records and refuses (so other tests can trust it)."""

import json

import pytest
import requests

from gerrit.client import client_for_host
from gerrit.fake import FAKE_HOST, FakeGerrit


def get(fake: FakeGerrit, path: str, **kwargs) -> requests.Response:
    return requests.get(fake.url + path, timeout=5, **kwargs)


def body(response: requests.Response) -> dict:
    assert response.content.startswith(b")]}'\n")
    return json.loads(response.content[5:])


@pytest.fixture
def fake(fake_gerrit):
    fake_gerrit.add_change(1, project="chromium/src", patchsets=2)
    fake_gerrit.add_message(1, "hello")
    return fake_gerrit


@pytest.mark.django_db  # anonymous: client_for_host looks for a stored netrc token
def test_fixture_routes_client_for_host(fake, settings):
    assert fake.host == FAKE_HOST
    assert settings.GERRIT_URL_OVERRIDES == {FAKE_HOST: fake.url}
    assert fake.url.startswith("http://127.0.0.1:")
    with client_for_host(fake.host) as client:
        assert client.base_url == fake.url
        assert client.get_change(1).number == 1


def test_without_options_only_the_basics(fake):
    data = body(get(fake, "/changes/1"))
    assert data["_number"] == 1 and data["project"] == "chromium/src"
    for key in ("revisions", "current_revision", "labels", "messages", "submittable"):
        assert key not in data
    assert data["owner"] == {"_account_id": 1000001}
    assert not any(k.startswith("_") and k != "_number" for k in data)


def test_detail_adds_labels_accounts_and_messages(fake):
    data = body(get(fake, "/changes/chromium%2Fsrc~1/detail"))
    assert data["owner"]["email"] == "owner@example.com"
    assert "all" in data["labels"]["Commit-Queue"]
    assert [m["message"] for m in data["messages"]] == ["hello"]
    assert "revisions" not in data


def test_revision_options(fake):
    current = fake.change(1)["current_revision"]
    data = body(get(fake, "/changes/1", params={"o": ["CURRENT_REVISION", "CURRENT_FILES"]}))
    assert list(data["revisions"]) == [current]
    assert "files" in data["revisions"][current] and "commit" not in data["revisions"][current]
    data = body(get(fake, "/changes/1", params={"o": ["ALL_REVISIONS", "ALL_COMMITS"]}))
    assert len(data["revisions"]) == 2
    assert all("commit" in r and "files" not in r for r in data["revisions"].values())


def test_authentication_rules(fake):
    assert get(fake, "/a/changes/1").status_code == 401
    assert get(fake, "/a/changes/1", headers={"Authorization": "Bearer x"}).status_code == 401
    assert get(fake, "/a/changes/1", auth=("any", "thing")).status_code == 200
    fake.add_account("bot", "pw", account_id=3)
    assert get(fake, "/a/changes/1", auth=("any", "thing")).status_code == 401
    assert get(fake, "/a/changes/1", auth=("bot", "pw")).status_code == 200
    anon_post = requests.post(fake.url + "/changes/1/submit", json={}, timeout=5)
    assert (anon_post.status_code, anon_post.text) == (403, "Authentication required\n")


def test_routing_errors(fake):
    assert get(fake, "/changes/2").status_code == 404
    assert get(fake, "/changes/v8%2Fv8~1").status_code == 404
    assert get(fake, "/projects/x").status_code == 404
    assert requests.put(fake.url + "/a/changes/1", auth=("a", "b"), timeout=5).status_code == 405
    bad = requests.post(
        fake.url + "/a/changes/1/submit", data=b"{not json", auth=("a", "b"), timeout=5
    )
    assert bad.status_code == 400


def test_review_accepts_revision_aliases_and_limits_message_size(fake):
    sha = fake.change(1)["current_revision"]
    for rev in ("current", "2", sha, sha[:8]):
        r = requests.post(
            f"{fake.url}/a/changes/1/revisions/{rev}/review",
            json={"message": rev},
            auth=("a", "b"),
            timeout=5,
        )
        assert (r.status_code, body(r)) == (200, {})
    too_long = requests.post(
        f"{fake.url}/a/changes/1/revisions/current/review",
        json={"message": "x" * 16385},
        auth=("a", "b"),
        timeout=5,
    )
    assert too_long.status_code == 400


def test_every_request_is_recorded(fake):
    get(fake, "/changes/1?o=MESSAGES", headers={"X-Test": "yes"})
    requests.post(
        fake.url + "/a/changes/1/revisions/1/review",
        json={"message": "m", "tag": "t"},
        auth=("a", "b"),
        timeout=5,
    )
    first, second = fake.requests
    assert (first.method, first.path, first.query) == ("GET", "/changes/1", {"o": ["MESSAGES"]})
    assert first.header("x-test") == "yes" and first.body is None
    assert second.body == {"message": "m", "tag": "t"}
    assert second.raw_body == b'{"message": "m", "tag": "t"}'
    assert fake.requests_to("post", "/review") == [second]


def test_faults_are_used_up_in_order(fake):
    fake.fail_next(500, count=2)
    fake.fail_next(429, body="slow down")
    statuses = [get(fake, "/changes/1").status_code for _ in range(4)]
    assert statuses == [500, 500, 429, 200]
    assert [r.fault for r in fake.requests] == ["status 500", "status 500", "status 429", None]
    with pytest.raises(ValueError):
        fake.fail_next(500, count=0)
    fake.fail_next(503)
    fake.clear_faults()
    assert get(fake, "/changes/1").status_code == 200


def test_stop_cuts_hangs_short():
    import threading
    import time

    fake = FakeGerrit().start()
    fake.add_change(1)
    fake.hang_next(60)
    errors = []
    t = threading.Thread(target=lambda: errors.append(_try_get(fake.url)))
    t.start()
    time.sleep(0.2)
    started = time.monotonic()
    fake.stop()
    t.join(5)
    assert not t.is_alive() and time.monotonic() - started < 3
    assert errors == [True]


def _try_get(url: str) -> bool:
    try:
        requests.get(url + "/changes/1", timeout=30)
    except requests.ConnectionError:
        return True
    return False
