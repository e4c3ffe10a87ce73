"""Lists of big tables, page after page, without counting rows and without OFFSET.

A list is ordered by a fixed key (columns of one index, ending with a unique one). A page is
the rows after a cursor, the key of the previous page's last row, carried in the URL as
`?after=<cursor>` (or `?before=<cursor>` going back): the database reads one index range of a
page and one row more to know whether there is a next page, at any depth. The total is never
counted; on an unfiltered list PostgreSQL's planner estimate is shown, labelled as one.
"""

import base64
import binascii
import json
import operator
from dataclasses import dataclass
from datetime import datetime
from functools import reduce

from django.contrib import messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connection
from django.db.models import Model, Q

AFTER = "after"
BEFORE = "before"
CURSOR_PARAMS = (AFTER, BEFORE)
MAX_CURSOR_LENGTH = 2000


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class Key:
    """One column of a list's order."""

    attname: str
    descending: bool


def keys_of(model: type[Model], ordering: tuple[str, ...]) -> list[Key]:
    """`ordering` as in `order_by` ("-create_time", "id"): local columns only, so that a
    cursor holds plain values and one index serves the order."""
    keys = []
    for name in ordering:
        field = model._meta.get_field(name.removeprefix("-"))
        keys.append(Key(field.attname, name.startswith("-")))
    return keys


def _json_value(value):
    # Exact to the microsecond: DjangoJSONEncoder would cut times to milliseconds.
    return value.isoformat() if isinstance(value, datetime) else value


def encode(row: Model, keys: list[Key]) -> str:
    values = [_json_value(getattr(row, key.attname)) for key in keys]
    text = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


def decode(text: str, model: type[Model], keys: list[Key]) -> list:
    """The key values a cursor holds, each checked against its column."""
    if len(text) > MAX_CURSOR_LENGTH:
        raise InvalidCursor(f"it is longer than {MAX_CURSOR_LENGTH} characters")
    try:
        raw = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error) as e:
        raise InvalidCursor("it is not a cursor this list wrote") from e
    if not isinstance(raw, list) or len(raw) != len(keys):
        raise InvalidCursor(f"it should hold {len(keys)} values")
    values = []
    for value, key in zip(raw, keys, strict=True):
        field = _field(model, key.attname)
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise InvalidCursor(f"{field.name} is not a string or a number")
        if isinstance(value, str) and "\x00" in value:
            raise InvalidCursor(f"{field.name} holds a NUL character")
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise InvalidCursor(f"{field.name} is out of range")
        try:
            parsed = field.to_python(value)
        except ValidationError as e:
            raise InvalidCursor(f"{field.name}: {' '.join(e.messages)}") from e
        if parsed is None or (isinstance(parsed, datetime) and parsed.tzinfo is None):
            raise InvalidCursor(f"{field.name} needs a value with its time zone")
        values.append(parsed)
    return values


def _field(model: type[Model], attname: str):
    for field in model._meta.concrete_fields:
        if field.attname == attname:
            return field
    raise FieldDoesNotExist(attname)


def beyond(keys: list[Key], values: list, backwards: bool) -> Q:
    """The rows after `values` in the order of `keys` (before them when `backwards`).

    Written as `k1 <= v1 AND (k1 < v1 OR (k1 = v1 AND k2 > v2) ...)`: the first term bounds
    the index range, so the database starts reading at the cursor instead of filtering every
    row before it (the columns may sort in different directions, so no row comparison)."""
    alternatives = []
    equal = Q()
    for key, value in zip(keys, values, strict=True):
        going_down = key.descending != backwards
        alternatives.append(equal & Q(**{f"{key.attname}__{'lt' if going_down else 'gt'}": value}))
        equal &= Q(**{key.attname: value})
    first = keys[0]
    bound = "lte" if first.descending != backwards else "gte"
    return Q(**{f"{first.attname}__{bound}": values[0]}) & reduce(operator.or_, alternatives)


def estimated_rows(model: type[Model]) -> int | None:
    """PostgreSQL's planner estimate of the table's rows (kept by ANALYZE and autovacuum);
    None on other databases or before the table was first analysed."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [model._meta.db_table]
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] >= 0 else None


class KeysetChangeList(ChangeList):
    """Django's change list with keyset pages: the filters, search form and actions are
    Django's; only the order (the model admin's `get_keyset_ordering`) and the paging differ.
    Column headers do not re-sort (the admin sets `sortable_by = ()`): every order has its index.
    """

    def get_filters_params(self, params=None):
        lookup_params = super().get_filters_params(params)
        for name in CURSOR_PARAMS:
            lookup_params.pop(name, None)
        return lookup_params

    def get_query_string(self, new_params=None, remove=None):
        """A link that changes the filters or the search starts again at the first page."""
        new_params = dict(new_params or {})
        remove = list(remove or [])
        if not any(name in new_params for name in CURSOR_PARAMS):
            remove.extend(CURSOR_PARAMS)
        return super().get_query_string(new_params, remove)

    def get_ordering(self, request, queryset):
        return list(self.model_admin.get_keyset_ordering(request))

    def get_results(self, request):
        keys = keys_of(self.model, tuple(self.get_ordering(request, self.queryset)))
        backwards = BEFORE in self.params and AFTER not in self.params
        cursor = self.params.get(BEFORE if backwards else AFTER)
        queryset = self.queryset
        if cursor is not None:
            try:
                values = decode(cursor, self.model, keys)
            except InvalidCursor as e:
                messages.error(
                    request, f"The page cursor in the URL is invalid ({e}); showing the first page."
                )
                cursor, backwards = None, False
            else:
                queryset = queryset.filter(beyond(keys, values, backwards))
        if backwards:
            queryset = queryset.reverse()
        rows = list(queryset[: self.list_per_page + 1])
        more = len(rows) > self.list_per_page
        rows = rows[: self.list_per_page]
        if backwards:
            rows.reverse()
        has_next = (more or backwards) and bool(rows)
        has_previous = (more if backwards else cursor is not None) and bool(rows)
        self.next_url = (
            self.get_query_string({AFTER: encode(rows[-1], keys)}, [BEFORE]) if has_next else ""
        )
        self.previous_url = (
            self.get_query_string({BEFORE: encode(rows[0], keys)}, [AFTER]) if has_previous else ""
        )
        self.first_url = self.get_query_string() if cursor is not None else ""
        filtered = self.query or self.get_filters_params()
        self.estimated_total = None if filtered else estimated_rows(self.model)
        self.result_list = rows
        # Counts of this page only; the search form then offers no "show all" link.
        self.result_count = self.full_result_count = len(rows)
        self.show_full_result_count = False
        self.show_admin_actions = True
        self.can_show_all = False
        self.multi_page = has_next or has_previous
        self.paginator = None
