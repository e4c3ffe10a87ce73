"""Who may read the API, and which LUCI projects they see.

Callers are the Migration API's hashed bearer tokens (a token sees only its projects) and
logged-in staff through the admin's session (they see every project). Objects of projects
outside the caller's scope are answered 404, like objects that do not exist, so that their
existence does not leak.
"""

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

from migration_api.auth import tokens
from migration_api.models import ApiToken, hash_token


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>` with an active API token (the Migration API's)."""

    def authenticate(self, request):
        scheme, _, token = get_authorization_header(request).partition(b" ")
        if scheme.lower() != b"bearer":
            return None  # not ours: the session may still authenticate the caller
        try:
            token = token.strip().decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("the bearer token is not ASCII") from None
        if not token:
            raise AuthenticationFailed("the Authorization header has no token after Bearer")
        row = tokens.get(hash_token(token))
        if row is None:
            raise AuthenticationFailed("the token is unknown or revoked")
        return AnonymousUser(), row

    def authenticate_header(self, request) -> str:
        # Named first among the view's authenticators, it makes a missing token a 401.
        return 'Bearer realm="cvsite"'


class TokenOrStaff(BasePermission):
    message = "an API token or a staff login is needed"

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiToken) or bool(
            request.user and request.user.is_authenticated and request.user.is_staff
        )


@dataclass(frozen=True)
class ProjectScope:
    """The LUCI projects a caller sees; `projects` is None for every project."""

    projects: frozenset[str] | None

    @classmethod
    def of(cls, request) -> "ProjectScope":
        token = request.auth
        if isinstance(token, ApiToken) and not token.all_projects:
            return cls(frozenset(token.projects))
        return cls(None)  # an all-projects token, or staff (TokenOrStaff let no one else in)

    def allows(self, project: str) -> bool:
        return self.projects is None or project in self.projects

    def filter(self, queryset: QuerySet, project_field: str) -> QuerySet:
        if self.projects is None:
            return queryset
        return queryset.filter(**{f"{project_field}__in": sorted(self.projects)})
