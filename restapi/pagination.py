"""Keyset pages: an opaque cursor names where the next page starts; no count is ever made.

DRF's CursorPagination, made strict: a malformed cursor or page size is a 400 naming the
parameter (DRF answers 404 for the first and silently clamps the second).
"""

import re
from datetime import UTC, datetime

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination

from runs.models import holds_nul

BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


class KeysetPagination(CursorPagination):
    page_size = DEFAULT_PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE
    page_size_query_param = "page_size"
    page_size_query_description = (
        f"Results per page, 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE})."
    )
    cursor_query_description = "Where the page starts: the `next` or `previous` link's cursor."
    invalid_cursor_message = "not a cursor of this list: follow the `next` and `previous` links"

    def get_page_size(self, request) -> int:
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        field = forms.IntegerField(min_value=1, max_value=self.max_page_size)
        try:
            return field.clean(value)
        except DjangoValidationError as e:
            raise ValidationError({self.page_size_query_param: e.messages}) from None

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(
                    minimum=1, maximum=self.max_page_size, default=self.page_size
                )
            if parameter["name"] == self.cursor_query_param:
                parameter["schema"]["pattern"] = BASE64.pattern
        return parameters

    def paginate_queryset(self, queryset, request, view=None):
        # The field the cursor's position is compared with, to validate a decoded position.
        self.position_field = queryset.model._meta.get_field(
            self.get_ordering(request, queryset, view)[0].lstrip("-")
        )
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        encoded = request.query_params.get(self.cursor_query_param)
        # DRF's base64 decoding skips stray characters: "%00" would decode to a first page.
        if encoded is not None and not BASE64.fullmatch(encoded):
            self.refuse_cursor()
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            self.refuse_cursor()
        if cursor is None or cursor.position is None:
            return cursor
        if holds_nul(cursor.position):
            self.refuse_cursor()
        try:
            position = self.position_field.to_python(cursor.position)
            self.position_field.run_validators(position)
            if isinstance(position, datetime):
                # PostgreSQL refuses zone offsets beyond ±15:59 that a forged cursor may hold.
                position = position.astimezone(UTC)
        except (DjangoValidationError, OverflowError):
            self.refuse_cursor()
        return cursor._replace(position=str(position))

    def refuse_cursor(self):
        raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})


class RunPagination(KeysetPagination):
    # Newest first across projects; ties (same creation time) are ordered by run ID.
    ordering = ("-create_time", "id")


class NewestFirstPagination(KeysetPagination):
    ordering = "-id"
