"""Google-signed OIDC ID tokens, as a Pub/Sub push subscription with authentication sends them
(`Authorization: Bearer <JWT>`), verified with PyJWT.

The token must be signed (RS256) by a key of the certs document at `certs_url` (a JWKS, such
as Google's https://www.googleapis.com/oauth2/v3/certs; fetched once and cached for an hour,
fetched again for a key it does not hold), be issued by accounts.google.com for `audience`,
unexpired (30 s of clock skew allowed), and name the push subscription's service account as
its verified `email`.
"""

from __future__ import annotations

import functools

import jwt

__all__ = ["TokenRefused", "verify_google_id_token"]

ISSUERS = ("https://accounts.google.com", "accounts.google.com")
CLOCK_SKEW_SECONDS = 30
# Seconds the certs document is used before it is fetched again, and one fetch's timeout.
CERTS_LIFESPAN_SECONDS = 3600
CERTS_TIMEOUT_SECONDS = 10


class TokenRefused(Exception):
    """`http_status`: 401 for a token that proves nothing, 403 for a proven identity that is
    not the expected one, 503 when the signing keys cannot be fetched (Pub/Sub retries)."""

    def __init__(self, http_status: int, reason: str):
        super().__init__(reason)
        self.http_status = http_status
        self.reason = reason


@functools.lru_cache(maxsize=8)
def _keys(certs_url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(
        certs_url,
        cache_jwk_set=True,
        lifespan=CERTS_LIFESPAN_SECONDS,
        timeout=CERTS_TIMEOUT_SECONDS,
    )


def verify_google_id_token(token: str, *, audience: str, email: str, certs_url: str) -> dict:
    """The token's claims; TokenRefused saying why it is not accepted."""
    try:
        key = _keys(certs_url).get_signing_key_from_jwt(token)
    except jwt.PyJWKClientConnectionError as e:
        raise TokenRefused(503, "the token's signing keys cannot be fetched") from e
    except jwt.PyJWKClientError as e:
        raise TokenRefused(401, "the token is not signed by a key of the certs document") from e
    except jwt.DecodeError as e:
        raise TokenRefused(401, "the bearer token is not a JWT") from e
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=audience,
            issuer=ISSUERS,
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": ["exp", "iss", "aud", "email"]},
        )
    except jwt.ExpiredSignatureError as e:
        raise TokenRefused(401, "the token has expired") from e
    except jwt.InvalidAudienceError as e:
        raise TokenRefused(401, "the token's audience is not this endpoint's") from e
    except jwt.InvalidIssuerError as e:
        raise TokenRefused(401, "the token is not issued by accounts.google.com") from e
    except jwt.InvalidSignatureError as e:
        raise TokenRefused(401, "the token's signature does not verify") from e
    except jwt.MissingRequiredClaimError as e:
        raise TokenRefused(401, f"the token has no {e.claim!r} claim") from e
    except jwt.InvalidTokenError as e:
        raise TokenRefused(401, f"the token is invalid: {e}") from e
    if claims["email"] != email:
        raise TokenRefused(403, "the token's email is not the push service account")
    if claims.get("email_verified") is not True:
        raise TokenRefused(403, "the token's email is not verified")
    return claims
