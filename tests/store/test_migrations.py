"""Upgrading a store that already holds data keeps it: notices slimmed down in 0006 (both backends).

A store at revision 0005 with penalty, listing, repair and decision notices
and their deliveries is upgraded by opening it; every notice keeps its id and
reads as before, the deliveries stay, and creating notices again adds none.
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
from sqlalchemy import Date, DateTime, Engine, bindparam, create_engine, select, text

from guihua.schemes import load_default_catalog
from guihua.store import notice_queries, schema
from guihua.store.database import _alembic_config, _sqlite_pragmas, open_store, resolve_url
from tests.conftest import PG_ADMIN_URL, _pg_scratch_url
from tests.helpers import subject

A = subject(1)
CATALOG = load_default_catalog()
DAY = dt.date(2026, 6, 30)
OLD_FACTS = [  # id, kind, department, source_id, version, metric, rule_id, points, case_id, objection_id
    (1, "penalty", "TRAFFIC", "t1", 1, "traffic_offence", "TRF-MAJOR", -2, None, None),
    (2, "penalty", "TRAFFIC", "t1", 2, "traffic_offence", "TRF-DUI", -10, None, None),
    (3, "listing", "COURT", "c1", 1, "court_judgment_unfulfilled", "CRT-LIST", -50, "K-1", None),
    (4, "repair", "COURT", "c2", 1, "court_judgment_unfulfilled", None, None, "K-1", None),
    (5, "decision", "TRAFFIC", "t1", 2, None, None, None, "upheld", 1),
]


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


def _at_0005(url: str) -> Engine:
    engine = create_engine(resolve_url(url))
    if engine.dialect.name == "sqlite":
        from sqlalchemy import event

        event.listen(engine, "connect", _sqlite_pragmas)
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0005_certificates")
    return engine


def _fill(engine: Engine) -> None:
    day, when = dt.date(2026, 1, 5), dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO submissions (id, department, origin, received_at, catalog_version, accepted, "
                "duplicates, corrected, rejected) VALUES (1, 'TRAFFIC', 'x', :when, 1, 0, 0, 0, 0)"
            ).bindparams(bindparam("when", type_=DateTime(timezone=True))),
            {"when": when},
        )
        keys = [("TRAFFIC", "t1", 1, False), ("TRAFFIC", "t1", 2, True), ("COURT", "c1", 1, True)]
        keys.append(("COURT", "c2", 1, True))
        for i, (dept, sid, version, current) in enumerate(keys, start=1):
            conn.execute(
                text(
                    "INSERT INTO records (id, department, source_id, version, is_current, subject_id, metric, "
                    "occurred_at, fields, submission_id) VALUES (:id, :d, :s, :v, :c, :subj, :m, :day, '{}', 1)"
                ),
                {
                    "id": i * 10,
                    "d": dept,
                    "s": sid,
                    "v": version,
                    "c": current,
                    "subj": A,
                    "day": day,
                    "m": "traffic_offence" if dept == "TRAFFIC" else "court_judgment_unfulfilled",
                },
            )
        conn.execute(
            text(
                "INSERT INTO objections (id, subject_id, department, source_id, record_version, reason, "
                "filed_on, suspends_on, filed_at, filed_by, decision, decided_on) VALUES "
                "(1, :a, 'TRAFFIC', 't1', 2, 'no', :day, :day, :when, 'a', 'upheld', :day)"
            ),
            {"a": A, "day": day, "when": when},
        )
        for nid, kind, dept, sid, version, metric, rule, points, case, objection in OLD_FACTS:
            conn.execute(
                text(
                    "INSERT INTO notices (id, dedupe_key, subject_id, kind, department, source_id, "
                    "record_version, metric, rule_id, points, effective_on, case_id, objection_id, created_at) "
                    "VALUES (:id, :key, :a, :kind, :d, :s, :v, :m, :r, :p, :day, :case, :o, :when)"
                ),
                {
                    "id": nid,
                    "key": f"{kind}:{nid}",
                    "a": A,
                    "kind": kind,
                    "d": dept,
                    "s": sid,
                    "v": version,
                    "m": metric,
                    "r": rule,
                    "p": points,
                    "day": day,
                    "case": case,
                    "o": objection,
                    "when": when,
                },
            )
            conn.execute(
                text(
                    "INSERT INTO deliveries (id, notice_id, channel, status, attempts) "
                    "VALUES (:id, :n, 'email', 'delivered', 1)"
                ),
                {"id": 100 + nid, "n": nid},
            )
        if engine.dialect.name == "postgresql":  # rows went in with their ids: move the sequences past them
            for table in ("records", "objections", "notices", "deliveries", "submissions"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 1000)"))
    engine.dispose()


def test_upgrading_keeps_every_notice_and_delivery(url: str) -> None:
    _fill(_at_0005(url))
    store = open_store(url)  # upgrades to the newest revision
    with store.begin() as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # expression indexes are not reflected: the rest must match
        assert compare_metadata(MigrationContext.configure(conn), schema.metadata) == []
    columns, source = schema.notice_columns()
    with store.begin() as conn:
        got = [
            (
                r.id,
                r.kind,
                r.department,
                r.source_id,
                r.record_version,
                r.metric,
                r.rule_id,
                r.points,
                r.case_id,
                r.objection_id,
            )
            for r in conn.execute(select(*columns).select_from(source).order_by(schema.notices.c.id))
        ]
        deliveries = conn.execute(text("SELECT id, notice_id FROM deliveries ORDER BY id")).all()
        record_ids = [r[0] for r in conn.execute(text("SELECT record_id FROM notices ORDER BY id"))]
        keys = [r[0] for r in conn.execute(text("SELECT dedupe_key FROM notices ORDER BY id"))]
    assert got == OLD_FACTS
    assert record_ids == [10, 20, 30, 40, None]
    assert keys == [None, None, None, "repair:4", "decision:5"]
    assert [tuple(d) for d in deliveries] == [(100 + i, i) for i in range(1, 6)]
    with store.begin() as conn:
        conn.execute(text("UPDATE records SET points = -2, rule_id = 'TRF-MAJOR' WHERE id = 20"))
        notice_queries.create_for_records(conn, CATALOG, DAY, dt.datetime.now(dt.UTC))  # t1 v2: another rule
        n = conn.execute(text("SELECT count(*) FROM notices")).scalar_one()
        conn.execute(text("UPDATE records SET points = -10, rule_id = 'TRF-DUI' WHERE id = 20"))
        notice_queries.create_for_records(conn, CATALOG, DAY, dt.datetime.now(dt.UTC))  # back: it exists
        assert conn.execute(text("SELECT count(*) FROM notices")).scalar_one() == n == 6
    store.dispose()


def _old_rows(engine: Engine) -> list[tuple[object, ...]]:
    with engine.begin() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT id, kind, department, source_id, record_version, metric, rule_id, points, case_id, "
                    "objection_id, dedupe_key FROM notices ORDER BY id"
                )
            )
        ]


def test_downgrading_to_0005_and_upgrading_again_keeps_every_notice_and_delivery(url: str) -> None:
    engine = _at_0005(url)
    _fill(engine)
    before = _old_rows(engine)
    open_store(url).dispose()  # up to the newest revision
    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0005_certificates")
    after = _old_rows(engine)
    # penalty and listing keys come back in the old layout (kind:department:source:version:rule)
    assert [r[:10] for r in after] == [r[:10] for r in before]
    assert [r[10] for r in after] == [
        "penalty:TRAFFIC:t1:1:TRF-MAJOR",
        "penalty:TRAFFIC:t1:2:TRF-DUI",
        "listing:COURT:c1:1:CRT-LIST",
        "repair:4",
        "decision:5",
    ]
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM deliveries")).scalar_one() == 5
    engine.dispose()
    store = open_store(url)
    columns, source = schema.notice_columns()
    with store.begin() as conn:
        got = [
            (r.id, r.kind, r.department, r.source_id, r.record_version, r.metric, r.rule_id, r.points)
            for r in conn.execute(select(*columns).select_from(source).order_by(schema.notices.c.id))
        ]
        assert conn.execute(text("SELECT count(*) FROM deliveries")).scalar_one() == 5
    assert got == [f[:8] for f in OLD_FACTS]
    store.dispose()


def test_upgrading_to_0007_gives_every_version_the_day_it_was_received(url: str) -> None:
    """Days in Asia/Shanghai: a submission at 20:00 UTC was received on the next day there."""
    engine = create_engine(resolve_url(url))
    if engine.dialect.name == "sqlite":
        from sqlalchemy import event

        event.listen(engine, "connect", _sqlite_pragmas)
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0006_lean_notices")
        stamp = bindparam("when", type_=DateTime(timezone=True))
        conn.execute(
            text(
                "INSERT INTO submissions (id, department, origin, received_at, catalog_version, accepted, "
                "duplicates, corrected, rejected) VALUES (1, 'TRAFFIC', 'x', :when, 1, 0, 0, 0, 0)"
            ).bindparams(stamp),
            {"when": dt.datetime(2026, 1, 5, 20, tzinfo=dt.UTC)},
        )
        rows = [  # id, points, start, end, retracted_at
            (1, -3, "2026-01-08", "2027-01-08", None),
            (2, 2, "2026-01-01", "2027-01-01", None),
            (3, -3, "2026-01-08", None, dt.datetime(2026, 2, 1, 17, tzinfo=dt.UTC)),
        ]
        for rid, points, start, end, retracted in rows:
            conn.execute(
                text(
                    "INSERT INTO records (id, department, source_id, version, is_current, subject_id, metric, "
                    "occurred_at, fields, submission_id, rule_id, points, start_date, end_date, start_year, "
                    "retracted_at) VALUES (:id, 'TRAFFIC', :s, 1, TRUE, :a, 'traffic_offence', :occ, '{}', 1, "
                    "'R', :p, :start, :end, 2026, :ret)"
                ).bindparams(
                    bindparam("occ", type_=Date()),
                    bindparam("start", type_=Date()),
                    bindparam("end", type_=Date()),
                    bindparam("ret", type_=DateTime(timezone=True)),
                ),
                {
                    "id": rid,
                    "s": f"t{rid}",
                    "a": A,
                    "occ": dt.date(2026, 1, 1),
                    "p": points,
                    "start": dt.date.fromisoformat(start),
                    "end": dt.date.fromisoformat(end) if end else None,
                    "ret": retracted,
                },
            )
    engine.dispose()
    store = open_store(url)
    with store.begin() as conn:
        got = conn.execute(
            select(
                schema.records.c.id,
                schema.records.c.received_on,
                schema.records.c.start_date,
                schema.records.c.end_date,
                schema.records.c.start_year,
                schema.records.c.retracted_on,
            ).order_by(schema.records.c.id)
        ).all()
    day = dt.date.fromisoformat
    assert [tuple(r) for r in got] == [
        (1, day("2026-01-06"), day("2026-01-13"), day("2027-01-13"), 2026, None),  # 5 days late: moved 5
        (2, day("2026-01-06"), day("2026-01-01"), day("2027-01-01"), 2026, None),  # a reward: as it was
        (3, day("2026-01-06"), day("2026-01-13"), None, 2026, day("2026-02-02")),
    ]
    store.dispose()


def test_the_head_revision_constant_is_alembics_head() -> None:
    """A store at HEAD_REVISION opens without Alembic: the constant must follow every new migration."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from guihua.store.database import HEAD_REVISION

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(schema.__file__).parent / "migrations"))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD_REVISION
