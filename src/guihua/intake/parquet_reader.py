"""Parquet files (spec section 3): the same columns as CSV, read in batches, every value as text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from guihua.core.errors import GuihuaError
from guihua.intake.chunks import RawChunk, blank_to_null, check_header, with_lines


def parquet_chunks(path: Path, chunk_rows: int) -> Iterator[RawChunk]:
    """Row groups read in batches of ``chunk_rows``; every column as text."""
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise GuihuaError(f"cannot read {path.name}: not a Parquet file ({exc})") from exc
    names = pf.schema_arrow.names
    check_header(path.name, names)
    for fld in pf.schema_arrow:
        if pa.types.is_nested(fld.type):
            raise GuihuaError(f"cannot read {path.name}: column {fld.name!r} is nested; use scalars")
    line = 1
    try:
        for batch in pf.iter_batches(batch_size=chunk_rows):
            table = blank_to_null(pa.Table.from_batches([batch]))
            yield RawChunk(with_lines(table, line))
            line += table.num_rows
    except (pa.ArrowException, OSError) as exc:
        raise GuihuaError(f"cannot read {path.name}: {' '.join(str(exc).split())}") from exc
