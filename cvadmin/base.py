"""What every cvsite admin page shares: rows are shown, never edited; secrets are never
filtered on; every change names the operator who made it."""

from django.contrib import admin
from django.db.models.constants import LOOKUP_SEP
from django.utils.html import format_html
from google.protobuf import text_format


def operator(request) -> str:
    """The actor recorded for a change made in the admin."""
    return f"admin:{request.user.get_username()}"


class CVModelAdmin(admin.ModelAdmin):
    """Columns named in `secret_fields` cannot be filtered on through the query string, by
    anyone: `?token_hash__startswith=ab` would reveal a secret one character at a time."""

    secret_fields: tuple[str, ...] = ()

    def lookup_allowed(self, lookup, value, request=None):
        if lookup.split(LOOKUP_SEP, 1)[0] in self.secret_fields:
            return False  # the admin answers 400 Bad Request
        return super().lookup_allowed(lookup, value, request)


class ReadOnlyAdmin(CVModelAdmin):
    """Rows written by the service are facts; the admin shows them and never edits them."""

    show_full_result_count = False  # no second COUNT(*) over tables of millions of rows

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def as_text(message) -> str:
    return format_html("<pre>{}</pre>", text_format.MessageToString(message))


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False
