"""Bulk I/O: many rows in and out without a Python object per row of our own.

Ingestion's hot path: SQLite gets ``executemany`` with the columns that vary
bound and the rest as literals, PostgreSQL gets ``COPY``.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection, text


def _sql_literal(value: object) -> str:
    """An integer (a boolean as 0/1) or a text as SQL; nothing else is written as a literal."""
    if isinstance(value, bool | int):
        return str(int(value))
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQL literal for {type(value).__name__}")


@dataclass(frozen=True)
class InsertBatch:
    """One SQLite ``executemany``: the statement (fixed values as literals) and the columns it binds."""

    sql: str
    columns: pl.DataFrame


def bulk_insert(
    conn: Connection,
    table: str,
    rows: pa.Table | pl.DataFrame,
    constants: dict[str, str | int] | None = None,
    grouped: Sequence[str] = (),
) -> None:
    """Insert rows: ``executemany`` on SQLite (see :func:`sqlite_batches`), ``COPY`` on PostgreSQL.

    Values go from the columnar frame to the driver without per-row Python
    objects of our own (this is the hot path of ingestion). ``constants`` are
    the same for every row (the submission, the department).
    """
    df = rows if isinstance(rows, pl.DataFrame) else pl.DataFrame(rows)
    if df.height == 0:
        return
    if conn.dialect.name == "postgresql":
        df = df.with_columns(pl.lit(v).alias(k) for k, v in (constants or {}).items())
        buf = io.BytesIO()
        options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
        pacsv.write_csv(df.to_arrow(), buf, options)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table} ({', '.join(df.columns)}) FROM STDIN (FORMAT csv)") as copy:
            copy.write(buf.getvalue())
        return
    run_batches(conn, sqlite_batches(table, df, constants, grouped))


def sqlite_batches(
    table: str,
    df: pl.DataFrame,
    constants: dict[str, str | int] | None = None,
    grouped: Sequence[str] = (),
) -> list[InsertBatch]:
    """How SQLite inserts ``df``: pure column work, so it may run away from the connection's thread.

    SQLite's cost is per bound value, so ``constants`` go in as literals
    instead of being bound once per row, and the rows are split by the
    ``grouped`` columns (few distinct values each, such as the rule a record
    matched and what it implies): each group is one ``executemany`` with those
    values as literals. A column that is null throughout a group is left to
    its NULL default. Rows keep their order within a group; the order of
    groups is the order of first appearance. Dates and times are bound as ISO
    text, as SQLAlchemy stores them on SQLite.
    """
    if df.height == 0:
        return []
    temporal = [c for c, t in df.schema.items() if t.is_temporal()]
    if temporal:
        df = df.with_columns(pl.col(temporal).cast(pl.String))
    fixed: dict[str, object] = dict(constants or {})
    empty = [c for c in grouped if c in df.columns and df.get_column(c).null_count() == df.height]
    df = df.drop(empty)  # left to their NULL default, whatever type an all-NULL column came as
    keys = [c for c in grouped if c in df.columns]
    odd = [k for k in keys if not (df.schema[k].is_integer() or df.schema[k] in (pl.String, pl.Boolean))]
    assert not odd, f"grouped columns must be integers, booleans or text (SQL literals), not {odd}"
    if not keys:
        return [_batch(table, df, fixed)]
    return [
        _batch(
            table,
            group.drop(keys),
            {**fixed, **{k: v for k, v in zip(keys, key, strict=True) if v is not None}},
        )
        for key, group in df.partition_by(keys, as_dict=True, maintain_order=True).items()
    ]


def _batch(table: str, df: pl.DataFrame, constants: dict[str, object]) -> InsertBatch:
    """A column that is null in every row is left to its NULL default."""
    cols = [c for c in df.columns if df.get_column(c).null_count() < df.height]
    names = ", ".join([*constants, *cols])
    values = ", ".join([*(_sql_literal(v) for v in constants.values()), *("?" for _ in cols)])
    return InsertBatch(f"INSERT INTO {table} ({names}) VALUES ({values})", df.select(cols))


def run_batches(conn: Connection, batches: Sequence[InsertBatch]) -> None:
    """Each batch as one ``executemany`` on the connection's own cursor (same transaction)."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for batch in batches:
            # Column lists zipped lazily: half the cost of DataFrame.rows() and no list of every row
            # at once. SQLAlchemy wants a list for executemany, so the driver's cursor takes it.
            df = batch.columns
            params = zip(*(df.get_column(c).to_list() for c in df.columns), strict=True)
            cursor.executemany(batch.sql, params if df.width else [()] * df.height)
    finally:
        cursor.close()


def fetch_arrow(conn: Connection, sql: str, params: dict[str, Any] | None = None) -> pa.Table:
    """Run a query and return its rows as an Arrow table (types as the driver gives them)."""
    result = conn.execute(text(sql), params or {})
    names = list(result.keys())
    rows = result.fetchall()
    columns: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pa.table({n: pa.array(list(c)) for n, c in zip(names, columns, strict=True)})
