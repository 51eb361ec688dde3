"""JSON Lines files and API bodies (spec section 3): one JSON object per line, values as text cells.

``{"source_id", "subject_id", "metric", "occurred_at", "fields": {...}}``; keys
beside these are fields too. A line that is not a JSON object, or holds text
that is not valid Unicode (a lone surrogate escape), is quarantined as
``unreadable`` with its text.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from guihua.core.errors import UnreadableFile
from guihua.intake.chunks import BASE_COLUMNS, LINE, MAX_COLUMNS, NESTED, RawChunk, Unreadable, not_utf8

MAX_LINE = 8 << 20  # a JSON line longer than this is quarantined unparsed


def _cell(value: Any) -> str | None:
    """A JSON value as the text cell a CSV would hold (numbers as JSON writes them)."""
    kind = type(value)  # exact types first: this runs for every value of every line
    if kind is str:
        return value or None
    if value is None:
        return None
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        return repr(value) if math.isfinite(value) else json.dumps(value)
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
    if len(obj) > len(_SHAPED) or not obj.keys() <= _SHAPED:  # keys beside the base ones are fields too
        extras = {k: v for k, v in obj.items() if k not in _SHAPED}
        fields = {**extras, **fields}
    # text values (most of them) inline; the rest through _cell
    cells = {k: (v or None) if type(v) is str else _cell(v) for k, v in fields.items()}
    if not cells.keys() <= _GOOD_NAMES:
        cells = {_checked_name(k): v for k, v in cells.items()}
    row.update(cells)
    return row


_SHAPED = frozenset((*BASE_COLUMNS, "fields"))
_GOOD_NAMES: set[str] = set()  # field names seen and found fine (a few hundred at most)


def _checked_name(key: str) -> str:
    name = _field_name(str(key))
    if name == key and len(_GOOD_NAMES) < 10_000:
        _GOOD_NAMES.add(name)
    return name


def _field_name(key: str) -> str:
    """Empty names and names starting with '__' (reserved) become an unmistakable unknown field."""
    return f"(invalid name {key!r})" if not key.strip() or key.startswith("__") else key


def _unicode_problem(obj: Any) -> str | None:
    """Why parsed JSON holds text that is not valid Unicode (a lone surrogate escape), else None."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return (
                    "the line holds text that is not valid Unicode (a lone surrogate escape such as \\ud800)"
                )
    return None


def _parse_line(text: str) -> dict[str, str | None] | str:
    """One line as text cells, or why it cannot be read at all."""
    if len(text) > MAX_LINE:
        return f"the line is longer than {MAX_LINE // 2**20} MiB"
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not valid JSON ({exc.msg} at column {exc.colno})"
    except RecursionError:
        return "not valid JSON (nested too deep)"
    except ValueError as exc:  # an integer of more than 4,300 digits
        return f"not valid JSON ({exc})"
    if _SURROGATE.search(text):
        problem = _unicode_problem(obj)
        if problem:
            return problem
    return _jsonl_row(obj)


_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


class _Rows:
    """Parsed rows of one chunk, with the line each came from and its text; unreadable ones apart."""

    def __init__(self) -> None:
        self.rows: list[dict[str, str | None]] = []
        self.names: set[str] = set()
        self.lines: list[int] = []
        self.raws: list[str] = []
        self.bad: list[Unreadable] = []
        self.order: dict[str, None] = {}  # the names in the order first seen

    def __len__(self) -> int:
        return len(self.rows) + len(self.bad)

    def add(self, number: int, parsed: dict[str, str | None] | str, text: str) -> None:
        """A row (or, when ``parsed`` is a string, why it is unreadable) from line ``number``."""
        too_many = (
            not isinstance(parsed, str)
            and len(parsed) + len(self.names) > MAX_COLUMNS  # a cheap bound first
            and len(self.names | parsed.keys()) > MAX_COLUMNS
        )
        if too_many:
            parsed = f"too many different fields: a submission's records have at most {MAX_COLUMNS:,} columns"
        if isinstance(parsed, str):
            self.bad.append(Unreadable(number, text, parsed))
            return
        if not parsed.keys() <= self.names:
            self.names |= parsed.keys()
            self.order.update(dict.fromkeys(parsed))
        self.rows.append(parsed)
        self.lines.append(number)
        self.raws.append(text)

    def chunk(self) -> RawChunk:
        names = list(self.order) if self.rows else list(BASE_COLUMNS)
        names += [base for base in BASE_COLUMNS if base not in names]
        # one pass in C++ over the rows as a struct array: ten times faster than a list per column,
        # and than Table.from_pylist
        kind = pa.struct([(n, pa.string()) for n in names])
        table = pa.Table.from_struct_array(pa.array(self.rows, type=kind))
        table = table.append_column(LINE, pa.array(self.lines, pa.int64()))
        return RawChunk(table, unreadable=self.bad, raw_lines=self.raws)


def object_chunk(objects: list[Any]) -> RawChunk:
    """Records given as parsed JSON objects (an API body): the same cells as JSON Lines, numbered from 1."""
    found = _Rows()
    for number, obj in enumerate(objects, start=1):
        problem = _unicode_problem(obj)
        found.add(number, problem or _jsonl_row(obj), json.dumps(obj, ensure_ascii=problem is not None))
    return found.chunk()


def jsonl_chunks(path: Path, chunk_rows: int) -> Iterator[RawChunk]:
    """Lines in chunks of ``chunk_rows``; each line is kept as sent, for the quarantine."""
    try:
        fh = path.open(encoding="utf-8-sig")
    except OSError as exc:
        raise UnreadableFile(f"cannot read {path.name}: {exc.strerror}") from exc
    with fh:
        found = _Rows()
        try:
            for number, text in enumerate(fh, start=1):
                if not text.strip():
                    continue
                kept = text.rstrip("\n") if len(text) <= MAX_LINE else text[:1000] + " [truncated]"
                found.add(number, _parse_line(text), kept)
                if len(found) >= chunk_rows:
                    yield found.chunk()
                    found = _Rows()
        except UnicodeDecodeError as exc:
            raise not_utf8(path.name, exc) from exc
        if len(found):
            yield found.chunk()
