"""The records' columnar copy follows the store: added, corrected, retracted, purged, restored.

Every case scores the population on DuckDB over the copy and compares it with the store's own
SQL, and checks that only what changed was copied again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import stat
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from guihua.store import export_queries, record_mirror
from guihua.store.database import Store, open_store
from guihua.usecases import catalogs, records, scores, submissions
from tests.conftest import DATA
from tests.helpers import jsonl, offence, subject, vol

AT = dt.date(2024, 12, 31)
A, B, C = subject(1), subject(2), subject(3)


@pytest.fixture(autouse=True, params=["driver", "child"])
def _reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every case twice: parts copied through the driver, and by the ConnectorX child process."""
    if request.param == "child":
        monkeypatch.setattr(export_queries, "SCAN_IN_CHILD_FROM", 0)


def state(store: Store) -> dict:
    return json.loads(Path(store.engine.url.database + ".columnar/state.json").read_text())


def same_on_every_engine(store: Store) -> None:
    duck = scores.population_scores(store, AT, "duckdb", perks=True)[2]
    sql = scores.population_scores(store, AT, "sql", perks=True)[2]
    assert duck.equals(sql), (duck.to_pylist(), sql.to_pylist())


def send(store: Store, tmp_path: Path, name: str, department: str, rows: list[dict]) -> None:
    submissions.ingest_file(store, jsonl(tmp_path / name, rows), department, as_of=dt.date(2024, 6, 1))


@pytest.fixture
def city(tmp_path: Path, sqlite_store: Store) -> Store:
    catalogs.load_catalog(sqlite_store, (DATA / "mini.yaml").read_text())
    send(sqlite_store, tmp_path, "v.jsonl", "CIVIL", [vol(1, A, "2024-01-05"), vol(2, B, "2024-02-05")])
    send(
        sqlite_store,
        tmp_path,
        "t.jsonl",
        "TRAFFIC",
        [offence(1, A, "2024-03-01"), offence(2, C, "2024-03-02")],
    )
    return sqlite_store


def test_ingest_keeps_the_copy_current_and_it_scores_as_the_store(city: Store) -> None:
    s = state(city)
    assert s["last_id"] == 4 and sum(p["rows"] for p in s["parts"]) == 4
    assert len(s["parts"]) == 2  # one part per submission: nothing copied twice
    same_on_every_engine(city)
    assert state(city)["generation"] == s["generation"]  # already current: the export copied nothing


def test_a_correction_copies_again_only_the_part_it_touches(city: Store, tmp_path: Path) -> None:
    before = {p["file"] for p in state(city)["parts"]}
    send(city, tmp_path, "t2.jsonl", "TRAFFIC", [offence(2, C, "2024-03-02", kind="speeding")])  # corrects t2
    after = state(city)
    files = {p["file"] for p in after["parts"]}
    assert len(before & files) == 1  # the volunteering part stayed as it was
    assert after["seq"] > 0
    rows = pq.read_table(Path(city.engine.url.database + ".columnar/records")).to_pylist()
    assert sorted(
        (r["source_id"], r["version"], r["is_current"]) for r in rows if r["source_id"] == "t2"
    ) == [
        ("t2", 1, False),
        ("t2", 2, True),
    ]
    same_on_every_engine(city)


def test_a_retraction_is_seen_by_the_next_export(city: Store) -> None:
    records.retract(city, "TRAFFIC", "t1")  # not an ingest: the export brings the copy up to date
    same_on_every_engine(city)
    retracted = [
        r
        for r in pq.read_table(Path(city.engine.url.database + ".columnar/records")).to_pylist()
        if r["source_id"] == "t1"
    ]
    assert retracted[0]["retracted_at"] is not None


def test_a_store_made_again_at_the_same_place_is_copied_afresh(city: Store, tmp_path: Path) -> None:
    path = Path(city.engine.url.database)
    city.dispose()
    path.unlink()
    again = open_store(str(path))
    try:
        catalogs.load_catalog(again, (DATA / "mini.yaml").read_text())
        for i in range(6):  # more ids than the old copy had, so only the identity tells them apart
            send(again, tmp_path, f"x{i}.jsonl", "CIVIL", [vol(10 + i, B, "2024-04-01")])
        same_on_every_engine(again)
        assert sum(p["rows"] for p in state(again)["parts"]) == 6
    finally:
        again.dispose()


def test_a_store_restored_from_a_backup_is_copied_afresh(city: Store, tmp_path: Path) -> None:
    path = Path(city.engine.url.database)
    backup = tmp_path / "backup.db"
    shutil.copy(path, backup)  # same identity, two records fewer than what follows
    send(city, tmp_path, "v3.jsonl", "CIVIL", [vol(3, C, "2024-05-01"), vol(4, C, "2024-05-02")])
    city.dispose()
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    shutil.copy(backup, path)
    restored = open_store(str(path))
    try:
        send(restored, tmp_path, "v5.jsonl", "CIVIL", [vol(5, A, "2024-05-03"), vol(6, A, "2024-05-04")])
        same_on_every_engine(restored)  # ids 5 and 6 are other records than the copy had
    finally:
        restored.dispose()


def test_small_parts_are_merged(city: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(record_mirror, "MAX_PARTS", 3)
    for i in range(4):
        send(city, tmp_path, f"m{i}.jsonl", "CIVIL", [vol(20 + i, A, "2024-04-01")])
    s = state(city)
    assert len(s["parts"]) <= 3 and sum(p["rows"] for p in s["parts"]) == 8
    assert sorted(os.listdir(Path(city.engine.url.database + ".columnar/records"))) == sorted(
        p["file"] for p in s["parts"]
    )
    same_on_every_engine(city)


def test_the_copy_is_private(city: Store) -> None:
    folder = Path(city.engine.url.database + ".columnar")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in [folder / "state.json", *(folder / "records").iterdir()]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_read_only_store_never_writes_the_copy(city: Store, tmp_path: Path) -> None:
    records.retract(city, "TRAFFIC", "t1")  # the copy is now behind the store
    before = state(city)
    reader = open_store(city.engine.url.database, read_only=True)
    try:
        duck = scores.population_scores(reader, AT, "duckdb")[2]
        assert duck.equals(scores.population_scores(reader, AT, "sql")[2])
    finally:
        reader.dispose()
    assert state(city) == before  # copied for this run instead


def test_without_a_copy_the_engines_still_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUIHUA_COLUMNAR", "off")
    store = open_store(str(tmp_path / "off.db"))
    try:
        catalogs.load_catalog(store, (DATA / "mini.yaml").read_text())
        send(store, tmp_path, "t.jsonl", "TRAFFIC", [offence(1, A, "2024-03-01")])
        assert not (tmp_path / "off.db.columnar").exists()
        same_on_every_engine(store)
    finally:
        store.dispose()


def test_a_copy_that_cannot_be_written_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from guihua.core.errors import CannotWrite

    monkeypatch.setenv("GUIHUA_COLUMNAR_DIR", "/proc/no-such-folder")
    store = open_store(str(tmp_path / "g.db"))
    try:
        catalogs.load_catalog(store, (DATA / "mini.yaml").read_text())
        send(store, tmp_path, "t.jsonl", "TRAFFIC", [offence(1, A, "2024-03-01")])  # stored all the same
        assert scores.population_scores(store, AT, "sql")[2].num_rows == 1
        with pytest.raises(CannotWrite, match="GUIHUA_COLUMNAR_DIR to a folder this user may write"):
            scores.population_scores(store, AT, "duckdb")
    finally:
        store.dispose()
