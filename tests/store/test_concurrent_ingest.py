"""Two submissions racing for the same source ids: one wins, the other is refused whole, in one line.

On PostgreSQL the second transaction waits on the unique current-key index until the first
commits, then fails, and nothing of it is kept: the department is told to send it again. SQLite
serialises the writers (the second waits for the lock before it reads), so the second finds the
first's records and stores them as duplicates. Either way every record is stored exactly once.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from guihua.core.errors import Conflict
from guihua.intake.readers import read_chunks
from guihua.store import schema
from guihua.store.database import Store, open_store
from guihua.usecases import catalogs, submissions
from tests.conftest import _empty_pg
from tests.helpers import jsonl, record, subject

A = subject(1)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_racing_submission_is_refused_whole(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, mini_catalog_text: str
) -> None:
    if backend == "postgres":
        url = request.getfixturevalue("pg_url")
        store: Store = _empty_pg(url)
    else:
        url = str(tmp_path / "race.db")
        store = open_store(url)
    catalogs.load_catalog(store, mini_catalog_text)
    rows = [
        record(f"r{i}", A, "volunteer_service", "2026-03-01", hours=2, organisation="x") for i in range(3)
    ]
    first, second = jsonl(tmp_path / "a.jsonl", rows), jsonl(tmp_path / "b.jsonl", rows[::-1])
    other = open_store(url)
    holding = threading.Event()
    release = threading.Event()

    def first_submission() -> None:
        with other.begin() as conn:  # stores, then holds its transaction open until told
            submissions.ingest_in(conn, read_chunks(first), submissions.Submission("CIVIL", "a"))
            holding.set()
            release.wait(10)

    t = threading.Thread(target=first_submission)
    t.start()
    assert holding.wait(10)
    threading.Timer(0.5, release.set).start()  # the first commits while the second waits on the index
    started = time.monotonic()
    if backend == "postgres":
        with pytest.raises(Conflict, match="send it again"):
            submissions.ingest_file(store, second, "CIVIL")
    else:  # SQLite serialises the two writers: the second sees the first's records
        waited = submissions.ingest_file(store, second, "CIVIL")
        assert (waited.accepted, waited.duplicates) == (0, 3)
    t.join()
    assert time.monotonic() - started >= 0.4
    with store.begin() as conn:
        kept = conn.execute(schema.records.select()).all()
        subs = conn.execute(schema.submissions.select()).all()
    assert sorted(r.source_id for r in kept) == ["r0", "r1", "r2"]  # the winner's, once each
    assert len(subs) == (1 if backend == "postgres" else 2)  # a refused submission leaves no trace
    again = submissions.ingest_file(store, second, "CIVIL")
    assert (again.accepted, again.duplicates) == (0, 3)
    other.dispose()
    store.dispose()
