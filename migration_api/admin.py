"""API tokens (list, revoke; the token itself is never shown) and the record of API calls."""

from django.contrib import admin, messages
from django.utils import timezone

from migration_api.models import ApiCall, ApiToken
from runs.admin import ReadOnlyAdmin


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "hint", "scope", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name"]
    fields = ["name", "hint", "scope", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # tokens are created with `manage.py create_api_token`, shown once there

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the calls made with it keep their caller

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)


@admin.register(ApiCall)
class ApiCallAdmin(ReadOnlyAdmin):
    list_display = ["time", "caller", "method", "code", "duration_ms"]
    list_filter = ["method", "code", "caller"]
    date_hierarchy = "time"
