"""Shared fixtures: a store on SQLite and on the machine's PostgreSQL, a fixed 'today', a browser.

PostgreSQL tests use one scratch database per test session, emptied between
tests. Under CI=true they must run: an unreachable server fails them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from guihua.store.database import Store, open_store
from guihua.store.schema import metadata
from tests.browser import browser, playwright  # noqa: F401  (fixtures: one Chromium per session)

PG_ADMIN_URL = os.environ.get("GUIHUA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
TODAY = "2026-06-30"
DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUIHUA_TODAY", TODAY)
    monkeypatch.delenv("GUIHUA_DB", raising=False)


def _pg_scratch_url() -> str:
    import psycopg

    name = f"guihua_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL at {PG_ADMIN_URL} does not answer: {' '.join(str(exc).split())[:200]}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: PostgreSQL tests must run)")
        pytest.skip(message)
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    url = _pg_scratch_url()
    yield url
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _empty_pg(url: str) -> Store:
    store = open_store(url)
    with store.begin() as conn:
        tables = ", ".join(t.name for t in metadata.sorted_tables)
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    return store


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store of each kind."""
    if request.param == "sqlite":
        s = open_store(str(tmp_path / "guihua.db"))
    else:
        s = _empty_pg(request.getfixturevalue("pg_url"))
    yield s
    s.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(str(tmp_path / "guihua.db"))
    yield s
    s.dispose()


@pytest.fixture
def mini_catalog_text() -> str:
    return (DATA / "mini.yaml").read_text()
