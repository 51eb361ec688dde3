"""Issued certificates of listing status, by verification code."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, insert, select

from guihua.store import schema
from guihua.store.database import AnyRow

_c = schema.certificates


def add(conn: Connection, values: dict[str, Any]) -> None:
    """Raises IntegrityError when the code is taken (the caller draws another)."""
    conn.execute(insert(_c), values)


def by_code(conn: Connection, code: str) -> AnyRow | None:
    return conn.execute(select(_c).where(_c.c.code == code)).first()


def count_check(conn: Connection, day: dt.date, subject_id: str, outcome: str, when: dt.datetime) -> None:
    """One more anonymous check of a certificate (``subject_id`` "" for an unknown code) on ``day``."""
    from sqlalchemy.dialects import postgresql, sqlite

    t = schema.certificate_checks
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(t).values(day=day, subject_id=subject_id, outcome=outcome, checks=1, last_at=when)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[t.c.day, t.c.subject_id, t.c.outcome],
            set_={"checks": t.c.checks + 1, "last_at": when},
        )
    )


def checks_of(conn: Connection, subject_id: str, limit: int) -> list[dict[str, Any]]:
    """A resident's certificate checks by the public: per day and outcome, newest first."""
    t = schema.certificate_checks
    stmt = (
        select(t.c.day, t.c.outcome, t.c.checks, t.c.last_at)
        .where(t.c.subject_id == subject_id)
        .order_by(t.c.day.desc(), t.c.outcome)
        .limit(limit)
    )
    return [dict(r._mapping) for r in conn.execute(stmt)]
