"""Bulk writes for backfills: many rows per statement, no model instances.

Building a Django model instance per row costs more than inserting the row, so backfills hand
plain column dicts to `insert` and get them into the table the way each database takes rows
fastest: `executemany` on SQLite, `COPY` on PostgreSQL. IDs that later rows refer to are
allocated up front (`allocate_ids`), so a batch needs no round trip per row.

Everything here runs inside the caller's transaction and assumes it holds the write lock on
SQLite (the batch transaction starts with a write, see `take_write_lock`), which is what makes
allocating IDs from the table's maximum safe there.
"""

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter

from django.db import connection, models
from django.utils import timezone

from runs.models import BackfillCheckpoint

__all__ = ["Table", "allocate_ids", "take_write_lock", "update_rows"]


class Table:
    """A model's table as the writer sees it: column order, defaults and value adapters."""

    _cache: dict[tuple[type, str], "Table"] = {}

    def __init__(self, model: type[models.Model], vendor: str):
        self.model = model
        self.name = model._meta.db_table
        self.vendor = vendor
        self.fields = [f for f in model._meta.concrete_fields]
        self.pk = model._meta.pk

    @classmethod
    def of(cls, model: type[models.Model]) -> "Table":
        key = (model, connection.vendor)
        table = cls._cache.get(key)
        if table is None:
            table = cls._cache[key] = cls(model, connection.vendor)
        return table

    def columns(self, with_pk: bool) -> list[models.Field]:
        return [f for f in self.fields if with_pk or f is not self.pk]

    def adapter(self, field: models.Field):
        """A function turning a column's Python value into what the driver takes, or None."""
        if isinstance(field, models.JSONField):
            return _json
        if self.vendor == "sqlite" and isinstance(field, models.DateTimeField):
            return _sqlite_datetime
        return None

    def default(self, field: models.Field, now: datetime):
        if isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add):
            return now
        return field.get_default()  # "" for text columns, None when there is no default


def take_write_lock() -> None:
    """Makes the current transaction a writer right away (SQLite's BEGIN is deferred unless
    configured IMMEDIATE), so IDs allocated from MAX(id) cannot be taken by another writer."""
    if connection.vendor == "sqlite":
        table = connection.ops.quote_name(BackfillCheckpoint._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET position = position WHERE 1 = 0")  # noqa: S608


def allocate_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` new primary keys for `model`'s table, to be inserted in this transaction."""
    if count <= 0:
        return []
    table = model._meta.db_table
    column = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, column, count],
            )
            return [row[0] for row in cursor.fetchall()]
        quoted = connection.ops.quote_name(table)
        cursor.execute(
            f"SELECT MAX(COALESCE((SELECT MAX({connection.ops.quote_name(column)}) "  # noqa: S608
            f"FROM {quoted}), 0), COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0))",
            [table],
        )
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + count))


def insert(
    model: type[models.Model],
    rows: Sequence[dict],
    *,
    with_pk: bool = True,
    ignore_conflicts: bool = False,
) -> int:
    """Inserts `rows` (dicts by attname; missing columns get their defaults) into `model`'s
    table. With `ignore_conflicts`, rows that break a unique constraint are skipped (plain
    INSERT ... ON CONFLICT DO NOTHING then, on both databases). Returns len(rows)."""
    if not rows:
        return 0
    table = Table.of(model)
    now = timezone.now()
    fields = table.columns(with_pk)
    defaults = {f.attname: table.default(f, now) for f in fields}
    getter = itemgetter(*[f.attname for f in fields])
    adapters = [(i, a) for i, f in enumerate(fields) if (a := table.adapter(f)) is not None]

    complete = len(defaults)

    def values(row: dict) -> list:
        out = list(getter(row if len(row) == complete else {**defaults, **row}))
        for i, adapt in adapters:
            out[i] = adapt(out[i])
        return out

    quote = connection.ops.quote_name
    column_list = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not ignore_conflicts:
            with cursor.cursor.copy(
                f"COPY {quote(table.name)} ({column_list}) FROM STDIN"  # noqa: S608
            ) as copy:
                for row in rows:
                    copy.write_row(values(row))
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            sql = f"INSERT INTO {quote(table.name)} ({column_list}) VALUES ({placeholders})"
            if ignore_conflicts:
                sql += " ON CONFLICT DO NOTHING"
            cursor.executemany(sql, [values(row) for row in rows])
    return len(rows)


def update_rows(
    model: type[models.Model],
    set_columns: Sequence[str],
    rows: Iterable[Sequence],
    *,
    where: str = "",
) -> None:
    """UPDATE `model`'s table SET each of `set_columns` WHERE pk = ..., for many rows at once.

    Each row is (value for each set column..., pk, extra `where` parameters...); `where` is an
    extra SQL condition with %s placeholders (e.g. "patchset < %s").
    """
    rows = list(rows)
    if not rows:
        return
    table = Table.of(model)
    by_name = {f.attname: f for f in table.fields}
    adapters = [table.adapter(by_name[c]) for c in set_columns]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(by_name[c].column)} = %s" for c in set_columns)
    sql = (
        f"UPDATE {quote(table.name)} SET {assignments} "  # noqa: S608
        f"WHERE {quote(table.pk.column)} = %s" + (f" AND ({where})" if where else "")
    )
    params = []
    for row in rows:
        row = list(row)
        for i, adapt in enumerate(adapters):
            if adapt is not None:
                row[i] = adapt(row[i])
        params.append(row)
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _sqlite_datetime(value: datetime | None) -> str | None:
    """What Django's SQLite backend stores for an aware datetime (naive UTC text), quickly."""
    if value is None:
        return None
    return _sqlite_datetime_text(value)


@lru_cache(maxsize=8192)  # a batch repeats its times: "now", a run's times in its CLs' rows
def _sqlite_datetime_text(value: datetime) -> str:
    if value.tzinfo is not None:
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        value = value.replace(tzinfo=None)
    return str(value)


def _json(value):
    if value is None:
        return None
    return "[]" if value == [] else json.dumps(value)
