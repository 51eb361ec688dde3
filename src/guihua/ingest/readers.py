"""Streaming readers for department files (CSV, JSON Lines, Parquet).

Every reader yields :class:`RawChunk` objects: all values as text (an empty or
missing cell is null), a ``line`` column, and the rows the reader could not
even split into cells. Memory stays bounded by the chunk size, however large
the file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from guihua.core.errors import GuihuaError

BASE_COLUMNS: tuple[str, ...] = ("source_id", "subject_id", "metric", "occurred_at")
LINE = "__line"  # internal column: the row's line number in the file
CHUNK_ROWS = 65_536
FIRST_CHUNK_ROWS = 8_192
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


@dataclass
class Unreadable:
    """A row that could not be split into cells; it is quarantined as it came."""

    line: int | None
    raw: str
    detail: str


@dataclass
class RawChunk:
    table: pa.Table  # base columns + field columns, all string; plus int64 LINE
    unreadable: list[Unreadable] = field(default_factory=list)
    raw_lines: list[str] | None = None  # JSON Lines keep the line text for quarantine

    @property
    def field_names(self) -> list[str]:
        return [c for c in self.table.column_names if c not in (*BASE_COLUMNS, LINE)]


def file_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise GuihuaError(
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


def read_chunks(path: Path, chunk_rows: int = CHUNK_ROWS) -> Iterator[RawChunk]:
    """Chunks of a department file, by extension."""
    if not path.is_file():
        raise GuihuaError(f"cannot read {path}: no such file")
    readers = {"csv": _csv_chunks, "jsonl": _jsonl_chunks, "parquet": _parquet_chunks}
    return _small_first(readers[file_format(path)](path, chunk_rows), min(FIRST_CHUNK_ROWS, chunk_rows))


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


def _check_header(path: Path, names: list[str]) -> None:
    missing = [c for c in BASE_COLUMNS if c not in names]
    if missing:
        raise GuihuaError(
            f"cannot read {path.name}: missing column(s) {', '.join(missing)}; "
            f"expected {', '.join(BASE_COLUMNS)} then one column per field"
        )
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise GuihuaError(f"cannot read {path.name}: column(s) {', '.join(dupes)} appear twice")
    odd = [n for n in names if not n.strip() or n.startswith("__")]
    if odd:
        raise GuihuaError(
            f"cannot read {path.name}: column name {odd[0]!r} is empty or reserved (starts with '__')"
        )


def _with_lines(table: pa.Table, first_line: int) -> pa.Table:
    lines = pa.array(np.arange(first_line, first_line + table.num_rows, dtype=np.int64))
    return table.append_column(LINE, lines)


def _blank_to_null(table: pa.Table) -> pa.Table:
    """All columns as text; an empty cell is an absent value."""
    df = pl.DataFrame(table).with_columns(pl.all().cast(pl.String))
    return df.with_columns(pl.all().replace("", None)).to_arrow()


# --------------------------------------------------------------------------- CSV


def _csv_header(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh), None)
    except UnicodeDecodeError as exc:
        raise GuihuaError(f"cannot read {path.name}: not UTF-8 text ({exc.reason})") from exc
    except csv.Error as exc:
        raise GuihuaError(f"cannot read {path.name}: bad CSV header ({exc})") from exc
    if not header:
        raise GuihuaError(f"cannot read {path.name}: the file is empty; a header row is required")
    return [h.strip() for h in header]


def _csv_chunks(path: Path, chunk_rows: int) -> Iterator[RawChunk]:
    """Fast path: pyarrow's reader. Files with ragged rows take the exact, slower path."""
    names = _csv_header(path)
    _check_header(path, names)
    if _needs_exact_reader(path, names):
        yield from _csv_chunks_exact(path, names, chunk_rows)
        return
    bad: list[Unreadable] = []

    def on_invalid(row: Any) -> str:
        bad.append(
            Unreadable(
                line=row.number,
                raw=row.text,
                detail=f"row has {row.actual_columns} cells, the header has {row.expected_columns}",
            )
        )
        return "skip"

    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=1, block_size=8 << 20, encoding="utf8", use_threads=False
            ),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
            # an empty cell (quoted or not) is an absent value: the parser says so, no pass of our own
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            return
        raise GuihuaError(f"cannot read {path.name}: {exc}") from exc
    line = 2  # the header is line 1; quoted line breaks inside cells are not counted
    try:
        for batch in reader:
            table = pa.Table.from_batches([batch])
            yield from _split(RawChunk(_with_lines(table, line)), chunk_rows)
            line += table.num_rows
    except pa.ArrowInvalid as exc:
        raise GuihuaError(f"cannot read {path.name}: {_csv_problem(exc)}") from exc
    if bad:  # a ragged row the quick pass missed (it never should): keep it all the same
        yield RawChunk(_with_lines(_empty(names), 0), unreadable=bad[:])


def _csv_problem(exc: pa.ArrowInvalid) -> str:
    text = " ".join(str(exc).split())
    if "straddl" in text:
        return "a row is longer than 8 MiB (an unclosed quote turns the rest of the file into one cell)"
    if "UTF8" in text or "utf8" in text.lower():
        return "not UTF-8 text"
    return text


def _needs_exact_reader(path: Path, names: list[str]) -> bool:
    """One quick parse-only pass: ragged rows, or cells with line breaks (quoted or broken)?

    pyarrow's fast reader assumes one row per line. When the rows it parses do
    not match the file's lines (a quoted cell spanning lines, an unclosed quote
    swallowing the rest of the file) the strict, exact reader takes over.
    """
    ragged = rows = 0

    def count(_row: Any) -> str:
        nonlocal ragged
        ragged += 1
        return "skip"

    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=1, block_size=8 << 20, use_threads=False
            ),
            parse_options=pacsv.ParseOptions(invalid_row_handler=count),
            convert_options=pacsv.ConvertOptions(
                include_columns=[names[0]], column_types={names[0]: pa.string()}
            ),
        )
        for batch in reader:
            rows += batch.num_rows
            if ragged:
                return True
    except pa.ArrowInvalid:
        return True
    return rows + 1 != _physical_lines(path)


def _physical_lines(path: Path) -> int:
    lines, last = 0, b"\n"
    with path.open("rb") as fh:
        while block := fh.read(16 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


def _csv_chunks_exact(path: Path, names: list[str], chunk_rows: int) -> Iterator[RawChunk]:
    """Row by row with the csv module: exact line numbers, cells with line breaks, clear errors."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, strict=True)
        try:
            yield from _exact_rows(path, reader, names, chunk_rows)
        except csv.Error as exc:
            where = f"line {reader.line_num}"
            raise GuihuaError(f"cannot read {path.name}: {where}: {exc} (is a quote left open?)") from exc
        except UnicodeDecodeError as exc:
            raise GuihuaError(f"cannot read {path.name}: not UTF-8 text ({exc.reason})") from exc


def _exact_rows(path: Path, reader: Any, names: list[str], chunk_rows: int) -> Iterator[RawChunk]:
    next(reader)
    rows: list[list[str]] = []
    lines: list[int] = []
    bad: list[Unreadable] = []
    start = reader.line_num + 1
    for row in reader:
        if len(row) != len(names):
            if row:
                detail = f"row has {len(row)} cells, the header has {len(names)}"
                bad.append(Unreadable(start, ",".join(row), detail))
        else:
            rows.append(row)
            lines.append(start)
        start = reader.line_num + 1
        if len(rows) + len(bad) >= chunk_rows:
            yield _rows_chunk(names, rows, lines, bad)
            rows, lines, bad = [], [], []
    if rows or bad:
        yield _rows_chunk(names, rows, lines, bad)


def _rows_chunk(names: list[str], rows: list[list[str]], lines: list[int], bad: list[Unreadable]) -> RawChunk:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    table = _blank_to_null(
        pa.table({n: pa.array(list(c), pa.string()) for n, c in zip(names, columns, strict=True)})
    )
    return RawChunk(table.append_column(LINE, pa.array(lines, pa.int64())), unreadable=bad)


def _split(chunk: RawChunk, rows: int) -> Iterator[RawChunk]:
    if chunk.table.num_rows <= rows:
        yield chunk
        return
    for i, start in enumerate(range(0, chunk.table.num_rows, rows)):
        yield RawChunk(chunk.table.slice(start, rows), chunk.unreadable if i == 0 else [])


def _empty(names: list[str]) -> pa.Table:
    return pa.table({n: pa.array([], pa.string()) for n in names})


# --------------------------------------------------------------------------- Parquet


def _parquet_chunks(path: Path, chunk_rows: int) -> Iterator[RawChunk]:
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise GuihuaError(f"cannot read {path.name}: not a Parquet file ({exc})") from exc
    names = pf.schema_arrow.names
    _check_header(path, names)
    for fld in pf.schema_arrow:
        if pa.types.is_nested(fld.type):
            raise GuihuaError(f"cannot read {path.name}: column {fld.name!r} is nested; use scalars")
    line = 1
    try:
        for batch in pf.iter_batches(batch_size=chunk_rows):
            table = _blank_to_null(pa.Table.from_batches([batch]))
            yield RawChunk(_with_lines(table, line))
            line += table.num_rows
    except (pa.ArrowException, OSError) as exc:
        raise GuihuaError(f"cannot read {path.name}: {' '.join(str(exc).split())}") from exc


# --------------------------------------------------------------------------- JSON Lines

MAX_LINE = 8 << 20  # a JSON line longer than this is quarantined unparsed
NESTED = "\x00nested"  # marks a JSON object/array value: never a valid field value


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value or None
    if isinstance(value, int | float):
        return json.dumps(value)
    return NESTED


def _jsonl_row(obj: Any) -> dict[str, str | None] | str:
    """Flatten one JSON object into text cells; a string return is why it failed."""
    if not isinstance(obj, dict):
        return "the line is not a JSON object"
    fields = obj.get("fields", {})
    if fields is None:
        fields = {}
    if not isinstance(fields, dict):
        return "'fields' is not a JSON object"
    row = {k: _cell(obj.get(k)) for k in BASE_COLUMNS}
    extras = {k: v for k, v in obj.items() if k not in (*BASE_COLUMNS, "fields")}
    for key, value in {**extras, **fields}.items():
        row[_field_name(str(key))] = _cell(value)
    return row


def _field_name(key: str) -> str:
    """Empty names and names starting with '__' (reserved) become an unmistakable unknown field."""
    return f"(invalid name {key!r})" if not key.strip() or key.startswith("__") else key


def object_chunk(objects: list[Any]) -> RawChunk:
    """Records given as parsed JSON objects (an API body): the same cells as JSON Lines, numbered from 1."""
    rows: list[dict[str, str | None]] = []
    lines: list[int] = []
    raws: list[str] = []
    bad: list[Unreadable] = []
    for number, obj in enumerate(objects, start=1):
        parsed = _jsonl_row(obj)
        text = json.dumps(obj, ensure_ascii=False)
        if isinstance(parsed, str):
            bad.append(Unreadable(number, text, parsed))
        else:
            rows.append(parsed)
            lines.append(number)
            raws.append(text)
    return _jsonl_chunk(rows, lines, raws, bad)


def _jsonl_chunks(path: Path, chunk_rows: int) -> Iterator[RawChunk]:
    try:
        fh = path.open(encoding="utf-8-sig")
    except OSError as exc:
        raise GuihuaError(f"cannot read {path.name}: {exc.strerror}") from exc
    with fh:
        rows: list[dict[str, str | None]] = []
        lines: list[int] = []
        raws: list[str] = []
        bad: list[Unreadable] = []
        try:
            for number, text in enumerate(fh, start=1):
                if not text.strip():
                    continue
                if len(text) > MAX_LINE:
                    parsed: dict[str, str | None] | str = f"the line is longer than {MAX_LINE // 2**20} MiB"
                    text = text[:1000] + " [truncated]"
                else:
                    try:
                        parsed = _jsonl_row(json.loads(text))
                    except (json.JSONDecodeError, RecursionError) as exc:
                        msg = (
                            f"{exc.msg} at column {exc.colno}"
                            if isinstance(exc, json.JSONDecodeError)
                            else "nested too deep"
                        )
                        parsed = f"not valid JSON ({msg})"
                if isinstance(parsed, str):
                    bad.append(Unreadable(number, text.rstrip("\n"), parsed))
                else:
                    rows.append(parsed)
                    lines.append(number)
                    raws.append(text.rstrip("\n"))
                if len(rows) + len(bad) >= chunk_rows:
                    yield _jsonl_chunk(rows, lines, raws, bad)
                    rows, lines, raws, bad = [], [], [], []
        except UnicodeDecodeError as exc:
            raise GuihuaError(f"cannot read {path.name}: not UTF-8 text ({exc.reason})") from exc
        if rows or bad:
            yield _jsonl_chunk(rows, lines, raws, bad)


def _jsonl_chunk(
    rows: list[dict[str, str | None]], lines: list[int], raws: list[str], bad: list[Unreadable]
) -> RawChunk:
    names = list(dict.fromkeys(k for r in rows for k in r)) or list(BASE_COLUMNS)
    for base in BASE_COLUMNS:
        if base not in names:
            names.append(base)
    data = {n: pa.array([r.get(n) for r in rows], pa.string()) for n in names}
    data[LINE] = pa.array(lines, pa.int64())
    return RawChunk(pa.table(data), unreadable=bad, raw_lines=raws)
