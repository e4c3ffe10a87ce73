"""POST /pubsub/buildbucket with a Pub/Sub OIDC ID token: verified against a certs document
served on 127.0.0.1 for an RSA key made here; every wrong token refused, nothing stored."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tryjobs import operations
from tryjobs.models import TryjobStatus
from tryjobs.tests.actions_support import cvsite_run, defn, latest_tryjob, requirement

URL = "/pubsub/buildbucket"
AUDIENCE = "https://cvsite.example.com/pubsub/buildbucket"
ACCOUNT = "buildbucket-push@cvsite-project.iam.gserviceaccount.com"
KEY_ID = "test-key-1"
SUCCESS = 12


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class CertsServer:
    """Serves a JWKS document of `keys` (kid -> private key) on 127.0.0.1; counts fetches."""

    def __init__(self, keys: dict[str, rsa.RSAPrivateKey]):
        self.fetches = 0
        jwks = {
            "keys": [
                {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(k.public_key())), "kid": kid}
                for kid, k in keys.items()
            ]
        }
        body = json.dumps(jwks).encode()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.fetches += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format, *args):
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._http.server_port}/oauth2/v3/certs"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._http.shutdown()
        self._http.server_close()
        self._thread.join()


KEY = new_key()


def id_token(key=KEY, kid=KEY_ID, **claims) -> str:
    now = int(time.time())
    payload = {
        "iss": "https://accounts.google.com",
        "aud": AUDIENCE,
        "azp": "1234567890",
        "email": ACCOUNT,
        "email_verified": True,
        "sub": "1234567890",
        "iat": now,
        "exp": now + 3600,
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def certs(settings, fake_bb):
    with CertsServer({KEY_ID: KEY}) as server:
        settings.BUILDBUCKET_PUSH_TOKEN = ""  # the token alone authenticates
        settings.BUILDBUCKET_PUSH_AUDIENCE = AUDIENCE
        settings.BUILDBUCKET_PUSH_SERVICE_ACCOUNT = ACCOUNT
        settings.BUILDBUCKET_PUSH_CERTS_URL = server.url
        yield server


@pytest.fixture
def ended_build(fake_bb, deliver, slept):
    """A tryjob of cvsite whose build just ended; its push delivery, not yet delivered."""
    run = cvsite_run()
    operations.set_requirement(run.id, requirement(defn("linux")), "op")
    tryjob = latest_tryjob(run, 0)
    fake_bb.take_outbox()
    fake_bb.end_build(int(tryjob.external_id.rsplit("/", 1)[1]), SUCCESS)
    [(body, _)] = fake_bb.take_outbox()
    return tryjob, body


def post(client, body: bytes, token: str | None):
    headers = {} if token is None else {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    return client.post(URL, data=body, content_type="application/json", **headers)


@pytest.mark.django_db
def test_a_verified_token_of_the_push_account_is_accepted(client, certs, ended_build):
    tryjob, body = ended_build
    response = post(client, body, id_token())
    assert (response.status_code, response.content) == (200, b"stored\n")
    tryjob.refresh_from_db()
    assert tryjob.status == TryjobStatus.ENDED
    # The issuer without its scheme is Google's too; the keys were fetched once, then cached.
    assert post(client, body, id_token(iss="accounts.google.com")).status_code == 200
    assert certs.fetches == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("token", "status", "reason"),
    [
        (None, 401, "no bearer token"),
        ("not-a-jwt", 401, "the bearer token is not a JWT"),
        (
            id_token(aud="https://elsewhere.example.com"),
            401,
            "the token's audience is not this endpoint's",
        ),
        (id_token(exp=int(time.time()) - 3600), 401, "the token has expired"),
        (id_token(key=new_key()), 401, "the token's signature does not verify"),
        (
            id_token(kid="unknown-key"),
            401,
            "the token is not signed by a key of the certs document",
        ),
        (
            id_token(iss="https://evil.example.com"),
            401,
            "the token is not issued by accounts.google.com",
        ),
        (id_token(email=None), 401, "the token has no 'email' claim"),
        (
            id_token(email="someone@example.com"),
            403,
            "the token's email is not the push service account",
        ),
        (id_token(email_verified=False), 403, "the token's email is not verified"),
        (id_token(email_verified=None), 403, "the token's email is not verified"),
    ],
    ids=[
        "missing",
        "not-a-jwt",
        "wrong-audience",
        "expired",
        "bad-signature",
        "unknown-key",
        "wrong-issuer",
        "no-email",
        "wrong-email",
        "unverified-email",
        "email-verified-absent",
    ],
)
def test_wrong_tokens_are_refused_saying_why_and_store_nothing(
    client, certs, ended_build, token, status, reason
):
    tryjob, body = ended_build
    response = post(client, body, token)
    assert response.status_code == status
    assert response.content.decode() == f"push not authenticated: {reason}\n"
    tryjob.refresh_from_db()
    assert tryjob.status == TryjobStatus.TRIGGERED


@pytest.mark.django_db
def test_unreachable_signing_keys_ask_pub_sub_to_deliver_again(
    client, certs, ended_build, settings
):
    tryjob, body = ended_build
    with CertsServer({}) as gone:
        url = gone.url
    settings.BUILDBUCKET_PUSH_CERTS_URL = url  # nothing listens there any more
    response = post(client, body, id_token())
    assert response.status_code == 503
    assert (
        response.content == b"push not authenticated: the token's signing keys cannot be fetched\n"
    )
    tryjob.refresh_from_db()
    assert tryjob.status == TryjobStatus.TRIGGERED


@pytest.mark.django_db
def test_the_shared_secret_still_works_beside_the_token(client, certs, ended_build, settings):
    tryjob, body = ended_build
    settings.BUILDBUCKET_PUSH_TOKEN = "push-secret"
    assert post(client, body, "wrong-secret").status_code == 401
    assert post(client, body, "push-secret").status_code == 200
    tryjob.refresh_from_db()
    assert tryjob.status == TryjobStatus.ENDED
