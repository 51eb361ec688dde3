"""Parquet files (spec section 3): the same columns as CSV, read in batches, every value as text.

A Parquet file is compressed: 34 KB can hold a gigabyte of text. So text
columns are read as dictionaries (each distinct value once, with an index per
row) and a value over the spec's limit is replaced by a marker *before* it is
repeated into rows, making those rows ``unreadable``. What each column holds
is measured from the file's footer first: a column chunk larger than
:data:`MAX_CHUNK_BYTES` decoded refuses the file whole, and row groups are
read in batches of about :data:`BATCH_BYTES`. Memory stays bounded whatever
the file claims.

A file of no rows with the base columns is an empty submission (0 accepted);
one with no columns at all is refused, as a CSV file without a header is.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from guihua.core.errors import UnreadableFile
from guihua.core.reasons import MAX_VALUE
from guihua.intake.chunks import (
    BASE_COLUMNS,
    NOT_TEXT,
    TOO_LONG,
    RawChunk,
    blank_to_null,
    check_header,
    with_lines,
)

MAX_CHUNK_BYTES = 512 << 20  # decoded bytes of one column in one row group
BATCH_BYTES = 64 << 20  # decoded bytes of one batch, all columns


def parquet_chunks(path: Path, chunk_rows: int) -> Iterator[RawChunk]:
    """Row groups read in batches of at most ``chunk_rows`` rows and about :data:`BATCH_BYTES`."""
    pf = _open(path)
    line = 1
    try:
        for group in range(pf.metadata.num_row_groups):
            rows = _batch_rows(pf, group, chunk_rows, path.name)
            for batch in pf.iter_batches(batch_size=rows, row_groups=[group]):
                table = blank_to_null(_as_text(pa.Table.from_batches([batch])))
                yield RawChunk(with_lines(table, line))
                line += table.num_rows
    except (pa.ArrowException, OSError) as exc:
        raise UnreadableFile(f"cannot read {path.name}: {' '.join(str(exc).split())}") from exc


def _open(path: Path) -> pq.ParquetFile:
    try:
        schema = pq.read_schema(path)
        if not schema.names:  # as a CSV file without a header: refused, even with no rows
            raise UnreadableFile(
                f"cannot read {path.name}: the file has no columns; a department file has "
                f"{', '.join(BASE_COLUMNS)} then one column per field, even when it holds no rows"
            )
        check_header(path.name, schema.names)
        text = [f.name for f in schema if _is_text(f.type)]
        pf = pq.ParquetFile(path, read_dictionary=text)  # each distinct value decoded once
    except (pa.ArrowException, OSError) as exc:
        raise UnreadableFile(f"cannot read {path.name}: not a Parquet file ({exc})") from exc
    for fld in schema:
        if pa.types.is_nested(fld.type):
            raise UnreadableFile(f"cannot read {path.name}: column {fld.name!r} is nested; use scalars")
    return pf


def _is_text(kind: pa.DataType) -> bool:
    return any(
        check(kind)
        for check in (
            pa.types.is_string,
            pa.types.is_large_string,
            pa.types.is_binary,
            pa.types.is_large_binary,
        )
    )


def _batch_rows(pf: pq.ParquetFile, group: int, chunk_rows: int, name: str) -> int:
    """How many rows of row group ``group`` to decode at a time; refuses what is too large to decode."""
    meta = pf.metadata.row_group(group)
    total = 0
    for j in range(meta.num_columns):
        col = meta.column(j)
        size = int(col.total_uncompressed_size)
        if size > MAX_CHUNK_BYTES:
            raise UnreadableFile(
                f"cannot read {name}: column {col.path_in_schema!r} of row group {group} holds "
                f"{size / 2**20:,.0f} MiB for {meta.num_rows:,} rows; write smaller row groups "
                f"(a value may hold at most {MAX_VALUE:,} characters)"
            )
        total += size
    per_row = max(total // max(int(meta.num_rows), 1), 1)
    return max(1, min(chunk_rows, BATCH_BYTES // per_row))


def _as_text(table: pa.Table) -> pa.Table:
    """Every text column as plain strings; over-long values and bytes that are not UTF-8 as markers."""
    for i, fld in enumerate(table.schema):
        if pa.types.is_dictionary(fld.type):
            table = table.set_column(i, fld.name, _undictionary(table.column(i)))
    return table


def _undictionary(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Values checked once in the dictionary (long ones, non-text ones become markers), then spread out."""
    chunks = []
    for chunk in column.chunks:
        dictionary = _text_dictionary(chunk.dictionary)
        too_long = pc.greater(pc.utf8_length(dictionary), MAX_VALUE)
        if pc.any(too_long).as_py():
            dictionary = pc.if_else(too_long, pa.scalar(TOO_LONG), dictionary)
        chunks.append(pc.take(dictionary, chunk.indices))
    return pa.chunked_array(chunks, pa.string())


def _text_dictionary(values: pa.Array) -> pa.Array:
    """The dictionary as text; bytes that are not UTF-8 (a binary column) as a marker."""
    if not (pa.types.is_binary(values.type) or pa.types.is_large_binary(values.type)):
        return values.cast(pa.string())
    try:
        return values.cast(pa.string())
    except pa.ArrowInvalid:
        return pa.array([_decoded(v) for v in values.to_pylist()], pa.string())


def _decoded(value: bytes | None) -> str | None:
    if value is None:
        return None
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return NOT_TEXT
