"""The engine's tables (records, objections) out of the store in columnar form, for the batch engines.

Rows leave in bounded Arrow record batches written one by one to Parquet, never as one list
of every record, so a city of 13 million residents (~100 million records) copies in constant
memory. PostgreSQL sends CSV through ``COPY ... TO STDOUT``, parsed by Arrow's streaming CSV
reader: no Python object per row. SQLite has no such path inside a transaction (DuckDB's SQLite
scanner is an extension fetched at run time, which these machines cannot do), so its rows come
through the driver :data:`BATCH_ROWS` at a time and become Arrow columns batch by batch; where
the caller keeps every writer out (:func:`scan_to_parquet`, for the records' columnar copy),
ConnectorX reads the file in a child process, about five times as fast, straight into Arrow.

Run everything of one copy in one transaction after :func:`snapshot`: the records, the
objections and the catalog then belong to the same moment.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy import Connection

from guihua.engine.backends import Columnar
from guihua.engine.tables import OBJECTIONS_SCHEMA, RECORDS_SCHEMA

BATCH_ROWS = 100_000
_ARROW = {
    "int64": pa.int64(),
    "int32": pa.int32(),
    "string": pa.string(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
}
_SCHEMAS = {"records": RECORDS_SCHEMA, "objections": OBJECTIONS_SCHEMA}


def snapshot(conn: Connection, temporary: bool = False) -> None:
    """Make the rest of this transaction read one moment of the store (the first statement in it).

    PostgreSQL reads each statement at its own moment unless told otherwise; SQLite's read
    transaction (write-ahead log) is one moment already. ``temporary``: the transaction will
    write temporary tables (:func:`guihua.store.engine_queries.records_overlaid`), which a
    PostgreSQL read-only transaction refuses; its caller rolls it back, and writes nothing else.
    """
    if conn.dialect.name == "postgresql":
        access = "READ WRITE" if temporary else "READ ONLY"
        conn.exec_driver_sql(f"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, {access}")


def arrow_schema(table: str, columns: Sequence[str]) -> pa.Schema:
    """The Arrow types of ``columns`` of the engine's ``table`` (records or objections)."""
    kinds = _SCHEMAS[table]
    return pa.schema([pa.field(c, _ARROW[kinds[c]]) for c in columns])


def export_columnar(
    conn: Connection, folder: Path, record_columns: Sequence[str] | None = None, records: bool = True
) -> Columnar:
    """``records.parquet`` (``record_columns``, default all the engine reads; with ``records`` false,
    the file holds none) and ``objections.parquet``."""
    path, objections = folder / "records.parquet", folder / "objections.parquet"
    columns = list(record_columns or RECORDS_SCHEMA)
    write_parquet(conn, "records", columns, path, None if records else iter(()))
    write_parquet(conn, "objections", list(OBJECTIONS_SCHEMA), objections)
    return Columnar(path, objections)


def write_parquet(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    path: Path,
    batches: Iterator[pa.RecordBatch] | None = None,
) -> int:
    """Every row of ``table`` (its ``columns``) into one Parquet file in row groups of
    :data:`BATCH_ROWS` (the last one smaller); the number of rows.

    Whatever size the batches come in (PostgreSQL's follow the CSV reader's blocks), at most
    one row group's worth is held before it is written.
    """
    schema = arrow_schema(table, columns)
    rows = held = 0
    pending: list[pa.RecordBatch] = []
    with pq.ParquetWriter(path, schema) as writer:
        for batch in batches if batches is not None else record_batches(conn, table, columns):
            pending.append(batch)
            held += batch.num_rows
            if held >= BATCH_ROWS:
                full = pa.Table.from_batches(pending, schema)
                cut = held - held % BATCH_ROWS
                writer.write_table(full.slice(0, cut), row_group_size=BATCH_ROWS)
                pending, held = full.slice(cut).to_batches(), held - cut
            rows += batch.num_rows
        if held:
            writer.write_table(pa.Table.from_batches(pending, schema), row_group_size=BATCH_ROWS)
    return rows


IdRange = tuple[int, int]  # first and last id, both included
# Below this many ids the driver is quicker than starting the child (~0.3 s against ~6 us a row).
SCAN_IN_CHILD_FROM = 50_000


def record_batches(
    conn: Connection, table: str, columns: Sequence[str], ids: IdRange | None = None
) -> Iterator[pa.RecordBatch]:
    """The rows of ``table`` (those with ids in ``ids``) as Arrow batches of about :data:`BATCH_ROWS`."""
    if table not in _SCHEMAS or not set(columns) <= set(_SCHEMAS[table]):
        raise ValueError(f"not columns of the engine's {table}: {columns}")
    schema = arrow_schema(table, columns)
    where = _where(ids)
    if conn.dialect.name == "postgresql":
        yield from _copied(conn, table, schema, where)
    else:
        yield from _fetched(conn, table, schema, where)


def scan_to_parquet(conn: Connection, table: str, columns: Sequence[str], ids: IdRange, path: Path) -> int:
    """The rows of ``table`` with ids in ``ids`` into Parquet at ``path``; the number of rows.

    For a caller that holds every other writer out (:func:`guihua.store.record_queries.hold_writes`):
    on a SQLite file a child process reads it with ConnectorX, about five times as fast as the
    driver, and sees what ``conn`` sees as no other writer can commit meanwhile. A child, because
    ConnectorX carries its own SQLite library, and two in one process release each other's file
    locks and corrupt the write-ahead log (sqlite.org/howtocorrupt.html, 2.2.1). Elsewhere the
    rows come through :func:`record_batches`.
    """
    database = conn.engine.url.database
    if (
        conn.dialect.name != "sqlite"
        or not database
        or database == ":memory:"
        or (ids[1] - ids[0] < SCAN_IN_CHILD_FROM)
    ):
        return write_parquet(conn, table, columns, path, record_batches(conn, table, columns, ids))
    import subprocess
    import sys

    argv = [sys.executable, "-m", "guihua.store.sqlite_scan", str(Path(database).resolve()), table]
    schema = arrow_schema(table, columns)
    argv += [",".join(f"{f.name}:{f.type}" for f in schema), str(int(ids[0])), str(int(ids[1])), str(path)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise OSError(f"could not copy {table} {ids[0]}-{ids[1]}: {done.stderr.strip()[-500:]}")
    return int(done.stdout.strip())


def _where(ids: IdRange | None) -> str:
    return "" if ids is None else f"WHERE id BETWEEN {int(ids[0])} AND {int(ids[1])}"


def _fetched(conn: Connection, table: str, schema: pa.Schema, where: str = "") -> Iterator[pa.RecordBatch]:
    """SQLite: the driver's rows, a batch at a time, as Arrow columns (dates and times are ISO text)."""
    names = [f.name for f in schema]
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"SELECT {', '.join(names)} FROM {table} {where}")
        while rows := cursor.fetchmany(BATCH_ROWS):
            values = list(zip(*rows, strict=True))
            yield pa.RecordBatch.from_arrays(
                [_column(v, f.type) for v, f in zip(values, schema, strict=True)], schema=schema
            )
    finally:
        cursor.close()


def _column(values: Sequence[Any], kind: pa.DataType) -> pa.Array:
    if pa.types.is_boolean(kind):
        return pa.array(values, pa.int8()).cast(kind)  # SQLite keeps booleans as 0 / 1
    if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        return pa.array(values, pa.string()).cast(kind)
    return pa.array(values, kind)


def _copied(conn: Connection, table: str, schema: pa.Schema, where: str = "") -> Iterator[pa.RecordBatch]:
    """PostgreSQL: ``COPY (SELECT ...) TO STDOUT`` as CSV, read by Arrow's streaming CSV reader."""

    def picked(f: pa.Field) -> str:
        # a time as UTC wall-clock text ("2026-06-30 04:05:06.123456"), which Arrow reads as such
        return f"({f.name} AT TIME ZONE 'UTC')" if pa.types.is_timestamp(f.type) else f.name

    select = f"SELECT {', '.join(picked(f) for f in schema)} FROM {table} {where}"
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(f"COPY ({select}) TO STDOUT (FORMAT csv)") as copy:
            stream = _CopyStream(iter(copy))
            if stream.at_end():
                return  # no rows (Arrow's reader refuses an empty file)
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(column_names=schema.names, block_size=4 << 20),
                convert_options=pacsv.ConvertOptions(
                    column_types=schema,
                    strings_can_be_null=True,  # NULL is an empty cell, the empty text a quoted one
                    quoted_strings_can_be_null=False,
                    true_values=["t"],
                    false_values=["f"],
                ),
            )
            for batch in reader:
                if batch.num_rows:
                    yield batch.cast(schema)
    finally:
        cursor.close()


class _CopyStream(io.RawIOBase):
    """The chunks of a COPY as a readable byte stream (what Arrow's CSV reader reads).

    libpq hands over one row per chunk; Arrow reads blocks of megabytes: each read joins as many
    rows as fill the block (one ``join``, no Python work per byte).
    """

    def __init__(self, chunks: Iterator[Any]) -> None:
        self._chunks = chunks
        self._left = memoryview(b"")

    def readable(self) -> bool:
        return True

    def at_end(self) -> bool:
        """Whether nothing (more) comes (reads ahead)."""
        return not self._fill(1)

    def _fill(self, size: int) -> bool:
        if not self._left:
            parts, total = [], 0
            for chunk in self._chunks:
                parts.append(chunk)
                total += len(chunk)
                if total >= size:
                    break
            self._left = memoryview(b"".join(parts))
        return bool(self._left)

    def readinto(self, buffer: Any) -> int:
        size = len(buffer)
        if not self._fill(size):
            return 0
        n = min(size, len(self._left))
        buffer[:n] = self._left[:n]
        self._left = self._left[n:]
        return n
