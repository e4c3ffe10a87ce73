"""Statements together: several SELECTs, or several INSERTs into any tables, in one round trip
to PostgreSQL.

Each statement Django issues waits for the server's answer before the next one is sent. A call
such as ReportVerifiedRun reads a couple of things it needs at once (the run it locks, its
verdict so far) and writes a handful of rows that nothing reads back before its commit (the
verdict, its run event, the call record). `select_together` reads such things in one go and
`insert_rows` writes such rows in one go; `inserts_deferred()` lets the layers of one call hand
their rows over to be inserted together when the call's work is done.
"""

import inspect
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable
from django.db.models.sql import InsertQuery
from django.db.models.sql.compiler import SQLCompiler
from django.db.transaction import TransactionManagementError

_deferred = threading.local()


def insert_rows(rows: Iterable[Model]) -> None:
    """Inserts new model instances, in order; on PostgreSQL as one statement batch.

    Unlike save(), primary keys the database assigns are not read back (they stay None) and
    no signals are sent: for rows that are written and not looked at again.
    """
    connection = _default_connection()
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
        for _ in _run_in_order(connection, cursor, statements):
            pass


class PreparedSelect:
    """A plain model query compiled once per thread, then run with other values in place.

    `build(**values)` makes the queryset: no select_related, prefetch_related, values or
    related-manager querysets, on the default database. Its values must be strings that reach
    the statement unchanged (lookups on text columns and keys), since the statement compiled
    with stand-ins is reused with the real values put in their place. Compiling a wide model's
    query costs more than the round trip that runs it.
    """

    def __init__(self, build: Callable[..., QuerySet]):
        self._build = build
        self._names = list(inspect.signature(build).parameters)
        self._compiled = threading.local()

    def __call__(self, **values: str) -> "BoundSelect":
        if sorted(values) != sorted(self._names):
            raise TypeError(f"give exactly {self._names}, not {sorted(values)}")
        return BoundSelect(self, values)

    def compiled(self, connection) -> tuple[SQLCompiler, str, list[str]]:
        """(compiler, SQL, the names of the values its parameters take, in order)."""
        cached = getattr(self._compiled, "statement", None)
        if cached is None or cached[0] is not connection:
            cached = (connection, *self._compile(connection))
            self._compiled.statement = cached
        return cached[1:]

    def _compile(self, connection) -> tuple[SQLCompiler, str, list[str]]:
        stand_ins = {name: f"<{name}>" for name in self._names}
        queryset = self._build(**stand_ins)
        plain = (
            queryset._iterable_class is ModelIterable
            and not queryset.query.select_related
            and not queryset._prefetch_related_lookups
            and not queryset._known_related_objects
            and queryset.db == connection.alias
        )
        model = queryset.model.__name__
        if not plain:
            raise ValueError(
                f"PreparedSelect needs a plain query of {model} instances on the default "
                "database: no select_related, prefetch_related, values or related managers"
            )
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        by_identity = {id(value): name for name, value in stand_ins.items()}
        names = [by_identity.get(id(param)) for param in params]
        if None in names:
            raise ValueError(
                f"the query of {model} does not pass its values to the statement as they are "
                "(a constant, a lookup that rewrites them, or a field that is not text)"
            )
        return compiler, sql, names


class BoundSelect:
    def __init__(self, prepared: PreparedSelect, values: dict[str, str]):
        self.prepared = prepared
        self.values = values

    def statement(self, connection) -> tuple[SQLCompiler, str, list[str]]:
        compiler, sql, names = self.prepared.compiled(connection)
        return compiler, sql, [self.values[name] for name in names]


def select_together(*selects: BoundSelect) -> list[list[Model]]:
    """The model instances each prepared query selects, a list per query; on PostgreSQL
    fetched in one round trip.

    The queries still run one after the other as statements of their own, each with its own
    snapshot: a query after a `select_for_update()` one sees what was committed before that
    lock was granted.
    """
    connection = _default_connection()
    statements = [select.statement(connection) for select in selects]
    if connection.get_autocommit() and any(c.query.select_for_update for c, _, _ in statements):
        # As Django refuses when it compiles: a lock outside a transaction would hold nothing.
        raise TransactionManagementError(
            "select_for_update cannot be used outside of a transaction."
        )
    with connection.cursor() as cursor:
        ran = _run_in_order(connection, cursor, [(sql, params) for _, sql, params in statements])
        return [
            _instances(compiler, cursor.fetchall(), connection.alias)
            for (compiler, _, _), _ in zip(statements, ran, strict=True)
        ]


def _run_in_order(connection, cursor, statements: list[tuple[str, list]]) -> Iterator[None]:
    """Runs (SQL, params) statements in order, on PostgreSQL in one round trip; yields once per
    statement, when its results are the cursor's current ones."""
    if connection.vendor == "postgresql" and _binds_on_client(cursor):
        # A client-side binding cursor sends a simple query, which may hold many statements.
        cursor.execute(
            "; ".join(sql for sql, _ in statements),
            [param for _, params in statements for param in params],
        )
        for number in range(len(statements)):
            if number:
                cursor.nextset()
            yield
    else:
        for sql, params in statements:
            cursor.execute(sql, params)
            yield


def _instances(compiler, rows: list[tuple], alias: str) -> list[Model]:
    """Model instances from the rows of a compiled plain model query (as ModelIterable makes)."""
    select, klass_info = compiler.select, compiler.klass_info
    fields = klass_info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    attnames = [column[0].target.attname for column in select[start:end]]
    annotations = compiler.annotation_col_map.items()
    instances = []
    for row in compiler.results_iter([rows]):
        instance = klass_info["model"].from_db(alias, attnames, row[start:end])
        for name, position in annotations:
            setattr(instance, name, row[position])
        instances.append(instance)
    return instances


def _default_connection():
    # The connection itself, not django.db.connection: compilers look up its attributes many
    # times, and each lookup through that proxy costs a context-local read.
    return connections[DEFAULT_DB_ALIAS]


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
