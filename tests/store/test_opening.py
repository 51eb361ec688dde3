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


def test_a_new_sqlite_store_and_its_journals_are_private(tmp_path: Path) -> None:
    import stat

    from guihua.usecases import audit

    path = tmp_path / "private.db"
    store = open_store(str(path))
    audit.record(store, audit.cli_actor(), "subject.score")
    for name in (path, path.with_name("private.db-wal"), path.with_name("private.db-shm")):
        if name.exists():
            assert stat.S_IMODE(name.stat().st_mode) == 0o600, name
    assert path.with_name("private.db-wal").exists()  # the WAL was there to check
    store.dispose()


def test_a_store_others_can_read_is_warned_about(tmp_path: Path) -> None:
    from guihua.store.database import exposure
    from tests.helpers import run

    path = tmp_path / "open.db"
    assert run("init", db=path).returncode == 0
    assert exposure(open_store(str(path))) is None
    path.chmod(0o644)
    assert "chmod 600" in (exposure(open_store(str(path))) or "")
    proc = run("init", db=path)
    assert proc.returncode == 0 and "warning: the store" in proc.stderr and "chmod 600" in proc.stderr
