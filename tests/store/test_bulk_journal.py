"""A large load into a SQLite store runs with a rollback journal when it has the store to itself.

``Store.begin(bulk=True)``: new pages are written once instead of twice (WAL
writes them to the log, then to the file). The store must be back in WAL mode
afterwards however the load ends, the switch must never wait or fail when
another connection has the store open, and a connection opened meanwhile must
work.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from guihua.core.errors import GuihuaError
from guihua.intake.chunks import RawChunk
from guihua.intake.readers import read_chunks
from guihua.store.database import Store, open_store
from guihua.usecases.scores import subject_score
from guihua.usecases.submissions import IngestResult, ingest_chunks
from tests.helpers import jsonl, record, subject


def _file(tmp_path: Path, n: int = 60) -> Path:
    rows = [
        record(
            f"T-{i:04d}",
            subject(i),
            "traffic_offence",
            dt.date(2026, 3, 1),
            offence="wrong_way",
            fine=200.0,
            paid=True,
        )
        for i in range(n)
    ]
    return jsonl(tmp_path / "traffic.jsonl", rows)


def _ask(db: Path, sql: str) -> object:
    """One value from a plain connection of its own (it never waits for a lock)."""
    con = sqlite3.connect(db, timeout=0)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def _mode(db: Path) -> str:
    """The journal mode the file is in, as a connection that only asks sees it."""
    return str(_ask(db, "PRAGMA journal_mode"))


def _stored(db: Path) -> int:
    return int(str(_ask(db, "SELECT count(*) FROM records")))


def _load_watching_mode(store: Store, db: Path, path: Path) -> tuple[IngestResult, list[str]]:
    """A large load in chunks of 20 rows, and the journal mode the file was in after each chunk."""
    seen: list[str] = []
    result = ingest_chunks(
        store,
        read_chunks(path, 20),
        "TRAFFIC",
        str(path),
        size_hint=60,
        on_progress=lambda _n: seen.append(_mode(db)),
    )
    return result, seen


def test_a_large_load_runs_with_a_rollback_journal_and_leaves_the_store_in_wal(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store = open_store(str(db))
    result, seen = _load_watching_mode(store, db, _file(tmp_path))
    assert result.accepted == 60
    assert seen and set(seen) == {"delete"}
    assert _mode(db) == "wal" and _stored(db) == 60
    assert not Path(f"{db}-journal").exists()
    # received today (2026-06-30): the penalties count from 15 notice days later
    assert subject_score(store, subject(3), dt.date(2026, 7, 14)).score == 100
    assert subject_score(store, subject(3), dt.date(2026, 7, 15)).score == 98
    store.dispose()


def test_with_another_connection_open_the_load_stays_in_wal(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store = open_store(str(db))
    reader = open_store(str(db))
    with reader.begin() as conn:  # a service reading the store keeps a connection open
        conn.exec_driver_sql("SELECT count(*) FROM records").all()
        result, seen = _load_watching_mode(store, db, _file(tmp_path))
    assert result.accepted == 60 and set(seen) == {"wal"}
    assert _mode(db) == "wal" and _stored(db) == 60
    reader.dispose()
    store.dispose()


def test_a_store_opened_during_a_bulk_load_reads_what_was_there_and_waits_for_nothing(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store = open_store(str(db))
    first = _file(tmp_path, 5)
    ingest_chunks(store, read_chunks(first), "TRAFFIC", str(first))
    path = jsonl(
        tmp_path / "more.jsonl",
        [
            record(
                f"M-{i:04d}",
                subject(100 + i),
                "traffic_offence",
                dt.date(2026, 3, 1),
                offence="wrong_way",
                fine=200.0,
                paid=True,
            )
            for i in range(60)
        ],
    )
    counts: list[int] = []

    def look(_n: int) -> None:
        other = open_store(str(db))  # connects (and asks for WAL) while the load holds the store
        with other.begin() as conn:
            counts.append(int(conn.exec_driver_sql("SELECT count(*) FROM records").scalar_one()))
        other.dispose()

    ingest_chunks(store, read_chunks(path, 20), "TRAFFIC", str(path), size_hint=600, on_progress=look)
    assert counts and set(counts) == {5}  # the load is not visible before it commits
    assert _mode(db) == "wal" and _stored(db) == 65
    store.dispose()


def test_a_load_that_fails_keeps_nothing_and_leaves_the_store_in_wal(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store = open_store(str(db))
    path = _file(tmp_path)

    def broken() -> Iterator[RawChunk]:
        chunks = read_chunks(path, 20)
        yield next(chunks)
        raise GuihuaError("cannot read traffic.jsonl: the disk went away")

    with pytest.raises(GuihuaError, match="went away"):
        ingest_chunks(store, broken(), "TRAFFIC", str(path), size_hint=60)
    assert _mode(db) == "wal" and _stored(db) == 0
    assert not Path(f"{db}-journal").exists()
    assert ingest_chunks(store, read_chunks(path), "TRAFFIC", str(path), size_hint=60).accepted == 60
    store.dispose()


def test_every_connection_keeps_the_log_short(tmp_path: Path) -> None:
    """A checkpoint runs inside the commit that passes the limit: 8 MiB of log, not SQLite's 32 MiB."""
    store = open_store(str(tmp_path / "s.db"))
    with store.begin() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 256
        assert conn.exec_driver_sql("PRAGMA page_size").scalar_one() == 32768
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
    store.dispose()
