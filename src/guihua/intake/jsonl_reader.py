"""JSON Lines files and API bodies (spec section 3): one JSON object per line, values as text cells.

``{"source_id", "subject_id", "metric", "occurred_at", "fields": {...}}``; keys
beside these are fields too. A line that is not a JSON object, or holds text
that is not valid Unicode (a lone surrogate escape), is quarantined as
``unreadable`` with its text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from guihua.core.errors import UnreadableFile
from guihua.intake.chunks import BASE_COLUMNS, LINE, MAX_COLUMNS, NESTED, RawChunk, Unreadable, not_utf8

MAX_LINE = 8 << 20  # a JSON line longer than this is quarantined unparsed


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

    def __len__(self) -> int:
        return len(self.rows) + len(self.bad)

    def add(self, number: int, parsed: dict[str, str | None] | str, text: str) -> None:
        """A row (or, when ``parsed`` is a string, why it is unreadable) from line ``number``."""
        if not isinstance(parsed, str) and len(self.names | parsed.keys()) > MAX_COLUMNS:
            parsed = f"too many different fields: a submission's records have at most {MAX_COLUMNS:,} columns"
        if isinstance(parsed, str):
            self.bad.append(Unreadable(number, text, parsed))
            return
        self.names |= parsed.keys()
        self.rows.append(parsed)
        self.lines.append(number)
        self.raws.append(text)

    def chunk(self) -> RawChunk:
        names = list(dict.fromkeys(k for r in self.rows for k in r)) or list(BASE_COLUMNS)
        names += [base for base in BASE_COLUMNS if base not in names]
        data = {n: pa.array([r.get(n) for r in self.rows], pa.string()) for n in names}
        data[LINE] = pa.array(self.lines, pa.int64())
        return RawChunk(pa.table(data), unreadable=self.bad, raw_lines=self.raws)


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
