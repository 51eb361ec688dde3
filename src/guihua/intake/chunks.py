"""A chunk of a department file as every reader hands it on: text cells, line numbers, unreadable rows.

What the readers share (:mod:`guihua.intake.csv_reader`, ``jsonl_reader``,
``parquet_reader``) and what validation reads; dispatch by format is
:mod:`guihua.intake.readers`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl
import pyarrow as pa

from guihua.core.errors import UnreadableFile

ENCODING_HINT = "Guihua reads UTF-8 text (with or without a BOM), and GB 18030 / GBK with --encoding gb18030"
BASE_COLUMNS: tuple[str, ...] = ("source_id", "subject_id", "metric", "occurred_at")
LINE = "__line"  # internal column: the row's line number in the file
MAX_COLUMNS = 1000  # the base columns and one per field: no department file needs more
NOT_TEXT = "\x00not-utf8"  # a binary cell whose bytes are not UTF-8 text: its row is unreadable
TOO_LONG = "\x00too-long"  # a cell over the limit, replaced before it was decoded: its row is unreadable
NESTED = "\x00nested"  # a JSON object/array value: never a valid field value, not an unreadable cell


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


def not_utf8(name: str, exc: UnicodeDecodeError) -> UnreadableFile:
    """The one-line error for a file that is not UTF-8 text."""
    return UnreadableFile(f"cannot read {name}: not UTF-8 text ({exc.reason}); {ENCODING_HINT}")


def check_header(name: str, names: list[str]) -> None:
    if len(names) > MAX_COLUMNS:
        raise UnreadableFile(
            f"cannot read {name}: {len(names):,} columns; a department file has the base columns and one "
            f"per field, at most {MAX_COLUMNS:,}"
        )
    missing = [c for c in BASE_COLUMNS if c not in names]
    if missing:
        raise UnreadableFile(
            f"cannot read {name}: missing column(s) {', '.join(missing)}; "
            f"expected {', '.join(BASE_COLUMNS)} then one column per field"
        )
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UnreadableFile(f"cannot read {name}: column(s) {', '.join(dupes)} appear twice")
    odd = [n for n in names if not n.strip() or n.startswith("__")]
    if odd:
        raise UnreadableFile(
            f"cannot read {name}: column name {odd[0]!r} is empty or reserved (starts with '__')"
        )


def with_lines(table: pa.Table, first_line: int) -> pa.Table:
    lines = pa.array(np.arange(first_line, first_line + table.num_rows, dtype=np.int64))
    return table.append_column(LINE, lines)


def blank_to_null(table: pa.Table) -> pa.Table:
    """All columns as text; an empty cell is an absent value."""
    df = pl.DataFrame(table).with_columns(pl.all().cast(pl.String))
    return df.with_columns(pl.all().replace("", None)).to_arrow()
