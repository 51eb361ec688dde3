"""The fast CSV path reads what the exact one reads, however the file is cut into blocks.

The fast path (pyarrow, blocks of whole lines) numbers rows by counting lines
and hands a block it cannot take one for one (quoted line breaks, ragged rows,
blank lines) to the exact reader (the csv module), from that block's first
line. Tiny blocks put block boundaries everywhere, including inside quoted cells.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guihua.core.errors import GuihuaError
from guihua.intake import csv_reader, readers
from guihua.intake.chunks import LINE

HEADER = ["source_id", "subject_id", "metric", "occurred_at", "note"]
cells = st.text(alphabet=st.sampled_from(list('ab ,"\n\r\u6842x1')), max_size=6)
rows = st.lists(
    st.one_of(
        st.lists(cells, min_size=5, max_size=5),  # a proper row
        st.lists(cells, min_size=1, max_size=7),  # perhaps ragged
        st.just([]),  # a blank line
    ),
    max_size=25,
)


def _write(path: Path, body: list[list[str]], crlf: bool) -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(HEADER)
    for row in body:
        writer.writerow(row)
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")
    return path


def _read(chunks: Any) -> tuple[list[dict[str, Any]], list[tuple[int | None, str]]]:
    got: list[dict[str, Any]] = []
    bad: list[tuple[int | None, str]] = []
    for chunk in chunks:
        got += pa.Table.from_batches(chunk.table.to_batches(), chunk.table.schema).to_pylist()
        bad += [(u.line, u.raw) for u in chunk.unreadable]
    return sorted(got, key=lambda r: r[LINE]), sorted(bad, key=lambda b: b[0] or 0)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=rows, crlf=st.booleans(), block=st.sampled_from([16, 40, 97, 1 << 20]))
def test_fast_path_reads_what_the_exact_reader_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: list[list[str]], crlf: bool, block: int
) -> None:
    monkeypatch.setattr(csv_reader, "FIRST_BLOCK", block)
    monkeypatch.setattr(csv_reader, "BLOCK", max(block * 2, 64))
    path = _write(tmp_path / "f.csv", body, crlf)
    expected = _read(csv_reader._csv_chunks_exact(path, HEADER, 1000))
    assert _read(readers.read_chunks(path, 7)) == expected


def test_a_clean_file_is_read_by_the_fast_path_with_line_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exact = csv_reader._csv_chunks_exact
    monkeypatch.setattr(csv_reader, "_csv_chunks_exact", lambda *a, **k: pytest.fail("exact reader used"))
    monkeypatch.setattr(csv_reader, "FIRST_BLOCK", 64)
    body = [[f"s{i}", "x", "m", "2025-01-01", "n" * (i % 9)] for i in range(500)]
    path = _write(tmp_path / "f.csv", body, crlf=False)
    got, bad = _read(readers.read_chunks(path, 50))
    assert [r[LINE] for r in got] == list(range(2, 502)) and not bad
    assert got[10]["source_id"] == "s10" and got[9]["note"] is None  # an empty cell is absent
    monkeypatch.setattr(csv_reader, "_csv_chunks_exact", exact)


def test_a_quoted_line_break_late_in_the_file_switches_to_the_exact_reader_there(tmp_path: Path) -> None:
    body = [[f"s{i}", "x", "m", "2025-01-01", "plain"] for i in range(30_000)]
    body.append(["late", "x", "m", "2025-01-01", "Red\nCross"])
    body += [[f"t{i}", "x", "m", "2025-01-01", "plain"] for i in range(10)]
    path = _write(tmp_path / "f.csv", body, crlf=False)
    got, bad = _read(readers.read_chunks(path))
    assert len(got) == 30_011 and not bad
    late = next(r for r in got if r["source_id"] == "late")
    assert (late[LINE], late["note"]) == (30_002, "Red\nCross")
    assert got[-1]["source_id"] == "t9" and got[-1][LINE] == 30_013  # the cell spans two lines


def test_a_line_longer_than_a_block_is_a_clear_error_in_bounded_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_reader, "FIRST_BLOCK", 1 << 12)
    monkeypatch.setattr(csv_reader, "BLOCK", 1 << 16)
    path = tmp_path / "long.csv"
    path.write_text(",".join(HEADER) + "\nk1,x,m,2025-01-01," + "y" * (1 << 18) + "\n")
    with pytest.raises(GuihuaError, match=r"line is longer than 0\.0625 MiB"):
        list(readers.read_chunks(path))


def test_an_unclosed_quote_is_reported_at_the_line_it_was_opened_on(tmp_path: Path) -> None:
    body = [[f"s{i}", "x", "m", "2025-01-01", "plain"] for i in range(3000)]
    path = _write(tmp_path / "f.csv", body, crlf=False)
    lines = path.read_text().splitlines(keepends=True)
    lines[41] = 's40,x,m,2025-01-01,"never closed\n'  # line 42 of the file
    path.write_text("".join(lines) + "x" * 200 + "\n" * 3000)
    with pytest.raises(GuihuaError, match=r"row starting on line 42: .*quote left open"):
        list(readers.read_chunks(path))


@pytest.mark.parametrize("ending", ["\r", "\r\n", "\n", "mixed"])
def test_every_line_ending_convention_is_read_with_its_line_numbers(tmp_path: Path, ending: str) -> None:
    """A bare-CR file (old Mac, some spreadsheet exports) was once read as one header line and nothing else."""
    lines = [",".join(HEADER)] + [f"r{i},s,m,2025-01-01,n{i}" for i in range(100)]
    if ending == "mixed":  # LF first, then bare CR
        text = "\n".join(lines[:40]) + "\n" + "\r".join(lines[40:]) + "\r"
    else:
        text = ending.join(lines) + ending
    path = tmp_path / "f.csv"
    path.write_text(text, encoding="utf-8", newline="")
    got, bad = _read(readers.read_chunks(path, 30))
    assert not bad
    assert [r["source_id"] for r in got] == [f"r{i}" for i in range(100)]
    assert [r[LINE] for r in got] == list(range(2, 102))
