"""What every cvsite admin page shares: rows are shown, never edited."""

from django.contrib import admin
from django.utils.html import format_html
from google.protobuf import text_format


class ReadOnlyAdmin(admin.ModelAdmin):
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
