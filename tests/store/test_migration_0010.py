"""Upgrading to 0010 (feeds) keeps every submission and gives it what feeds read (both backends).

A store at 0009 with a department's submission (with a refused row), a reviewer's correction and
another department's submission is upgraded by opening it: each submission gets the day it was
received (in Asia/Shanghai, the default zone), the reviewer's correction is marked as due process,
the rows refused are counted by reason, the schema equals the models, and the feed status reads
them as they were. Downgrading to 0009 and upgrading again keeps them.
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
from guihua.usecases import catalogs, feeds
from tests.conftest import DATA, PG_ADMIN_URL, _pg_scratch_url


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


# id, department, origin, received_at (UTC), accepted, rejected
OLD = [
    (
        1,
        "TRAFFIC",
        "/files/t1.jsonl",
        dt.datetime(2026, 6, 1, 17, 30, tzinfo=dt.UTC),
        5,
        2,
    ),  # 06-02 in Suzhou
    (2, "TRAFFIC", "objection 1", dt.datetime(2026, 6, 3, 9, 0, tzinfo=dt.UTC), 0, 0),  # a reviewer's
    (3, "CIVIL", "/files/c1.jsonl", dt.datetime(2026, 6, 10, 9, 0, tzinfo=dt.UTC), 3, 0),
]


def _at_0009(url: str) -> None:
    engine = _engine(url)
    when = bindparam("when", type_=DateTime(timezone=True))
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0009_submission_identity")
        for sid, dept, origin, at, accepted, rejected in OLD:
            conn.execute(
                text(
                    "INSERT INTO submissions (id, department, origin, received_at, catalog_version, accepted, "
                    "duplicates, corrected, rejected, superseded) "
                    "VALUES (:id, :dept, :origin, :when, 1, :acc, 0, 0, :rej, 0)"
                ).bindparams(when),
                {"id": sid, "dept": dept, "origin": origin, "when": at, "acc": accepted, "rej": rejected},
            )
        for qid, reason in ((1, "invalid_subject_id"), (2, "unreadable")):
            conn.execute(
                text(
                    "INSERT INTO quarantine (id, submission_id, department, line, reason, detail, source_id, raw, "
                    "received_at, digest) VALUES (:id, 1, 'TRAFFIC', :id, :reason, 'd', NULL, 'x', :when, :d)"
                ).bindparams(when),
                {"id": qid, "reason": reason, "when": OLD[0][3], "d": f"digest{qid}"},
            )
            conn.execute(text("INSERT INTO quarantine_refusals VALUES (:id, 1)"), {"id": qid})
        if engine.dialect.name == "postgresql":
            for table in ("submissions", "quarantine"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 1000)"))
    engine.dispose()


def _check_upgraded(url: str) -> None:
    store = open_store(url)
    with store.begin() as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # expression indexes are not reflected: the rest must match
        assert compare_metadata(MigrationContext.configure(conn), schema.metadata) == []
        s = schema.submissions
        rows = conn.execute(select(s.c.id, s.c.received_on, s.c.due_process).order_by(s.c.id)).all()
        rejects = conn.execute(select(schema.submission_rejects).order_by("reason")).all()
    assert [(r[0], str(r[1])[:10], bool(r[2])) for r in rows] == [
        (1, "2026-06-02", False),
        (2, "2026-06-03", True),
        (3, "2026-06-10", False),
    ]
    assert [(r.submission_id, r.reason, r.rows, r.department, str(r.received_on)[:10]) for r in rejects] == [
        (1, "invalid_subject_id", 1, "TRAFFIC", "2026-06-02"),
        (1, "unreadable", 1, "TRAFFIC", "2026-06-02"),
    ]
    catalogs.load_catalog(store, (DATA / "mini.yaml").read_text())
    _, rows_ = feeds.feed_status(store, dt.date(2026, 6, 30))
    by = {f.department: f.as_dict() for f in rows_}
    traffic = by["TRAFFIC"]
    assert (
        traffic["submissions"],
        traffic["last_submission_on"],
        traffic["accepted"],
        traffic["rejected"],
    ) == (
        1,  # the reviewer's correction is not the department's feed
        "2026-06-02",
        5,
        2,
    )
    assert traffic["top_reasons"] == [
        {"reason": "invalid_subject_id", "rows": 1},
        {"reason": "unreadable", "rows": 1},
    ]
    assert (by["CIVIL"]["submissions"], by["BANK"]["silent"]) == (1, True)
    store.dispose()


def test_upgrading_to_0010_gives_every_submission_what_feeds_read(url: str) -> None:
    _at_0009(url)
    _check_upgraded(url)


def test_downgrading_to_0009_and_upgrading_again_keeps_the_submissions(url: str) -> None:
    _at_0009(url)
    open_store(url).dispose()
    engine = _engine(url)
    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0009_submission_identity")
        assert conn.execute(text("SELECT count(*) FROM submissions")).scalar_one() == 3
    engine.dispose()
    _check_upgraded(url)
