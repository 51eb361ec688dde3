"""Running the engine's queries on the store (its own SQL: SQLite or PostgreSQL).

The engine defines every rule once (:mod:`guihua.engine`); this module only
runs the compiled text with its parameters and hands the rows back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, CursorResult

from guihua.core.catalog import Catalog
from guihua.engine.compiled import Query, Shape, compiled_sql, one_off_sql, parameters
from guihua.engine.tables import RECORDS_SCHEMA
from guihua.store.bulk import bulk_insert
from guihua.store.database import SQL_DIALECTS
from guihua.store.dialect import statement

if TYPE_CHECKING:
    import pyarrow as pa


def dialect_of(conn: Connection) -> str:
    """The dialect Ibis compiles to for this connection's store."""
    return SQL_DIALECTS[conn.dialect.name]


def _execute(
    conn: Connection, query: Query, catalog: Catalog, at: dt.date, subject: str | None
) -> CursorResult[Any]:
    sql = compiled_sql(query, catalog, dialect_of(conn), Shape(subject=subject is not None))
    return conn.execute(statement(sql), parameters(at, subject))


def run_query(
    conn: Connection, query: Query, catalog: Catalog, at: dt.date, subject: str | None = None
) -> pa.Table:
    """An engine query at ``at``, for everyone or one (validated) subject, as an Arrow table."""
    return as_arrow(_execute(conn, query, catalog, at, subject))


def query_rows(
    conn: Connection, query: Query, catalog: Catalog, at: dt.date, subject: str | None = None
) -> list[dict[str, Any]]:
    """Like :func:`run_query`, as plain rows: one subject's few rows need no Arrow table."""
    return [dict(row) for row in _execute(conn, query, catalog, at, subject).mappings()]


def insert_from(
    conn: Connection,
    table: str,
    query: Query,
    catalog: Catalog,
    at: dt.date,
    columns: Sequence[str],
    constants: dict[str, Any],
    scope: tuple[int, int] | None = None,
) -> None:
    """``INSERT INTO table`` the rows of an engine query, skipping rows a unique index refuses.

    ``columns`` come from the query; ``constants`` are the same for every row
    (bound once, by column name). ``scope``: (submission, after id), the rows
    of one submission the query reports on.
    """
    sql = compiled_sql(query, catalog, dialect_of(conn), Shape(scope=scope is not None))
    names = ", ".join([*columns, *constants])
    picked = ", ".join([*(f"q.{c}" for c in columns), *(f":{c}" for c in constants)])
    # WHERE TRUE: without a WHERE, SQLite would read ON CONFLICT as the join constraint of q
    full = (
        f"INSERT INTO {table} ({names}) SELECT {picked} FROM ({sql}) AS q WHERE TRUE ON CONFLICT DO NOTHING"
    )
    submission, after = scope if scope is not None else (None, None)
    conn.execute(statement(full), {**parameters(at, None, submission, after), **constants})


def run_once(conn: Connection, expr: Any) -> pa.Table:
    """A rare query compiled as it is (literal dates and all), e.g. what a purge may delete."""
    return as_arrow(conn.execute(statement(one_off_sql(expr, dialect_of(conn)))))


def as_arrow(result: CursorResult[Any]) -> pa.Table:
    import pyarrow as pa  # not at start-up: a lookup reads plain rows

    names = list(result.keys())
    rows = result.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pa.table({n: pa.array(list(c)) for n, c in zip(names, columns, strict=True)})


_OVERLAID = "guihua_rematched"  # the temporary table of an overlay (this connection's only)


@contextmanager
def records_overlaid(conn: Connection, rematched: pa.Table, metrics: frozenset[str]) -> Iterator[None]:
    """Within the block, ``records`` is the stored records less ``metrics``', plus ``rematched``.

    How the store's own SQL runs a simulation's side (:class:`guihua.engine.tables.Overlay`)
    without writing anything stored: a temporary table of the re-matched records and a
    temporary view named ``records`` over both, which the engine's compiled queries read instead
    of the table (SQLite looks in ``temp`` first, PostgreSQL in ``pg_temp``). Both live in this
    connection only and are dropped when the block ends; on PostgreSQL the transaction must allow
    writes to temporary tables (:func:`guihua.store.export_queries.snapshot` with ``temporary``).
    """
    columns = ", ".join(f'"{c}"' for c in RECORDS_SCHEMA)
    stored = _stored_records(conn)
    replaced = ", ".join("'" + m.replace("'", "''") + "'" for m in sorted(metrics))
    with _temporary_writes(conn):
        conn.exec_driver_sql(f"CREATE TEMP TABLE {_OVERLAID} AS SELECT {columns} FROM {stored} WHERE 1 = 0")
    try:
        with _temporary_writes(conn):
            bulk_insert(conn, _OVERLAID, rematched.select(list(RECORDS_SCHEMA)))
            kept = f"SELECT {columns} FROM {stored} WHERE metric NOT IN ({replaced})"
            conn.exec_driver_sql(
                f"CREATE TEMP VIEW records AS {kept} UNION ALL SELECT {columns} FROM {_OVERLAID}"
            )
        try:
            yield
        finally:
            with _temporary_writes(conn):
                conn.exec_driver_sql("DROP VIEW records")
    finally:
        with _temporary_writes(conn):
            conn.exec_driver_sql(f"DROP TABLE {_OVERLAID}")


@contextmanager
def _temporary_writes(conn: Connection) -> Iterator[None]:
    """A read-only SQLite store's ``query_only`` lifted for a moment: ``mode=ro`` still guards the file.

    (SQLite's ``query_only`` refuses temporary tables too; the file itself was opened read-only,
    so the library refuses any write to it all the same.)
    """
    if conn.dialect.name != "sqlite" or not conn.exec_driver_sql("PRAGMA query_only").scalar():
        yield
        return
    conn.exec_driver_sql("PRAGMA query_only=0")
    try:
        yield
    finally:
        conn.exec_driver_sql("PRAGMA query_only=1")


def _stored_records(conn: Connection) -> str:
    """The store's own ``records`` table by its full name (a temporary view may take the short one)."""
    if conn.dialect.name == "postgresql":
        schema = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
        return f'"{schema}".records'
    return "main.records"
