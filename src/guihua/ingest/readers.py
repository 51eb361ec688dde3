"""Streaming readers for department files (CSV, JSON Lines, Parquet).

Every reader yields :class:`RawChunk` objects: all values as text (an empty or
missing cell is null), a ``line`` column, and the rows the reader could not
even split into cells. Memory stays bounded by the chunk size, however large
the file.
"""

from __future__ import annotations

import csv
import io
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


def _csv_header(path: Path) -> tuple[list[str], int]:
    """The header's cell names, and how many physical lines it spans (a quoted name may span two)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            spans = reader.line_num
    except UnicodeDecodeError as exc:
        raise GuihuaError(f"cannot read {path.name}: not UTF-8 text ({exc.reason})") from exc
    except csv.Error as exc:
        raise GuihuaError(f"cannot read {path.name}: bad CSV header ({exc})") from exc
    if not header:
        raise GuihuaError(f"cannot read {path.name}: the file is empty; a header row is required")
    return [h.strip() for h in header], spans


FIRST_BLOCK = 1 << 20  # bytes: a small first block lets storing start sooner
BLOCK = 8 << 20  # bytes; also the longest line the fast path takes (longer ones: the exact reader)


def _csv_chunks(path: Path, chunk_rows: int) -> Iterator[RawChunk]:
    """Fast path: pyarrow parses blocks of whole lines; a block it cannot take exactly goes to the csv module.

    The fast path assumes one row per line, which lets it number rows by
    counting lines. A block where that fails (a quoted cell spanning lines, a
    ragged row, a blank line, an unclosed quote, bytes that are not UTF-8, a
    line longer than a block) and everything after it is read by the exact,
    slower reader, from the block's first line: every block before it ended
    at a row's end, since its rows matched its lines one for one.
    """
    names, header_lines = _csv_header(path)
    _check_header(path, names)
    if header_lines != 1:
        yield from _csv_chunks_exact(path, names, chunk_rows)
        return
    with path.open("rb") as fh:
        fh.readline()  # the header
        line = 2
        for block, offset in _line_blocks(fh, FIRST_BLOCK, BLOCK):
            table = None if block is None else _parse_block(block, names)
            if table is None:
                yield from _csv_chunks_exact(path, names, chunk_rows, offset, line)
                return
            yield from _split(RawChunk(_with_lines(table, line)), chunk_rows)
            line += table.num_rows


def _line_blocks(fh: Any, first: int, size: int) -> Iterator[tuple[bytes | None, int]]:
    """Blocks of whole lines (each ends with a line break, but perhaps the file's last), with their offsets.

    None instead of a block: a line longer than ``size`` starts at that offset.
    """
    offset, rest, want = fh.tell(), b"", first
    while True:
        data = fh.read(want)
        want = size
        if not data:
            if rest:
                yield rest, offset
            return
        data = rest + data
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            if len(data) < size:  # a short last line without a line break may still be whole: read on
                rest = data
                continue
            yield None, offset
            return
        rest = data[cut:]
        yield data[:cut], offset
        offset += cut


def _parse_block(block: bytes, names: list[str]) -> pa.Table | None:
    """A block's rows, all text (an empty cell is null); None unless rows and lines match one for one.

    One for one: as many rows as lines, none ragged; no line break but
    ``\\r\\n`` and ``\\n`` (a bare ``\\r`` is one to the csv module, not here); and the
    block does not end inside a quoted cell (an even count of quotes, and no
    line break in the last row's cells: the parser takes an unclosed quote at
    the end of its input as closed there).
    """
    lines = block.count(b"\n") + (not block.endswith(b"\n"))
    if block.count(b"\r") != block.count(b"\r\n") or block.count(b'"') % 2:
        return None
    ragged = 0

    def on_invalid(_row: Any) -> str:
        nonlocal ragged
        ragged += 1
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(block),
            read_options=pacsv.ReadOptions(
                column_names=names, block_size=len(block) + 1, encoding="utf8", use_threads=False
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
    except pa.ArrowInvalid:
        return None
    if ragged or table.num_rows != lines:
        return None
    last = table.slice(table.num_rows - 1).to_pylist()[0].values() if table.num_rows else ()
    return None if any(v and ("\n" in v or "\r" in v) for v in last) else table


def _csv_chunks_exact(
    path: Path, names: list[str], chunk_rows: int, offset: int | None = None, line: int = 1
) -> Iterator[RawChunk]:
    """Row by row with the csv module: exact line numbers, cells with line breaks, clear errors.

    From the top (header included), or from ``offset``, the start of physical ``line``.
    """
    with path.open("rb") as raw:
        if offset is not None:
            raw.seek(offset)
        fh = io.TextIOWrapper(raw, encoding="utf-8-sig" if offset is None else "utf-8", newline="")
        reader = csv.reader(_bounded_lines(fh, path), strict=True)
        first = line - 1  # reader.line_num counts physical lines read so far
        try:
            if offset is None:
                next(reader)
            yield from _exact_rows(reader, first, names, chunk_rows, path.name)
        except csv.Error as exc:
            where = f"line {first + reader.line_num}"
            raise GuihuaError(f"cannot read {path.name}: {where}: {exc} (is a quote left open?)") from exc
        except UnicodeDecodeError as exc:
            raise GuihuaError(f"cannot read {path.name}: not UTF-8 text ({exc.reason})") from exc


def _bounded_lines(fh: Any, path: Path) -> Iterator[str]:
    """The file's lines, refusing one longer than a block (memory stays bounded on hostile files)."""
    while line := fh.readline(BLOCK + 1):
        if len(line) > BLOCK:
            raise GuihuaError(f"cannot read {path.name}: a line is longer than {BLOCK / 2**20:g} MiB")
        yield line


def _exact_rows(reader: Any, first: int, names: list[str], chunk_rows: int, name: str) -> Iterator[RawChunk]:
    """Rows with the line each starts on; a row the csv module refuses is named by that line.

    (An unclosed quote is only noticed lines later, where the cell grows past
    the csv module's limit: the line it was opened on is the one to fix.)
    """
    rows: list[list[str]] = []
    lines: list[int] = []
    bad: list[Unreadable] = []
    start = first + reader.line_num + 1
    try:
        for row in reader:
            if len(row) != len(names):
                if row:
                    detail = f"row has {len(row)} cells, the header has {len(names)}"
                    bad.append(Unreadable(start, ",".join(row), detail))
            else:
                rows.append(row)
                lines.append(start)
            start = first + reader.line_num + 1
            if len(rows) + len(bad) >= chunk_rows:
                yield _rows_chunk(names, rows, lines, bad)
                rows, lines, bad = [], [], []
    except csv.Error as exc:
        raise GuihuaError(
            f"cannot read {name}: the row starting on line {start}: {exc} (is a quote left open?)"
        ) from exc
    if rows or bad:
        yield _rows_chunk(names, rows, lines, bad)


def _rows_chunk(names: list[str], rows: list[list[str]], lines: list[int], bad: list[Unreadable]) -> RawChunk:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    table = _blank_to_null(
        pa.table({n: pa.array(list(c), pa.string()) for n, c in zip(names, columns, strict=True)})
    )
    return RawChunk(table.append_column(LINE, pa.array(lines, pa.int64())), unreadable=bad)


def _split(chunk: RawChunk, rows: int) -> Iterator[RawChunk]:
    """Into chunks of at most ``rows`` rows, as even as can be (ingestion pipelines them)."""
    n = chunk.table.num_rows
    if n <= rows:
        yield chunk
        return
    size = -(-n // -(-n // rows))  # ceil(n / number of parts)
    for i, start in enumerate(range(0, n, size)):
        yield RawChunk(chunk.table.slice(start, size), chunk.unreadable if i == 0 else [])


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
