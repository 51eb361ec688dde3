"""``guihua synth``, ``ingest-manifest`` and ``demo`` on small cities, through the real entry point."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.conftest import TODAY
from tests.helpers import assert_one_line_error, run, subject

HEADER = "source_id,subject_id,metric,occurred_at,hours,organisation"


def test_a_city_of_one_resident_is_written_and_loaded(tmp_path: Path) -> None:
    city = tmp_path / "city"
    proc = run("synth", "--people", "1", "--as-of", TODAY, "--out", str(city))
    assert proc.returncode == 0, proc.stderr
    proc = run("ingest-manifest", str(city / "manifest.json"), "--json", db=tmp_path / "g.db")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no progress bar on a pipe
    loaded = json.loads(proc.stdout)
    assert loaded["complete"] is True and loaded["failed"] is None and loaded["not_attempted"] == []
    assert loaded["files"] == len(loaded["loaded"]) == 14 and loaded["rejected"] == 0
    assert any(f["file"] == "COURT.parquet" and f["accepted"] == 0 for f in loaded["loaded"])


def test_the_demo_of_one_resident_says_what_it_cannot_show(tmp_path: Path) -> None:
    proc = run("demo", "--people", "1", db=tmp_path / "demo" / "demo.db")
    assert proc.returncode == 0, proc.stderr
    assert "1 resident from 14 departments" in proc.stdout
    assert "No resident is above base in this city of 1 resident" in proc.stdout
    assert "No resident is below base in this city of 1 resident: no defaulter to explain" in proc.stdout
    assert "Traceback" not in proc.stderr
    as_json = json.loads(run("demo", "--people", "9", "--json", db=tmp_path / "d9.db").stdout)
    assert as_json["people"] == 9 and as_json["distribution"]["subjects"] == 9
    assert [e["label"] for e in as_json["examples"]] == ["above", "below"]
    synth = json.loads(run("synth", "--people", "2", "--out", str(tmp_path / "c2"), "--json").stdout)
    assert len(synth["files"]) == 14 and synth["manifest"].endswith("manifest.json")
    refused = run("demo", "--people", "0")  # Typer's own range check
    assert refused.returncode == 2 and "greater than or equal to 1" in refused.stderr


def _manifest(folder: Path, broken: bool) -> Path:
    ids = [subject(i) for i in (1, 2, 3)]
    for name in ("a", "b", "c", "d"):
        rows = [f"{name}{i},{s},volunteer_service,2026-03-0{i},12,Red Cross" for i, s in enumerate(ids, 1)]
        if name == "c" and broken:
            rows[-1] = rows[-1].replace(",Red Cross", ',"Red Cross')  # a quote left open on line 4
        (folder / f"{name}.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    path = folder / "manifest.json"
    entries = [{"file": f"{name}.csv", "department": "VOLUNTEER"} for name in ("a", "b", "c", "d")]
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


def test_a_failed_file_stops_with_a_report_and_a_rerun_completes(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    manifest = _manifest(tmp_path, broken=True)
    proc = run("ingest-manifest", str(manifest), db=db)
    assert proc.returncode == 2
    assert_one_line_error(proc, "stopped at file 3 of 4 (c.csv)", "line 4", "2 loaded, 1 not attempted")
    lines = proc.stdout.splitlines()
    assert lines[0] == "loaded 2 of 4 files:"
    assert lines[1].startswith("  a.csv (VOLUNTEER): 3 accepted, 0 duplicates")
    assert lines[2].startswith("  b.csv (VOLUNTEER): 3 accepted")
    assert lines[3].startswith("failed: c.csv (VOLUNTEER): cannot read c.csv: the row starting on line 4")
    assert lines[3].endswith("nothing of it was stored")
    assert lines[4:] == ["not attempted: 1 files", "  d.csv (VOLUNTEER)"]

    proc = run("ingest-manifest", str(manifest), "--json", db=db)  # still broken: the same stop
    assert proc.returncode == 2
    assert_one_line_error(proc, "stopped at file 3 of 4 (c.csv)")
    report = json.loads(proc.stdout)
    assert [(f["file"], f["accepted"], f["duplicates"]) for f in report["loaded"]] == [
        ("a.csv", 0, 3),
        ("b.csv", 0, 3),
    ]
    assert report["failed"]["file"] == "c.csv" and "quote" in report["failed"]["error"]
    assert report["not_attempted"] == [{"file": "d.csv", "department": "VOLUNTEER"}]
    assert report["detail"].startswith("stopped at file 3 of 4 (c.csv)")  # as the stderr line says

    _manifest(tmp_path, broken=False)
    proc = run("ingest-manifest", str(manifest), "--json", db=db)
    assert proc.returncode == 0, proc.stderr
    done = json.loads(proc.stdout)
    assert done["complete"] is True and (done["accepted"], done["duplicates"]) == (6, 6)
    # as one clean load: four files of three records, each stored once, nothing quarantined
    assert (_count(db, "records"), _count(db, "quarantine")) == (12, 0)


def _count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_a_manifest_with_problems_is_refused_whole_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    manifest = _manifest(tmp_path, broken=False)
    entries = json.loads(manifest.read_text())
    entries[1]["file"] = "gone.csv"
    entries[3]["department"] = "NOPE"
    manifest.write_text(json.dumps(entries), encoding="utf-8")
    proc = run("ingest-manifest", str(manifest), db=db)
    assert proc.returncode == 2 and proc.stdout == ""
    assert_one_line_error(
        proc,
        "nothing was loaded: 2 problem(s)",
        "entry 2 (gone.csv, VOLUNTEER): cannot read",
        "no such file",
        "entry 4 (d.csv, NOPE): unknown department 'NOPE'",
    )
    report = json.loads(run("report", "distribution", "--json", db=db).stdout)
    assert report["subjects"] == 0
