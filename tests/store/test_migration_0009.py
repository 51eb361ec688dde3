"""Upgrading to 0009 (submission identity, quarantine by submission) keeps every row (both backends).

A store at 0008 with two submissions and their quarantined rows is upgraded by opening it: the
submissions keep their counts and know nothing of what was sent (NULL), every quarantined row
belongs to its submission, and a resend after the upgrade links the old row instead of adding one.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import DateTime, Engine, bindparam, create_engine, event, select, text

from guihua.store import schema
from guihua.store.database import _alembic_config, _sqlite_pragmas, open_store, resolve_url
from guihua.store.record_queries import quarantine_digest
from guihua.usecases import catalogs, records, submissions
from tests.conftest import DATA, PG_ADMIN_URL, _pg_scratch_url
from tests.helpers import jsonl, record

NEW = ("sha256", "size_bytes", "file_name", "sent_by", "duration_ms")


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "old.db")
        return
    scratch = _pg_scratch_url()  # a database of its own: the session's one is at the newest revision
    yield scratch
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch.rsplit("/", 1)[1]}" WITH (FORCE)')


def _engine(url: str) -> Engine:
    engine = create_engine(resolve_url(url))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _at_0008_with_rejects(url: str, raw: str) -> None:
    """Submissions 1 and 2 of TRAFFIC; submission 1 refused ``raw`` on line 1, submission 2 another row."""
    engine = _engine(url)
    when = bindparam("when", type_=DateTime(timezone=True))
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0008_quarantine_digest")
        for sid in (1, 2):
            conn.execute(
                text(
                    "INSERT INTO submissions (id, department, origin, received_at, catalog_version, accepted, "
                    "duplicates, corrected, rejected) VALUES (:id, 'TRAFFIC', :origin, :when, 1, 0, 0, 0, 1)"
                ).bindparams(when),
                {
                    "id": sid,
                    "origin": f"/files/t{sid}.jsonl",
                    "when": dt.datetime(2026, 1, sid, 9, tzinfo=dt.UTC),
                },
            )
        for qid, sid, line, the_raw in ((1, 1, 1, raw), (2, 2, 1, "{not json")):
            reason = "invalid_subject_id" if qid == 1 else "unreadable"
            conn.execute(
                text(
                    "INSERT INTO quarantine (id, submission_id, department, line, reason, detail, source_id, raw, "
                    "received_at, digest) VALUES (:id, :sub, 'TRAFFIC', :line, :reason, 'd', :source, :raw, "
                    ":when, :digest)"
                ).bindparams(when),
                {
                    "id": qid,
                    "sub": sid,
                    "line": line,
                    "reason": reason,
                    "source": "t1" if qid == 1 else None,
                    "raw": the_raw,
                    "when": dt.datetime(2026, 1, sid, 9, tzinfo=dt.UTC),
                    "digest": quarantine_digest(line, reason, the_raw),
                },
            )
        if engine.dialect.name == "postgresql":  # rows went in with their ids: move the sequences past them
            for table in ("submissions", "quarantine"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 1000)"))
    engine.dispose()


def test_upgrading_to_0009_gives_every_quarantined_row_its_submission(url: str, tmp_path: Path) -> None:
    sent = jsonl(tmp_path / "t1.jsonl", [record("t1", "123", "traffic_offence", "2026-01-01")])
    raw = sent.read_text(encoding="utf-8").rstrip("\n")
    _at_0008_with_rejects(url, raw)
    store = open_store(url)  # upgrades to the newest revision
    with store.begin() as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # expression indexes are not reflected: the rest must match
        assert compare_metadata(MigrationContext.configure(conn), schema.metadata) == []
        old = conn.execute(select(schema.submissions).order_by(schema.submissions.c.id)).all()
    assert [(r.id, r.origin, r.rejected) for r in old] == [
        (1, "/files/t1.jsonl", 1),
        (2, "/files/t2.jsonl", 1),
    ]
    assert all(getattr(r, c) is None for r in old for c in NEW)
    assert [r["source_id"] for r in records.list_rejects(store, submission=1)] == ["t1"]
    assert [r["reason"] for r in records.list_rejects(store, submission=2)] == ["unreadable"]

    catalogs.load_catalog(store, (DATA / "mini.yaml").read_text())
    again = submissions.ingest_file(store, sent, "TRAFFIC")
    assert again.rejected == 1
    (row,) = records.list_rejects(store, submission=again.submission_id)
    assert (row["submission_id"], row["submissions"]) == (1, [1, again.submission_id])
    assert len(records.list_rejects(store)) == 2  # the old row, not a second one
    store.dispose()


def test_downgrading_to_0008_and_upgrading_again_keeps_the_quarantine(url: str, tmp_path: Path) -> None:
    _at_0008_with_rejects(url, '{"source_id": "t1"}')
    open_store(url).dispose()
    engine = _engine(url)
    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0008_quarantine_digest")
        assert conn.execute(text("SELECT count(*) FROM quarantine")).scalar_one() == 2
    engine.dispose()
    store = open_store(url)
    assert sorted(int(r["submission_id"]) for r in records.list_rejects(store)) == [1, 2]  # type: ignore[call-overload]
    assert [r["submissions"] for r in records.list_rejects(store, submission=2)] == [[2]]
    store.dispose()
