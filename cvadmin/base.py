"""What every cvsite admin page shares: rows are shown, never edited; secrets are never
filtered on; every change names the operator who made it."""

from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.db.models.constants import LOOKUP_SEP
from django.utils.html import format_html
from google.protobuf import text_format

from cvadmin.keyset import KeysetChangeList


def operator(request) -> str:
    """The actor recorded for a change made in the admin."""
    return f"admin:{request.user.get_username()}"


class CVModelAdmin(admin.ModelAdmin):
    """Columns named in `secret_fields` cannot be filtered on through the query string, by
    anyone: `?token_hash__startswith=ab` would reveal a secret one character at a time."""

    secret_fields: tuple[str, ...] = ()
    show_full_result_count = False  # no second COUNT(*) over the whole table

    def lookup_allowed(self, lookup, value, request=None):
        if lookup.split(LOOKUP_SEP, 1)[0] in self.secret_fields:
            return False  # the admin answers 400 Bad Request
        return super().lookup_allowed(lookup, value, request)

    def get_search_results(self, request, queryset, search_term):
        """Search fields marked "=" match exactly: Django's "=" is `iexact`, which no index
        serves. Text that no such field can hold (letters for a number, a NUL) matches none."""
        paths = [f[1:] for f in self.get_search_fields(request) if f.startswith("=")]
        term = search_term.strip()
        if not term or not paths:
            return super().get_search_results(request, queryset, search_term)
        condition = Q(pk__in=[])
        for path in paths:
            field = get_fields_from_path(self.model, path)[-1]
            try:
                value = field.to_python(term)
            except ValidationError:
                continue
            if isinstance(value, int) and not -(2**63) <= value < 2**63:
                continue  # no column holds it, and SQLite would overflow
            if "\x00" not in str(value):
                condition |= Q(**{path: value})
        return queryset.filter(condition), False


class ReadOnlyAdmin(CVModelAdmin):
    """Rows written by the service are facts; the admin shows them and never edits them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class KeysetAdmin(ReadOnlyAdmin):
    """The list of a big table: keyset pages (cvadmin.keyset) in one fixed order that an index
    serves, whatever the filters; `get_keyset_ordering` may pick another order per filter."""

    keyset_ordering: tuple[str, ...] = ("-id",)
    sortable_by = ()
    show_facets = admin.ShowFacets.NEVER  # a facet is a COUNT over the table per filter choice
    change_list_template = "admin/keyset_change_list.html"

    def get_keyset_ordering(self, request) -> tuple[str, ...]:
        return self.keyset_ordering

    def get_changelist(self, request, **kwargs):
        return KeysetChangeList


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
