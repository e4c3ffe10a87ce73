"""Buildbucket's Pub/Sub pushes stored as tryjob updates (buildbucket.md §2.8, §2.9, §2.11).

`authenticate` checks the push's bearer token: the shared secret, or a Google-signed OIDC ID
token of the push subscription's service account (tryjobs.buildbucket.oidc). `receive_push`
decodes the delivery and, for a build cvsite tracks, stores its status and result through
`tryjobs.updates.record_tryjob_updates` (an older update never overwrites a newer one, an
equal one changes nothing; the runs watching the tryjob are woken). A delivery whose large
fields were dropped is completed with GetBuild first, outside any transaction.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import OperationalError

from cvproto.codes import Code
from runs.errors import ActionError
from tryjobs import external_id as eid
from tryjobs.backend import BackendError
from tryjobs.buildbucket import messages
from tryjobs.buildbucket.backend import BuildbucketBackend
from tryjobs.buildbucket.oidc import TokenRefused, verify_google_id_token
from tryjobs.buildbucket.pubsub import NotificationError, decode_push
from tryjobs.changes import calling_projects
from tryjobs.models import Tryjob
from tryjobs.updates import TryjobUpdate, record_tryjob_updates

__all__ = ["PushOutcome", "authenticate", "receive_push"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PushOutcome:
    """What became of a delivery. `http_status` acks (2xx) or asks for redelivery (5xx)."""

    http_status: int
    detail: str


def authenticate(bearer: str) -> PushOutcome | None:
    """None when `bearer` is the configured push secret or a verified OIDC ID token of the
    configured service account for the configured audience; else the refusal (401, 403, or
    503 when Google's keys cannot be fetched), saying why. Nothing configured: refused."""
    secret = settings.BUILDBUCKET_PUSH_TOKEN
    if secret and hmac.compare_digest(bearer.encode(), secret.encode()):
        return None
    audience = settings.BUILDBUCKET_PUSH_AUDIENCE
    email = settings.BUILDBUCKET_PUSH_SERVICE_ACCOUNT
    if not (audience and email):
        return PushOutcome(401, "push not authenticated: not the push secret")
    if not bearer:
        return PushOutcome(401, "push not authenticated: no bearer token")
    try:
        verify_google_id_token(
            bearer,
            audience=audience,
            email=email,
            certs_url=settings.BUILDBUCKET_PUSH_CERTS_URL,
        )
    except TokenRefused as e:
        return PushOutcome(e.http_status, f"push not authenticated: {e.reason}")
    return None


def receive_push(body: bytes, backend: BuildbucketBackend | None = None) -> PushOutcome:
    try:
        notification = decode_push(body)
    except NotificationError as e:
        return PushOutcome(400, str(e))
    external_id = eid.buildbucket_external_id(notification.host, notification.build_id)
    tryjob_id = Tryjob.objects.with_external_ids([external_id]).values_list("id", flat=True).first()
    if tryjob_id is None:
        return PushOutcome(200, f"{external_id} is not a tryjob of cvsite: ignored")
    try:
        if notification.build is None:
            project = calling_projects([tryjob_id]).get(tryjob_id, "")
            parsed = (backend or BuildbucketBackend()).fetch(external_id, project=project)
        else:
            parsed = messages.parse_build(notification.build)
    except BackendError as e:
        # Pub/Sub delivers again later; the poller would catch it too.
        return PushOutcome(503, f"fetching {external_id}: code {e.code}")
    except messages.BuildParseError as e:
        logger.warning("push for %s dropped: %s", external_id, e)
        return PushOutcome(200, f"dropped: {e}")
    try:
        changed = record_tryjob_updates([TryjobUpdate(external_id, parsed.status, parsed.result)])
    except OperationalError as e:
        logger.warning("push for %s not stored yet: %s", external_id, e)
        return PushOutcome(503, "database busy: deliver again")
    except ActionError as e:
        if e.code == Code.NOT_FOUND:
            return PushOutcome(200, f"{external_id} is not a tryjob of cvsite: ignored")
        logger.warning("push for %s dropped: %s", external_id, e.message)
        return PushOutcome(200, f"dropped: {e.message}")
    return PushOutcome(200, "stored" if changed else "no change")
