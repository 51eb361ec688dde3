"""Objections (spec section 7): filed, decided, and who did each.

What an objection's state is at a date is the engine's rule
(:mod:`guihua.engine.objection_state`); these are only the rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, insert, select, update

from guihua.store import schema
from guihua.store.database import AnyRow

_o = schema.objections


def add(conn: Connection, values: dict[str, Any]) -> int:
    key = conn.execute(insert(_o).values(**values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def get(conn: Connection, objection_id: int) -> AnyRow | None:
    return conn.execute(select(_o).where(_o.c.id == objection_id)).first()


def of_key(conn: Connection, department: str, source_id: str) -> list[AnyRow]:
    """Every objection to one record key, oldest first."""
    stmt = select(_o).where(_o.c.department == department, _o.c.source_id == source_id).order_by(_o.c.id)
    return list(conn.execute(stmt).all())


def record_decision(
    conn: Connection, objection_id: int, outcome: str, day: dt.date, when: dt.datetime, by: str, why: str
) -> None:
    conn.execute(
        update(_o)
        .where(_o.c.id == objection_id)
        .values(decision=outcome, decided_on=day, decided_at=when, decided_by=by, decision_reason=why)
    )
