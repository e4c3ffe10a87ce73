"""Which credentials client_for_host picks, what Gerrit sees, and that secrets never leak."""

import base64
import logging
import pickle
import traceback

import pytest

from cvproto.codes import Code
from gerrit.client import client_for_host
from gerrit.credentials import Credentials, CredentialSource, resolve_credentials
from gerrit.errors import GerritError
from runs.models import NetrcToken

CONFIGURED = "configured-bot:Zq8configuredPassw0rd"
FROM_FILE = ("file-bot", "Xy7filePassw0rd")
TOKEN = "git-legacy.example.com:1/Hk3legacyNetrcT0ken"

PROJECT = "chromium"


def basic(pair: str) -> str:
    return "Basic " + base64.b64encode(pair.encode()).decode()


def store_netrc_token(host: str, token: str = TOKEN, project: str = PROJECT) -> NetrcToken:
    row = NetrcToken(gerrit_host=host, project=project)
    row.set_access_token(token)
    row.save()
    return row


@pytest.fixture
def gerrit(fake_gerrit):
    fake_gerrit.add_change(123, project="infra/infra")
    return fake_gerrit


@pytest.fixture
def netrc_file(tmp_path, gerrit):
    path = tmp_path / "gerrit.netrc"
    login, password = FROM_FILE
    path.write_text(
        f"machine other.example.com login someone password else\n"
        f"machine {gerrit.host} login {login} password {password}\n"
    )
    path.chmod(0o600)
    return path


@pytest.mark.django_db
class TestSelection:
    def test_configured_beats_netrc_token(self, gerrit, settings):
        store_netrc_token(gerrit.host)
        settings.GERRIT_AUTH = {gerrit.host: CONFIGURED}
        with client_for_host(gerrit.host, project=PROJECT) as client:
            assert client.credential_source == "GERRIT_AUTH"
            client.get_change(123)
        req = gerrit.last_request
        assert req.path == "/a/changes/123"
        assert req.authorization == basic(CONFIGURED)

    def test_netrc_token_when_nothing_is_configured(self, gerrit, settings):
        settings.GERRIT_AUTH = {"some-other-review.example.com": CONFIGURED}
        store_netrc_token(gerrit.host)
        with client_for_host(gerrit.host, project=PROJECT) as client:
            assert client.credential_source == "netrc token"
            client.set_review(123, "current", "hello")
        req = gerrit.last_request
        assert req.path == "/a/changes/123/revisions/current/review"
        # The stored token is the .netrc "login:password" pair, base64'd verbatim.
        assert req.authorization == basic(TOKEN)
        assert (
            req.authorization
            == "Basic Z2l0LWxlZ2FjeS5leGFtcGxlLmNvbToxL0hrM2xlZ2FjeU5ldHJjVDBrZW4="
        )

    def test_netrc_token_of_another_host_is_not_used(self, gerrit):
        store_netrc_token("chromium-review.googlesource.com")
        with client_for_host(gerrit.host, project=PROJECT) as client:
            client.get_change(123)
        assert gerrit.last_request.authorization is None

    def test_netrc_token_of_another_project_is_not_used(self, gerrit):
        # Finding 2: a webrtc CQDaemon's token must never authenticate chromium's calls.
        store_netrc_token(gerrit.host, project="webrtc")
        with client_for_host(gerrit.host, project=PROJECT) as client:
            assert client.credential_source == "anonymous"

    def test_the_all_projects_token_is_the_default_and_a_projects_own_wins(self, gerrit):
        store_netrc_token(gerrit.host, "default:Pp1defaultPass", project=NetrcToken.ALL_PROJECTS)
        with client_for_host(gerrit.host, project=PROJECT) as client:
            client.get_change(123)
        assert gerrit.last_request.authorization == basic("default:Pp1defaultPass")
        store_netrc_token(gerrit.host)
        with client_for_host(gerrit.host, project=PROJECT) as client:
            client.get_change(123)
        assert gerrit.last_request.authorization == basic(TOKEN)
        # Calls made for no project may use only the default.
        assert resolve_credentials(gerrit.host).source == CredentialSource.NETRC_TOKEN

    def test_a_token_reported_before_tokens_had_projects_is_not_used(self, gerrit):
        store_netrc_token(gerrit.host, project=NetrcToken.LEGACY_UNSCOPED)
        assert resolve_credentials(gerrit.host, PROJECT) is None
        assert resolve_credentials(gerrit.host) is None

    def test_anonymous_when_nothing_is_known(self, gerrit):
        with client_for_host(gerrit.host, project=PROJECT) as client:
            assert not client.authenticated
            assert client.credential_source == "anonymous"
            assert client.get_change(123).number == 123
        req = gerrit.last_request
        assert req.path == "/changes/123"
        assert req.authorization is None

    def test_anonymous_refused_when_credentials_are_required(self, gerrit):
        with pytest.raises(GerritError) as e:
            client_for_host(gerrit.host, project=PROJECT, anonymous_ok=False)
        assert (e.value.code, e.value.transient) == (Code.INTERNAL, False)
        assert f"no credentials for Gerrit host {gerrit.host}" in str(e.value)
        assert gerrit.requests == []

    def test_netrc_file_when_not_configured(self, gerrit, settings, netrc_file):
        store_netrc_token(gerrit.host)
        settings.GERRIT_NETRC_FILE = str(netrc_file)
        with client_for_host(gerrit.host, project=PROJECT) as client:
            assert client.credential_source == "GERRIT_NETRC_FILE"
            client.get_change(123)
        assert gerrit.last_request.authorization == basic(":".join(FROM_FILE))

    def test_configured_beats_netrc_file(self, gerrit, settings, netrc_file):
        settings.GERRIT_NETRC_FILE = str(netrc_file)
        settings.GERRIT_AUTH = {gerrit.host: CONFIGURED}
        with client_for_host(gerrit.host, project=PROJECT) as client:
            client.get_change(123)
        assert gerrit.last_request.authorization == basic(CONFIGURED)

    def test_host_missing_from_netrc_file_falls_through(self, gerrit, settings, tmp_path):
        path = tmp_path / "netrc"
        path.write_text("machine other.example.com login a password b\n")
        settings.GERRIT_NETRC_FILE = str(path)
        store_netrc_token(gerrit.host)
        assert resolve_credentials(gerrit.host, PROJECT).source == CredentialSource.NETRC_TOKEN

    def test_unreadable_netrc_file_is_internal(self, gerrit, settings, tmp_path):
        settings.GERRIT_NETRC_FILE = str(tmp_path / "missing")
        with pytest.raises(GerritError) as e:
            client_for_host(gerrit.host, project=PROJECT)
        assert e.value.code == Code.INTERNAL
        assert "GERRIT_NETRC_FILE cannot be read" in str(e.value)

    def test_malformed_netrc_file_error_does_not_quote_it(self, gerrit, settings, tmp_path):
        path = tmp_path / "netrc"
        path.write_text("machine h login x password Secr3tValue Qq9strayToken\n")
        settings.GERRIT_NETRC_FILE = str(path)
        with pytest.raises(GerritError) as e:
            client_for_host(gerrit.host, project=PROJECT)
        assert "GERRIT_NETRC_FILE is malformed near line" in str(e.value)
        assert "Secr3tValue" not in str(e.value) and "Qq9strayToken" not in str(e.value)
        assert e.value.__context__ is None  # the parser's exception quotes the file

    def test_token_encrypted_with_a_retired_key_is_internal(self, gerrit, settings):
        store_netrc_token(gerrit.host)
        settings.NETRC_TOKEN_KEYS = ["UJ8nRzQ8s3mJ0mZgYJZrjb9z6m8tXx3hQZB0Xr5m7VI="]
        with pytest.raises(GerritError) as e:
            client_for_host(gerrit.host, project=PROJECT)
        assert e.value.code == Code.INTERNAL
        assert "cannot be decrypted" in str(e.value)

    def test_requests_does_not_fall_back_to_the_users_netrc(self, gerrit, tmp_path, monkeypatch):
        home_netrc = tmp_path / ".netrc"
        home_netrc.write_text("machine 127.0.0.1 login me password Ww2personalPass\n")
        home_netrc.chmod(0o600)
        monkeypatch.setenv("NETRC", str(home_netrc))
        with client_for_host(gerrit.host, project=PROJECT) as client:
            client.get_change(123)
        assert gerrit.last_request.authorization is None

    def test_fake_with_registered_accounts_rejects_other_credentials(self, gerrit, settings):
        gerrit.add_account("configured-bot", "Zq8configuredPassw0rd", account_id=42)
        settings.GERRIT_AUTH = {gerrit.host: CONFIGURED}
        with client_for_host(gerrit.host, project=PROJECT) as client:
            client.set_review(123, "current", "as the bot")
        assert gerrit.change(123)["messages"][-1]["author"]["_account_id"] == 42
        settings.GERRIT_AUTH = {gerrit.host: "configured-bot:wrong-password"}
        with (
            client_for_host(gerrit.host, project=PROJECT) as client,
            pytest.raises(GerritError) as e,
        ):
            client.get_change(123)
        assert (e.value.code, e.value.http_status) == (Code.INTERNAL, 401)


class TestSecretsStayHidden:
    SECRETS = (
        CONFIGURED,
        "Zq8configuredPassw0rd",
        basic(CONFIGURED),
        basic(CONFIGURED).removeprefix("Basic "),
    )

    def assert_hidden(self, *texts: str) -> None:
        for text in texts:
            for secret in self.SECRETS:
                assert secret not in text

    def test_credentials_repr_str_and_pickle(self):
        creds = Credentials(CredentialSource.SETTINGS, CONFIGURED)
        assert repr(creds) == str(creds) == "<Credentials from GERRIT_AUTH>"
        with pytest.raises(TypeError, match="not picklable"):
            pickle.dumps(creds)
        assert set(self.SECRETS) <= set(creds.secrets())

    @pytest.mark.django_db
    def test_errors_logs_and_reprs(self, gerrit, settings, caplog):
        caplog.set_level(logging.DEBUG)
        settings.GERRIT_AUTH = {gerrit.host: CONFIGURED}
        client = client_for_host(gerrit.host, project=PROJECT, timeout=0.2)
        # A misbehaving server echoing the credentials back must not get them into our text.
        header = basic(CONFIGURED)
        gerrit.fail_next(500, body=f"bad request with Authorization: {header} ({CONFIGURED})")
        gerrit.fail_next(403, body="x" * 480 + CONFIGURED)  # straddles the excerpt cut
        gerrit.fail_next(200, body=f"not json {CONFIGURED}")
        gerrit.hang_next(2, then_answer=False)
        gerrit.drop_next()
        errors = []
        for _ in range(5):
            with pytest.raises(GerritError) as e:
                client.get_change(123)
            errors.append(e.value)
        assert [e.http_status for e in errors] == [500, 403, None, None, None]
        assert "[REDACTED]" in str(errors[0])
        assert {r.authorization for r in gerrit.requests} == {header}

        gerrit.stop()  # connection refused
        with pytest.raises(GerritError) as e:
            client_for_host(gerrit.host, project=PROJECT).get_change(123)
        errors.append(e.value)

        for error in errors:
            assert error.__cause__ is None and error.__context__ is None
            self.assert_hidden(str(error), repr(error), "".join(traceback.format_exception(error)))
        self.assert_hidden(repr(client), str(client), repr(client._auth), caplog.text)
        assert "HTTP 500" in caplog.text and "did not answer" in caplog.text  # it did log

    @pytest.mark.django_db
    def test_netrc_token_hidden_too(self, gerrit, caplog):
        caplog.set_level(logging.DEBUG)
        store_netrc_token(gerrit.host)
        gerrit.fail_next(503, body=f"echo {TOKEN}")
        client = client_for_host(gerrit.host, project=PROJECT)
        with pytest.raises(GerritError) as e:
            client.get_change(123)
        for text in (str(e.value), repr(e.value), repr(client), caplog.text):
            assert TOKEN not in text and "Hk3legacyNetrcT0ken" not in text
            assert basic(TOKEN) not in text
