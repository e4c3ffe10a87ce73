"""Per-caller rate limits, announced in the standard RateLimit-* headers.

Each token (or staff user) has its own budget of `REST_API_THROTTLE_RATE` requests; over it,
the answer is 429 with Retry-After. Every answer says how much of the budget is left
(RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset: IETF httpapi rate-limit headers).
The counts live in Django's cache: configure a shared cache to count across processes.
"""

import math
from dataclasses import dataclass

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from migration_api.models import ApiToken


@dataclass(frozen=True)
class RateLimitState:
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }


class PerCallerRateThrottle(SimpleRateThrottle):
    scope = "restapi"

    def get_rate(self) -> str:
        # Read per request, not frozen at import like DRF's THROTTLE_RATES.
        return settings.REST_API_THROTTLE_RATE

    def get_cache_key(self, request, view) -> str:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"address-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view) -> bool:
        allowed = super().allow_request(request, view)
        oldest = self.history[-1] if self.history else self.now
        request.rate_limit = RateLimitState(
            limit=self.num_requests,
            remaining=max(self.num_requests - len(self.history), 0),
            reset_seconds=math.ceil(oldest + self.duration - self.now),
        )
        return allowed
