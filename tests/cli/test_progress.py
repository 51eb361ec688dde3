"""Long work shows a bar or a spinner on a terminal and nothing on a pipe (issue 12, item 7).

The terminal is a real pseudo-terminal; on a pipe (how scripts and CI call guihua) stderr stays
empty, so nothing but the answer is ever in the way of a program reading the output.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import DATA
from tests.helpers import jsonl, record, run, run_on_terminal, subject


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("progress")
    db = folder / "g.db"
    assert run("catalog", "load", str(DATA / "mini.yaml"), db=db).returncode == 0
    rows = [
        record(f"v{i}", subject(i), "volunteer_service", "2026-03-01", hours=3, organisation="Red Cross")
        for i in range(1, 200)
    ]
    return db, jsonl(folder / "civil.jsonl", rows)


def _cases(folder: Path, records: Path) -> list[tuple[list[str], str]]:
    return [
        (["ingest", str(records), "-d", "CIVIL"], "ingesting civil.jsonl"),
        (["export", "scores", "--out", str(folder / "s.parquet")], "scoring every resident"),
        (["report", "distribution"], "scoring every resident"),
        (["catalog", "load", str(DATA / "mini.yaml")], "re-matching"),
        (["purge", "--dry-run"], "past retention"),
    ]


def test_a_terminal_sees_the_work_going_on(city: tuple[Path, Path]) -> None:
    db, records = city
    for args, words in _cases(db.parent, records):
        code, seen = run_on_terminal(*args, db=db)
        assert code == 0, (args, seen)
        assert words in seen, (args, seen[-300:])


def test_a_pipe_sees_nothing_but_the_answer(city: tuple[Path, Path]) -> None:
    db, records = city
    for args, _ in _cases(db.parent, records):
        proc = run(*args, db=db)
        assert proc.returncode == 0 and proc.stderr == "", (args, proc.stderr)
