"""API tokens (list, revoke; the token itself is never shown) and the record of API calls."""

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import OuterRef, Subquery

from cvadmin.base import CVModelAdmin, KeysetAdmin, operator
from cvadmin.filters import CallerFilter, api_code_filter, api_method_filter, recent_filter
from migration_api import auth
from migration_api.models import ApiCall, ApiToken, RefusedCalls


@admin.register(ApiToken)
class ApiTokenAdmin(CVModelAdmin):
    list_display = ["name", "hint", "scope", "created_at", "last_used", "revoked_at", "revoked_by"]
    list_filter = ["revoked_at"]
    search_fields = ["name"]
    fields = ["name", "hint", "scope", "created_at", "last_used", "revoked_at", "revoked_by"]
    secret_fields = ("token_hash",)
    readonly_fields = fields
    actions = ["revoke"]

    def get_queryset(self, request):
        # Derived from the call records rather than written on every call: each token's
        # latest call, one index lookup (apicall_token) per token.
        latest = ApiCall.objects.filter(token=OuterRef("pk")).order_by("-time").values("time")
        return super().get_queryset(request).annotate(last_used_at=Subquery(latest[:1]))

    @admin.display(description="last used", ordering="last_used_at")
    def last_used(self, obj):
        return obj.last_used_at

    def has_add_permission(self, request):
        return False  # tokens are created with `manage.py create_api_token`, shown once there

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the calls made with it keep their caller

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke(self, request, queryset):
        count = auth.revoke(queryset, operator(request))
        self.message_user(
            request,
            f"Revoked {count} token(s). Other server processes may still accept them for up "
            f"to {settings.API_TOKEN_CACHE_SECONDS:g} s.",
            messages.SUCCESS,
        )


@admin.register(ApiCall)
class ApiCallAdmin(KeysetAdmin):
    list_display = ["time", "caller", "method", "code", "duration_ms"]
    list_filter = [recent_filter("time"), api_method_filter(), api_code_filter(), CallerFilter]
    keyset_ordering = ("-time", "-id")


@admin.register(RefusedCalls)
class RefusedCallsAdmin(KeysetAdmin):
    """Calls refused before a token was known, counted per minute (not stored one by one)."""

    list_display = ["minute", "method", "code", "count"]
    list_filter = [recent_filter("minute"), api_code_filter(), api_method_filter()]
    keyset_ordering = ("-minute", "-id")
