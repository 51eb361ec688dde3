"""A store is only made when asked: a read pointed at nothing is refused, on both kinds of store."""

from __future__ import annotations

from pathlib import Path

import pytest

from guihua.core.errors import NoStore
from guihua.store.database import open_store
from tests.conftest import PG_ADMIN_URL, _pg_scratch_url


def test_a_missing_sqlite_file_is_refused_and_not_made(tmp_path: Path) -> None:
    path = tmp_path / "nothing.db"
    with pytest.raises(NoStore, match="guihua init"):
        open_store(str(path), create=False)
    assert not path.exists()


def test_a_postgres_database_without_guihua_tables_is_refused_then_made() -> None:
    import psycopg

    url = _pg_scratch_url()
    try:
        with pytest.raises(NoStore, match="holds no Guihua store"):
            open_store(url, create=False)
        open_store(url).dispose()
        open_store(url, create=False).dispose()
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def test_a_store_made_once_opens_without_create(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    open_store(str(path)).dispose()
    open_store(str(path), create=False).dispose()
