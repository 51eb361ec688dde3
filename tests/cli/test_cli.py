"""The `guihua` command as a user runs it: real subprocesses, real files, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import DATA, TODAY
from tests.helpers import assert_one_line_error, jsonl, record, run, subject

A = subject(1)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "g.db"
    assert run("catalog", "load", str(DATA / "mini.yaml"), db=path).returncode == 0
    return path


@pytest.fixture
def records_file(tmp_path: Path) -> Path:
    rows = [
        record("v1", A, "volunteer_service", "2026-03-01", hours=12, organisation="Red Cross"),
        record("v2", subject(2), "volunteer_service", "2026-03-01", hours=2, organisation="Red Cross"),
        record("bad", "123", "volunteer_service", "2026-03-01", hours=2, organisation="Red Cross"),
    ]
    return jsonl(tmp_path / "civil.jsonl", rows)


def test_ingest_json_is_one_object_and_exit_zero_with_rejects(db: Path, records_file: Path) -> None:
    proc = run("ingest", str(records_file), "--department", "CIVIL", "--json", db=db)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert {k: out[k] for k in ("accepted", "duplicates", "corrected", "rejected")} == {
        "accepted": 2,
        "duplicates": 0,
        "corrected": 0,
        "rejected": 1,
    }
    again = json.loads(run("ingest", str(records_file), "-d", "CIVIL", "--json", db=db).stdout)
    assert (again["accepted"], again["duplicates"]) == (0, 2)
    rejects = json.loads(run("rejects", "--department", "CIVIL", "--json", db=db).stdout)
    assert {r["reason"] for r in rejects["rejects"]} == {"invalid_subject_id"}


def test_score_explain_perks_export(db: Path, records_file: Path, tmp_path: Path) -> None:
    run("ingest", str(records_file), "-d", "CIVIL", db=db)
    score = json.loads(run("score", A, "--at", "2026-04-01", "--json", db=db).stdout)
    assert score == {**score, "subject_id": A, "at": "2026-04-01", "score": 103, "defaulter": False}
    explained = json.loads(run("explain", A, "--at", "2026-04-01", "--json", db=db).stdout)
    (item,) = explained["records"]
    assert (item["department"], item["metric"], item["rule_id"], item["points"], item["category"]) == (
        "CIVIL",
        "volunteer_service",
        "VOL-10H",
        3,
        "volunteering",
    )
    assert (item["start"], item["end"], item["active"], item["rule_legal_basis"]) == (
        "2026-03-01",
        "2027-03-01",
        True,
        "Volunteer regulation Art. 5",
    )
    perks = json.loads(run("perks", A, "--at", "2026-04-01", "--json", db=db).stdout)
    assert {p["perk"]: p["eligible"] for p in perks["perks"]} == {
        "library_long_loan": True,
        "civilization_loan": True,
    }
    human = run("explain", A, "--at", "2026-04-01", db=db).stdout
    assert "VOL-10H" in human and "Volunteer regulation Art. 5" in human
    for name in ("s.csv", "s.parquet"):
        proc = run("export", "scores", "--at", "2026-04-01", "--out", str(tmp_path / name), db=db)
        assert proc.returncode == 0, proc.stderr
    rows = pq.read_table(tmp_path / "s.parquet").select(["subject_id", "score", "defaulter"]).to_pylist()
    assert {r["subject_id"]: r["score"] for r in rows} == {A: 103, subject(2): 101}
    assert (tmp_path / "s.csv").read_text().splitlines()[0].startswith('"subject_id","score","defaulter"')


def test_catalog_show_and_refusal(db: Path, tmp_path: Path) -> None:
    shown = run("catalog", "show", db=db).stdout
    assert (
        "TRF-YIELD" in shown
        and "Road Traffic Safety Law Art. 47" in shown
        and "Extended library loan" in shown
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (DATA / "mini.yaml")
        .read_text()
        .replace("points: -3,", "points: -80,")
        .replace("points: 3,", "points: 0,")
    )
    proc = run("catalog", "load", str(bad), db=db)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "rules[2] (TRF-YIELD): points -80 exceeds max_points_per_record 50" in proc.stderr
    assert "rules[0] (VOL-10H): points must not be 0" in proc.stderr
    versions = run("catalog", "versions", db=db).stdout.strip().splitlines()
    assert len(versions) == 1  # nothing changed


@pytest.mark.parametrize(
    "args",
    [
        ["score", A, "--json"],
        ["explain", A],
        ["perks", A],
        ["catalog", "show"],
        ["defaulters"],
        ["audit", "verify"],
        ["notices", "list", A],
        ["export", "scores", "--out", "{tmp}/s.csv"],
    ],
)
def test_a_read_never_invents_a_store(tmp_path: Path, args: list[str]) -> None:
    fresh = tmp_path / "fresh.db"
    proc = run(*[a.replace("{tmp}", str(tmp_path)) for a in args], db=fresh)
    assert_one_line_error(proc, "no store at", str(fresh), "guihua init")
    assert proc.returncode == 2
    assert not fresh.exists()


def test_an_empty_file_is_not_a_store(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    assert_one_line_error(run("score", A, db=empty), "holds no Guihua store", "guihua init")


def test_init_makes_a_store_with_the_default_scheme(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.db"
    made = run("init", "--json", db=fresh)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["catalog_version"] == 1
    proc = run("score", A, "--json", db=fresh)
    assert json.loads(proc.stdout)["score"] == 100
    assert "Osmanthus" in run("catalog", "show", db=fresh).stdout
    again = run("init", "--json", db=fresh)
    assert json.loads(again.stdout)["catalog_version"] == 1


@pytest.mark.parametrize(
    "args,words",
    [
        (["ingest", "missing.csv", "-d", "CIVIL"], ["no such file"]),
        (["ingest", "{tmp}/x.txt", "-d", "CIVIL"], ["unknown extension"]),
        (["ingest", "{tmp}/civil.jsonl", "-d", "NOPE"], ["unknown department", "CIVIL"]),
        (["ingest", "{tmp}/nohead.csv", "-d", "CIVIL"], ["missing column"]),
        (["ingest", "{tmp}/latin1.csv", "-d", "CIVIL"], ["not UTF-8"]),
        (["ingest", "{tmp}/garbage.parquet", "-d", "CIVIL"], ["not a Parquet file"]),
        (["score", A, "--at", "2026-02-30"], ["--at", "YYYY-MM-DD"]),
        (["score", "123"], ["invalid subject id"]),
        (["explain", "11010519491231002Y"], ["invalid subject id"]),
        (["perks", "'; DROP TABLE records; --"], ["invalid subject id"]),
        (["retract", "nope", "-d", "CIVIL"], ["no record"]),
        (["export", "scores", "--out", "{tmp}/scores.xlsx"], [".csv or .parquet"]),
        (["catalog", "load", "{tmp}/missing.yaml"], ["cannot read"]),
    ],
)
def test_bad_input_is_one_clear_line(
    db: Path, tmp_path: Path, records_file: Path, args: list[str], words: list[str]
) -> None:
    (tmp_path / "x.txt").write_text("a")
    (tmp_path / "nohead.csv").write_text("a,b\n1,2\n")
    (tmp_path / "latin1.csv").write_bytes(
        "source_id,subject_id,metric,occurred_at\nx,\xe9\xe9,m,2020-01-01\n".encode("latin-1")
    )
    (tmp_path / "garbage.parquet").write_bytes(b"not parquet at all")
    assert_one_line_error(run(*[a.replace("{tmp}", str(tmp_path)) for a in args], db=db), *words)
    assert json.loads(run("score", A, "--json", db=db).stdout)["score"] == 100  # the store still works


def test_guihua_db_environment_variable_and_db_before_command(tmp_path: Path, records_file: Path) -> None:
    path = tmp_path / "env.db"
    proc = run("ingest", str(records_file), "-d", "CIVIL", "--json", env={"GUIHUA_DB": str(path)})
    assert proc.returncode == 0 and path.exists()
    cmd = [
        sys.executable,
        "-c",
        "from guihua.cli.app import main; main()",
        "--db",
        str(path),
        "score",
        A,
        "--json",
    ]
    out = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, "GUIHUA_TODAY": TODAY}, timeout=60
    )
    assert json.loads(out.stdout)["subject_id"] == A


def test_synth_ingest_manifest_and_distribution_report(tmp_path: Path) -> None:
    city = tmp_path / "city"
    proc = run("synth", "--people", "2000", "--seed", "3", "--as-of", TODAY, "--out", str(city))
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((city / "manifest.json").read_text())
    assert {"file", "department"} <= set(manifest[0])
    loaded = json.loads(
        run("ingest-manifest", str(city / "manifest.json"), "--json", db=tmp_path / "g.db").stdout
    )
    assert loaded["rejected"] == 0 and loaded["files"] == len(manifest)
    report = json.loads(run("report", "distribution", "--json", db=tmp_path / "g.db").stdout)
    assert report["subjects"] == 2000 and report["above"] + report["at_base"] + report["below"] == 2000
    assert sum(b["count"] for b in report["histogram"]) == 2000
    text = run("report", "distribution", db=tmp_path / "g.db").stdout
    assert "above 100" in text and "defaulters" in text
