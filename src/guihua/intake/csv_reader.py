"""CSV files (spec section 3): blocks of lines parsed by pyarrow, the csv module where that is not exact.

Columns ``source_id, subject_id, metric, occurred_at``, then one per field; an
empty cell is an absent field. A row with the wrong number of cells is
quarantined as ``unreadable`` with its text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from guihua.core.errors import UnreadableFile
from guihua.intake.chunks import (
    LINE,
    RawChunk,
    Unreadable,
    blank_to_null,
    check_header,
    not_utf8,
    with_lines,
)


def _csv_header(path: Path) -> tuple[list[str], int]:
    """The header's cell names, and how many physical lines it spans (a quoted name may span two)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            spans = reader.line_num
    except UnicodeDecodeError as exc:
        raise not_utf8(path.name, exc) from exc
    except csv.Error as exc:
        raise UnreadableFile(f"cannot read {path.name}: bad CSV header ({exc})") from exc
    if not header:
        raise UnreadableFile(f"cannot read {path.name}: the file is empty; a header row is required")
    return [h.strip() for h in header], spans


FIRST_BLOCK = 1 << 20  # bytes: a small first block lets storing start sooner
BLOCK = 8 << 20  # bytes; also the longest line the fast path takes (longer ones: the exact reader)


def csv_chunks(path: Path, chunk_rows: int) -> Iterator[RawChunk]:
    """Fast path: pyarrow parses blocks of whole lines; a block it cannot take exactly goes to the csv module.

    The fast path assumes one row per line, which lets it number rows by
    counting lines. A block where that fails (a quoted cell spanning lines, a
    ragged row, a blank line, an unclosed quote, bytes that are not UTF-8, a
    line longer than a block) and everything after it is read by the exact,
    slower reader, from the block's first line: every block before it ended
    at a row's end, since its rows matched its lines one for one.
    """
    names, header_lines = _csv_header(path)
    check_header(path.name, names)
    if header_lines != 1 or _header_ends_with_bare_cr(path):
        yield from _csv_chunks_exact(path, names, chunk_rows)  # it knows every line-ending convention
        return
    with path.open("rb") as fh:
        fh.readline()  # the header
        line = 2
        for block, offset in _line_blocks(fh, FIRST_BLOCK, BLOCK):
            table = None if block is None else _parse_block(block, names)
            if table is None:
                yield from _csv_chunks_exact(path, names, chunk_rows, offset, line)
                return
            yield from _split(RawChunk(with_lines(table, line)), chunk_rows)
            line += table.num_rows


def _header_ends_with_bare_cr(path: Path) -> bool:
    """Whether the first line ends with a lone ``\\r`` (old Mac files, some spreadsheet exports).

    The fast path splits lines at ``\\n`` only: for such a file the first line
    would be the whole file. The exact reader splits at ``\\r``, ``\\n`` and ``\\r\\n``.
    """
    with path.open("rb") as fh:
        head = fh.read(FIRST_BLOCK)
    cr, lf = head.find(b"\r"), head.find(b"\n")
    return cr >= 0 and (lf < 0 or cr < lf - 1)


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
            raise UnreadableFile(f"cannot read {path.name}: {where}: {exc} (is a quote left open?)") from exc
        except UnicodeDecodeError as exc:
            raise not_utf8(path.name, exc) from exc


def _bounded_lines(fh: Any, path: Path) -> Iterator[str]:
    """The file's lines, refusing one longer than a block (memory stays bounded on hostile files)."""
    while line := fh.readline(BLOCK + 1):
        if len(line) > BLOCK:
            raise UnreadableFile(f"cannot read {path.name}: a line is longer than {BLOCK / 2**20:g} MiB")
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
        raise UnreadableFile(
            f"cannot read {name}: the row starting on line {start}: {exc} (is a quote left open?)"
        ) from exc
    if rows or bad:
        yield _rows_chunk(names, rows, lines, bad)


def _rows_chunk(names: list[str], rows: list[list[str]], lines: list[int], bad: list[Unreadable]) -> RawChunk:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    table = blank_to_null(
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
