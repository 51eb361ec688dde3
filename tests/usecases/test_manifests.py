"""Small and odd cities: empty department files, cities from one resident, manifests that stop and resume."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from guihua.core.errors import GuihuaError, InvalidInput
from guihua.intake.chunks import BASE_COLUMNS
from guihua.schemes import load_default_catalog
from guihua.store.database import Store, open_store
from guihua.synth.city import SHARE_POSITIVE, generate_city
from guihua.usecases import catalogs, manifests, records, scores, submissions
from guihua.usecases.demo import build_demo
from tests.helpers import jsonl, record, subject

AS_OF = dt.date(2026, 6, 30)
A, B, C = subject(1), subject(2), subject(3)
VOL_HEADER = "source_id,subject_id,metric,occurred_at,hours,organisation"


def count(store: Store, table: str) -> int:
    with store.begin() as conn:
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())


# --------------------------------------------------------------------------- empty files


def _empty_parquet(path: Path) -> Path:
    columns = {name: pa.array([], pa.string()) for name in BASE_COLUMNS}
    pq.write_table(pa.table({**columns, "hours": pa.array([], pa.float64())}), path)
    return path


@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet"])
def test_an_empty_file_is_an_empty_submission(store: Store, tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"empty.{kind}"
    if kind == "csv":
        path.write_text(VOL_HEADER + "\n", encoding="utf-8")  # a header, no rows
    elif kind == "jsonl":
        path.write_text("", encoding="utf-8")  # no lines
    else:
        _empty_parquet(path)  # every column, no rows
    result = submissions.ingest_file(store, path, "VOLUNTEER", as_of=AS_OF)
    assert (result.accepted, result.rejected, result.duplicates) == (0, 0, 0)
    assert count(store, "records") == 0
    again = submissions.ingest_file(store, path, "VOLUNTEER", as_of=AS_OF)
    assert again.counts() == result.counts()


def test_a_parquet_file_without_the_columns_is_refused_even_empty(
    sqlite_store: Store, tmp_path: Path
) -> None:
    """Like a CSV file without a header: a file of no columns at all (another tool's) is not a department's."""
    bare = tmp_path / "bare.parquet"
    pq.write_table(pa.table({}), bare)
    with pytest.raises(GuihuaError, match=r"bare\.parquet: the file has no columns; a department file has"):
        submissions.ingest_file(sqlite_store, bare, "VOLUNTEER", as_of=AS_OF)
    partial = tmp_path / "partial.parquet"  # what `synth` used to write for a department without rows
    pq.write_table(pa.table({"source_id": pa.array([], pa.string())}), partial)
    with pytest.raises(GuihuaError, match=r"missing column\(s\) subject_id, metric, occurred_at"):
        submissions.ingest_file(sqlite_store, partial, "VOLUNTEER", as_of=AS_OF)
    assert count(sqlite_store, "submissions") == 0


# --------------------------------------------------------------------------- cities of any size


def _city(folder: Path, people: int) -> list[dict[str, str]]:
    return generate_city(load_default_catalog(), people, 1, folder, AS_OF)


@pytest.mark.parametrize("people", [1, 2, 7, 100])
def test_a_city_of_any_size_loads(tmp_path: Path, people: int) -> None:
    manifest = _city(tmp_path / "city", people)
    reference = {e["department"]: e["file"] for e in _city(tmp_path / "large", 3000)}
    assert sorted(e["department"] for e in manifest) == sorted(reference)  # the same departments
    empty = 0
    for entry in manifest:
        table = pq.read_table(tmp_path / "city" / entry["file"])
        assert table.column_names[:4] == list(BASE_COLUMNS)
        # with or without rows, a department's file has the same columns and types
        assert table.schema == pq.read_schema(tmp_path / "large" / reference[entry["department"]])
        empty += table.num_rows == 0
    assert empty if people < 1000 else True  # a small city has departments without records (COURT, PBOC)
    store = open_store(str(tmp_path / "g.db"))
    load = manifests.load_manifest(store, tmp_path / "city" / "manifest.json", as_of=AS_OF)
    assert load.complete and len(load.loaded) == len(manifest) and not load.not_attempted
    assert load.totals()["rejected"] == 0, records.list_rejects(store)
    assert scores.distribution(store, AS_OF).subjects == people


@pytest.mark.parametrize("people", [1, 2, 7, 100])
def test_the_demo_runs_for_any_size(tmp_path: Path, people: int) -> None:
    demo = build_demo(people, 1, str(tmp_path / "demo" / "demo.db"))
    assert (demo.people, demo.departments, demo.distribution.subjects) == (people, 14, people)
    noun = "resident" if people == 1 else "residents"
    above, below = demo.examples
    assert (above.subject_id is not None) == (round(people * SHARE_POSITIVE) > 0)  # one in eight
    if above.subject_id is None:
        assert f"No resident is above base in this city of {people:,} {noun}" in above.note
    assert below.subject_id is None
    assert (
        f"No resident is below base in this city of {people:,} {noun}: no defaulter to explain" in below.note
    )
    assert "a synthetic city has defaulters from 1,000 residents" in below.note


# --------------------------------------------------------------------------- manifests


def _files(folder: Path, broken: bool) -> Path:
    """Five files, the third a CSV whose last row leaves a quote open when ``broken``."""
    city = folder / "city"
    _city(city, 7)
    civil = [record("c1", A, "marital_status", "2025-01-02", status="single")]
    civil += [record("c2", "not-an-id", "marital_status", "2025-01-02", status="married")]  # quarantined
    jsonl(folder / "civil.jsonl", civil)
    rows = [f"v{i},{s},volunteer_service,2026-03-0{i},12,Red Cross" for i, s in enumerate((A, B, C), 1)]
    rows[-1] = rows[-1].replace(",Red Cross", ',"Red Cross' if broken else ",Red Cross")
    (folder / "volunteer.csv").write_text("\n".join([VOL_HEADER, *rows]) + "\n", encoding="utf-8")
    entries = [
        {"file": "civil.jsonl", "department": "CIVIL"},
        {"file": "city/HRSS.parquet", "department": "HRSS"},
        {"file": "volunteer.csv", "department": "VOLUNTEER"},
        {"file": "city/COURT.parquet", "department": "COURT"},  # no rows in a city of 7
        {"file": "city/WATER.parquet", "department": "WATER"},
    ]
    path = folder / "manifest.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


def _held(store: Store) -> tuple[int, int, tuple[int, int, int]]:
    d = scores.distribution(store, AS_OF)
    return count(store, "records"), count(store, "quarantine"), (d.subjects, d.above, d.at_base)


def test_a_failed_file_stops_the_load_and_the_same_manifest_completes_it(
    store: Store, tmp_path: Path
) -> None:
    manifest = _files(tmp_path, broken=True)
    load = manifests.load_manifest(store, manifest, as_of=AS_OF)
    assert [f.entry.file for f in load.loaded] == ["civil.jsonl", "city/HRSS.parquet"]
    assert load.failed is not None and load.failed.entry.file == "volunteer.csv"
    assert "line 4" in load.failed.error and "quote" in load.failed.error
    assert [e.file for e in load.not_attempted] == ["city/COURT.parquet", "city/WATER.parquet"]
    report = load.as_dict()
    assert report["complete"] is False and report["failed"]["department"] == "VOLUNTEER"
    assert [f["accepted"] for f in report["loaded"]] == [1, load.loaded[1].result.accepted]
    assert report["loaded"][0]["rejected"] == 1
    assert len(report["not_attempted"]) == 2
    assert count(store, "submissions") == 2  # the failed file left nothing, not even its submission

    _files(tmp_path, broken=False)  # fixed
    again = manifests.load_manifest(store, manifest, as_of=AS_OF)
    assert again.complete and len(again.loaded) == 5
    first_two = [f.result for f in again.loaded[:2]]
    assert all(r.accepted == 0 for r in first_two)  # sent again: nothing new
    assert [r.duplicates for r in first_two] == [1, load.loaded[1].result.accepted]
    assert again.loaded[2].result.accepted == 3

    clean = open_store(str(tmp_path / "clean.db"))
    assert manifests.load_manifest(clean, manifest, as_of=AS_OF).complete
    assert _held(store) == _held(clean)


def test_a_manifest_is_checked_whole_before_anything_is_loaded(sqlite_store: Store, tmp_path: Path) -> None:
    manifest = _files(tmp_path, broken=False)
    entries = json.loads(manifest.read_text())
    (tmp_path / "city" / "WATER.parquet").write_bytes(b"PAR1 not really")
    entries += [
        {"file": "missing.csv", "department": "VOLUNTEER"},
        {"file": "civil.jsonl", "department": "NOPE"},
        {"file": "civil.txt", "department": "CIVIL"},
        {"file": "civil.jsonl"},
        "civil.jsonl",
    ]
    shutil.copy(tmp_path / "civil.jsonl", tmp_path / "civil.txt")
    manifest.write_text(json.dumps(entries), encoding="utf-8")
    with pytest.raises(InvalidInput) as refused:
        manifests.load_manifest(sqlite_store, manifest, as_of=AS_OF)
    message = refused.value.message
    assert "\n" not in message and "nothing was loaded: 6 problem(s)" in message
    for part in (
        "entry 5 (city/WATER.parquet, WATER): cannot read WATER.parquet: not a Parquet file",
        "entry 6 (missing.csv, VOLUNTEER): cannot read",
        "no such file",
        "entry 7 (civil.jsonl, NOPE): unknown department 'NOPE'",
        "entry 8 (civil.txt, CIVIL): cannot read civil.txt: unknown extension '.txt'",
        "entry 9 has no 'department'",
        "entry 10 is not a",
        "the catalog's departments: BLOOD, CIVIL",
    ):
        assert part in message
    assert count(sqlite_store, "submissions") == 0


def test_a_department_out_of_its_agreement_is_a_problem_of_the_manifest(
    sqlite_store: Store, tmp_path: Path, mini_catalog_text: str
) -> None:
    line = "    metrics: [traffic_offence]\n"
    catalogs.load_catalog(
        sqlite_store, mini_catalog_text.replace(line, f"{line}    agreement: {{status: suspended}}\n")
    )
    jsonl(tmp_path / "civil.jsonl", [record("c1", A, "marital_status", "2025-01-02", status="single")])
    jsonl(tmp_path / "traffic.jsonl", [record("t1", A, "traffic_offence", "2026-01-05", offence="speeding")])
    manifest = tmp_path / "manifest.json"
    entries = [
        {"file": "civil.jsonl", "department": "CIVIL"},
        {"file": "traffic.jsonl", "department": "TRAFFIC"},
    ]
    manifest.write_text(json.dumps(entries), encoding="utf-8")
    with pytest.raises(InvalidInput) as refused:
        manifests.load_manifest(sqlite_store, manifest, as_of=AS_OF)
    assert (
        "1 problem(s): entry 2 (traffic.jsonl, TRAFFIC): TRAFFIC's data-sharing agreement is not in force "
        "on 2026-06-30 (suspended)"
    ) in refused.value.message
    assert count(sqlite_store, "submissions") == 0


def test_an_unreadable_manifest_is_one_line(sqlite_store: Store, tmp_path: Path) -> None:
    bad = tmp_path / "manifest.json"
    bad.write_text('{"file": "a.csv"}', encoding="utf-8")
    with pytest.raises(InvalidInput, match="expected a list of"):
        manifests.load_manifest(sqlite_store, bad)
    with pytest.raises(InvalidInput, match=r"cannot read manifest .*nothing\.json"):
        manifests.load_manifest(sqlite_store, tmp_path / "nothing.json")
