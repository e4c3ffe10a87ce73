"""Bearer-token authentication, per-project authorization and call records for the API."""

import logging
import threading
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from migration_api.models import ApiCall, ApiToken, RefusedCalls, hash_token
from prpc.codes import Code, code_name
from prpc.errors import PrpcError
from prpc.service import CallContext

logger = logging.getLogger(__name__)


class TokenCache:
    """Active tokens by hash, each trusted for `API_TOKEN_CACHE_SECONDS` after it was read.

    Per process and thread-safe. Unknown and revoked tokens are never kept, so a new token
    works at once and guessing fills nothing; `revoke` forgets this process's entries.
    """

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[float, ApiToken]] = {}

    def get(self, token_hash: str) -> ApiToken | None:
        ttl = settings.API_TOKEN_CACHE_SECONDS
        now = self._clock()
        with self._lock:
            cached = self._tokens.get(token_hash)
        if cached is not None and now < cached[0]:
            return cached[1]
        row = ApiToken.objects.active().filter(token_hash=token_hash).first()
        with self._lock:
            if row is not None and ttl > 0:
                self._tokens[token_hash] = (now + ttl, row)
            else:
                self._tokens.pop(token_hash, None)
        return row

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


tokens = TokenCache()


def authenticate(context: CallContext) -> ApiToken:
    """The caller's active token, from `Authorization: Bearer <token>`."""
    header = context.metadata.first("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise PrpcError(Code.UNAUTHENTICATED, "an `Authorization: Bearer <token>` header is needed")
    row = tokens.get(hash_token(token.strip()))
    if row is None:
        raise PrpcError(Code.UNAUTHENTICATED, "the token is unknown or revoked")
    return row


def revoke(queryset, actor: str) -> int:
    """Revokes the active tokens of `queryset` on behalf of `actor`; returns how many. They stop
    working at once in this process, and in others once their cache entries expire
    (API_TOKEN_CACHE_SECONDS)."""
    count = queryset.filter(revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=actor
    )
    tokens.clear()
    return count


def require_project(context: CallContext, project: str) -> None:
    """Refuses a call that touches `project` unless the caller's token covers it."""
    token: ApiToken = context.principal
    if not token.allows(project):
        raise PrpcError(
            Code.PERMISSION_DENIED,
            f"token {token.name!r} may not act on project {project!r} (it covers {token.scope})",
        )


class CallRecorder:
    """Observer that records every call of a known caller (token, method, code, duration) for
    the admin, and counts the others per minute (RefusedCalls).

    A successful call is recorded in its own transaction, so its effects never land without
    their record and cost one commit; a failed one after the rollback, all the same.
    """

    in_transaction = True

    def on_call_finished(self, context: CallContext, code, duration_seconds: float) -> None:
        now = timezone.now()
        token = context.principal if isinstance(context.principal, ApiToken) else None
        if token is None:
            count_refused(now, context.method, code_name(code))
            return
        ApiCall.objects.create(
            time=now,
            token=token,
            caller=token.name,
            method=context.method,
            code=code_name(code),
            duration_ms=duration_seconds * 1000,
        )
        if code != Code.OK:
            logger.info("%s %s -> %s", context.method, token, code_name(code))


def count_refused(now, method: str, code: str) -> None:
    minute = now.replace(second=0, microsecond=0)
    key = {"minute": minute, "method": method, "code": code}
    if RefusedCalls.objects.filter(**key).update(count=F("count") + 1):
        return
    try:
        with transaction.atomic():
            RefusedCalls.objects.create(count=1, **key)
    except IntegrityError:  # a concurrent call created the minute's row first
        RefusedCalls.objects.filter(**key).update(count=F("count") + 1)
