"""`guihua ingest` and `guihua rejects` by submission, as a clerk uses them (SQLite and PostgreSQL).

Send a file twice, see its rejects once under both submissions, write them out, fix them, send
the fixed file, and nothing is left open.
"""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import DATA, _empty_pg
from tests.helpers import assert_one_line_error, run, subject

A, B = subject(1), subject(2)
HEADER = ["source_id", "subject_id", "metric", "occurred_at", "hours", "organisation"]
ROWS = [
    ["v1", A, "volunteer_service", "2026-03-01", "12", "Red Cross"],
    ["v2", "123", "volunteer_service", "2026-03-01", "2", "红十字会, 苏州"],
    ["v3", B, "volunteer_service", "2026-03-01", "twelve", "x"],
]


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store with the mini catalog: a SQLite file, or the session's PostgreSQL database emptied."""
    if request.param == "sqlite":
        url = str(tmp_path / "g.db")
    else:
        url = request.getfixturevalue("pg_url")
        _empty_pg(url).dispose()
    assert guihua("catalog", "load", str(DATA / "mini.yaml"), db=url).returncode == 0
    yield url


def guihua(*args: str, db: str) -> subprocess.CompletedProcess[str]:
    return run(*args, "--db", db)


def ok_json(*args: str, db: str) -> dict[str, object]:
    proc = run(*args, "--json", "--db", db)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert isinstance(out, dict)
    return out


def test_send_twice_see_once_write_fix_resend(db: str, tmp_path: Path) -> None:
    path = tmp_path / "civil.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([HEADER, *ROWS])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()

    first = ok_json("ingest", str(path), "-d", "CIVIL", db=db)
    text = run("ingest", str(path), "-d", "CIVIL", "--db", db)
    assert text.returncode == 0, text.stderr
    second = int(text.stdout.split("(submission ")[1].split(",")[0])
    assert f"sha256 {digest}" in text.stdout
    assert f"guihua rejects --submission {second}" in text.stdout
    assert (first["sha256"], first["rejected"], first["size_bytes"]) == (digest, 2, path.stat().st_size)

    everything = ok_json("rejects", db=db)
    assert everything["count"] == 2  # the file sent twice: its rejects once
    for sid in (first["submission_id"], second):
        got = ok_json("rejects", "--submission", str(sid), db=db)
        assert sorted(r["source_id"] for r in got["rejects"]) == ["v2", "v3"]  # type: ignore[attr-defined, index]
        assert {tuple(r["submissions"]) for r in got["rejects"]} == {(first["submission_id"], second)}  # type: ignore[attr-defined, index]
    listed = run("rejects", "--submission", str(second), "-d", "CIVIL", "--db", db).stdout
    assert f"refused again by submission {second}" in listed and "invalid_field" in listed
    assert ok_json("rejects", "--open", "-d", "CIVIL", db=db)["count"] == 2

    fix = tmp_path / "fix.csv"
    written = ok_json("rejects", "--submission", str(second), "--out", str(fix), db=db)
    assert (written["rows"], written["note_columns"]) == (2, ["line", "reason", "detail"])
    with fix.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["organisation"] for r in rows] == ["红十字会, 苏州", "x"]
    rows[0]["subject_id"], rows[1]["hours"] = subject(3), "12"
    fixed = tmp_path / "fixed.csv"
    with fixed.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, HEADER, extrasaction="ignore")  # the note columns deleted
        w.writeheader()
        w.writerows(rows)
    resent = ok_json("ingest", str(fixed), "-d", "CIVIL", db=db)
    assert (resent["accepted"], resent["rejected"]) == (2, 0)

    assert ok_json("rejects", "--open", db=db)["count"] == 0
    assert "no open quarantined rows" in run("rejects", "--open", "--db", db).stdout
    kept = ok_json("rejects", db=db)["rejects"]
    assert [r["open"] for r in kept] == [False, False]  # type: ignore[attr-defined, index]
    assert "accepted since" in run("rejects", "--db", db).stdout


def test_rejects_refuses_what_it_cannot_do_in_one_line(db: str, tmp_path: Path) -> None:
    assert_one_line_error(run("rejects", "--out", str(tmp_path / "r.xlsx"), "--db", db), ".csv")
    assert not (tmp_path / "r.xlsx").exists()
    assert_one_line_error(run("rejects", "--submission", "42", "--db", db), "no submission 42")
