"""A SQLite store busy with another write (a bulk load holds its one write lock): 503, never a 500.

Every read writes its audit entry; when the write lock cannot be had in time the
read is refused (the data must not be read unaudited) with a problem saying to
try again and a ``Retry-After``, and nothing is half done.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from guihua.core.errors import StoreBusy
from guihua.core.policy import Actor
from guihua.http.service import create_app
from guihua.store import database
from guihua.store.database import open_store
from guihua.usecases import accounts, catalogs, scores
from tests.helpers import subject

A = subject(1)


def test_a_read_while_another_write_holds_the_store_is_a_503(
    tmp_path: Path, mini_catalog_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 200)  # how long a connection waits for the lock
    path = tmp_path / "s.db"
    store = open_store(str(path))
    catalogs.load_catalog(store, mini_catalog_text)
    token = accounts.create(store, Actor("admin", "admin"), "resident", "a", subject=A)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process's long write, as a bulk load is
    try:
        with pytest.raises(StoreBusy, match="try again"):
            scores.subject_score(store, A)
        with TestClient(create_app(store)) as c:
            r = c.get(f"/api/v1/subjects/{A}/score", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
        assert r.json()["code"] == "store_busy"
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    with TestClient(create_app(store)) as c:  # the lock gone, the same read works
        r = c.get(f"/api/v1/subjects/{A}/score", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    store.dispose()
