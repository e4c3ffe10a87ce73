"""Inserting rows together: several INSERTs, into any tables, in one round trip to PostgreSQL.

Each INSERT Django issues waits for the server's answer before the next one is sent. A call
such as ReportVerifiedRun writes a handful of rows that nothing reads back before its commit
(the verdict, its run event, the call record); `insert_rows` sends such rows in one go, and
`inserts_deferred()` lets the layers of one call hand theirs over to be inserted together
when the call's work is done.
"""

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import connection
from django.db.models import Model
from django.db.models.sql import InsertQuery

_deferred = threading.local()


def insert_rows(rows: Iterable[Model]) -> None:
    """Inserts new model instances, in order; on PostgreSQL as one statement batch.

    Unlike save(), primary keys the database assigns are not read back (they stay None) and
    no signals are sent: for rows that are written and not looked at again.
    """
    statements = []
    for row in rows:
        meta = row._meta
        fields = [
            field
            for field in meta.local_concrete_fields
            if not (field is meta.auto_field and row.pk is None)
        ]
        query = InsertQuery(type(row))
        query.insert_values(fields, [row])
        statements.extend(query.get_compiler(connection=connection).as_sql())
    if not statements:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and _binds_on_client(cursor):
            # A client-side binding cursor sends a simple query, which may hold many statements.
            cursor.execute(
                "; ".join(sql for sql, _ in statements),
                [param for _, params in statements for param in params],
            )
        else:
            for sql, params in statements:
                cursor.execute(sql, params)


def _binds_on_client(cursor) -> bool:
    from psycopg import ClientCursor

    return isinstance(cursor.cursor, ClientCursor)


@contextmanager
def inserts_deferred() -> Iterator[None]:
    """Rows given to `insert_later` in the block are inserted together when it ends normally,
    and dropped if it ends by an exception. Open it inside the transaction that should hold
    them; a block opened inside another one adds to the outer one's rows."""
    if getattr(_deferred, "rows", None) is not None:
        yield
        return
    rows = _deferred.rows = []
    try:
        yield
    finally:
        _deferred.rows = None
    insert_rows(rows)


def insert_later(row: Model) -> None:
    """Inserts `row` (as insert_rows does) at the end of the enclosing inserts_deferred()
    block, or at once outside one."""
    rows = getattr(_deferred, "rows", None)
    if rows is None:
        insert_rows([row])
    else:
        rows.append(row)
