"""Bearer-token authentication, per-project authorization and call records for the API."""

import logging

from django.utils import timezone

from migration_api.models import ApiCall, ApiToken, hash_token
from prpc.codes import Code, code_name
from prpc.errors import PrpcError
from prpc.service import CallContext

logger = logging.getLogger(__name__)


def authenticate(context: CallContext) -> ApiToken:
    """The caller's active token, from `Authorization: Bearer <token>`."""
    header = context.metadata.first("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise PrpcError(Code.UNAUTHENTICATED, "an `Authorization: Bearer <token>` header is needed")
    row = ApiToken.objects.active().filter(token_hash=hash_token(token.strip())).first()
    if row is None:
        raise PrpcError(Code.UNAUTHENTICATED, "the token is unknown or revoked")
    return row


def require_project(context: CallContext, project: str) -> None:
    """Refuses a call that touches `project` unless the caller's token covers it."""
    token: ApiToken = context.principal
    if not token.allows(project):
        raise PrpcError(
            Code.PERMISSION_DENIED,
            f"token {token.name!r} may not act on project {project!r} (it covers {token.scope})",
        )


class CallRecorder:
    """Observer that records every call (caller, method, code, duration) for the admin."""

    def on_call_finished(self, context: CallContext, code, duration_seconds: float) -> None:
        token = context.principal if isinstance(context.principal, ApiToken) else None
        # After the handler's transaction: a rolled-back call is recorded all the same.
        ApiCall.objects.create(
            time=timezone.now(),
            token=token,
            caller=token.name if token else "anonymous",
            method=context.method,
            code=code_name(code),
            duration_ms=duration_seconds * 1000,
        )
        if code != Code.OK:
            logger.info("%s %s -> %s", context.method, token or "anonymous", code_name(code))
