"""Reading a department file (CSV, JSON Lines, Parquet) in chunks: the format by extension, the encoding.

Every reader yields :class:`RawChunk` objects: all values as text (an empty or
missing cell is null), a ``line`` column, and the rows the reader could not
even split into cells (quarantined as ``unreadable``). Memory stays bounded
by the chunk size, however large the file. Text files are UTF-8 (with or
without a byte-order mark), or GB 18030 / GBK when the department says so.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from guihua.core.errors import GuihuaError, InvalidInput, UnreadableFile
from guihua.intake import csv_reader, jsonl_reader, parquet_reader
from guihua.intake.chunks import RawChunk

CHUNK_ROWS = 65_536
FIRST_CHUNK_ROWS = 8_192

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


def file_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UnreadableFile(
            f"cannot read {path.name}: unknown extension {path.suffix or '(none)'!r}; "
            "use .csv, .jsonl or .parquet"
        )
    return fmt


def estimated_rows(path: Path) -> int:
    """A cheap estimate of a file's rows (Parquet: exact, from its footer)."""
    try:
        if file_format(path) == "parquet":
            return int(pq.ParquetFile(path).metadata.num_rows)
        with path.open("rb") as fh:
            sample = fh.read(1 << 16)
    except (OSError, pa.ArrowException, GuihuaError):
        return 0
    lines = max(sample.count(b"\n"), 1)
    return int(path.stat().st_size / (len(sample) / lines)) if sample else 0


# What ``--encoding`` accepts, and how it is decoded (GBK and GB 2312 are subsets of GB 18030).
ENCODINGS: dict[str, str] = {"utf-8": "utf-8", "gb18030": "gb18030", "gbk": "gb18030", "gb2312": "gb18030"}


def read_chunks(path: Path, chunk_rows: int = CHUNK_ROWS, encoding: str = "utf-8") -> Iterator[RawChunk]:
    """Chunks of a department file, by extension; ``encoding`` of a text file (see :data:`ENCODINGS`)."""
    if not path.is_file():
        raise UnreadableFile(f"cannot read {path}: no such file")
    fmt = file_format(path)
    codec = _codec(encoding, fmt, path)
    readers = {
        "csv": csv_reader.csv_chunks,
        "jsonl": jsonl_reader.jsonl_chunks,
        "parquet": parquet_reader.parquet_chunks,
    }
    chunks = (
        readers[fmt](path, chunk_rows)
        if codec == "utf-8"
        else _transcoded(readers[fmt], path, chunk_rows, codec)
    )
    return _small_first(chunks, min(FIRST_CHUNK_ROWS, chunk_rows))


def _codec(encoding: str, fmt: str, path: Path) -> str:
    codec = ENCODINGS.get(encoding.strip().lower().replace("_", "-").replace("utf8", "utf-8"))
    if codec is None:
        raise InvalidInput(f"unknown encoding {encoding!r}: use one of {', '.join(ENCODINGS)}")
    if fmt == "parquet" and codec != "utf-8":
        raise UnreadableFile(f"cannot read {path.name}: Parquet text is always UTF-8; leave out --encoding")
    return codec


def _transcoded(reader: Any, path: Path, chunk_rows: int, codec: str) -> Iterator[RawChunk]:
    """Read a file in another encoding through a UTF-8 copy of it, made piece by piece and removed after."""
    fd, copy = tempfile.mkstemp(suffix=path.suffix, prefix=".guihua-utf8-")
    try:
        with (
            path.open(encoding=codec, newline="") as src,
            os.fdopen(fd, "w", encoding="utf-8", newline="") as dst,
        ):
            while piece := src.read(1 << 20):
                dst.write(piece)
    except UnicodeDecodeError as exc:
        os.unlink(copy)
        raise UnreadableFile(
            f"cannot read {path.name}: not {codec.upper()} text ({exc.reason} at byte {exc.start})"
        ) from None
    try:
        yield from reader(Path(copy), chunk_rows)
    except GuihuaError as exc:  # name the department's file, not the copy
        raise UnreadableFile(exc.message.replace(Path(copy).name, path.name)) from None
    finally:
        os.unlink(copy)


def _small_first(chunks: Iterator[RawChunk], rows: int) -> Iterator[RawChunk]:
    """The first chunk cut to ``rows`` rows (the rest of it follows as the second).

    Ingestion checks the next chunk while it stores the current one; a small
    first chunk lets storing start sooner. What is stored does not depend on
    where chunks begin.
    """
    first = next(chunks, None)
    if first is None:
        return
    if first.table.num_rows <= rows:
        yield first
    else:
        raw = first.raw_lines
        yield RawChunk(first.table.slice(0, rows), first.unreadable, raw[:rows] if raw is not None else None)
        yield RawChunk(first.table.slice(rows), [], raw[rows:] if raw is not None else None)
    yield from chunks
