"""Notices to residents (the outbox's input) and the state of their deliveries.

Which records call for a notice is the engine's rule
(:mod:`guihua.engine.notifiable`); these statements store what it finds,
set-based, in the caller's transaction. Unique indexes make every insert
idempotent: re-matching after a catalog load never notifies twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, insert, select

from guihua.core.catalog import Catalog
from guihua.engine.notifiable import NOTICE_COLUMNS, penalties, repairs
from guihua.store import schema
from guihua.store.engine_queries import insert_from

_n, _d = schema.notices, schema.deliveries


def create_for_records(
    conn: Connection,
    catalog: Catalog,
    day: dt.date,
    created_at: dt.datetime,
    scope: tuple[int, int] | None = None,
) -> None:
    """Notices for the records of one submission (``scope``: its id and the largest id stored before
    it, so the primary key finds its rows), or for every record (after re-matching)."""
    for query in (penalties, repairs):
        insert_from(
            conn, "notices", query, catalog, day, NOTICE_COLUMNS, {"created_at": created_at}, scope=scope
        )


def create_decision(
    conn: Connection, objection: Any, decision: str, created_at: dt.datetime, decided_on: dt.date
) -> None:
    """The notice that tells a resident how its objection was decided (once per objection)."""
    conn.execute(
        insert(_n).values(
            dedupe_key=f"decision:{objection.id}",
            subject_id=objection.subject_id,
            kind="decision",
            case_id=decision,
            objection_id=objection.id,
            effective_on=decided_on,
            created_at=created_at,
        )
    )


def for_subject(conn: Connection, subject_id: str) -> list[dict[str, Any]]:
    """A resident's notices, newest first, each with the state of its deliveries."""
    columns, source = schema.notice_columns()
    stmt = select(*columns).select_from(source).where(_n.c.subject_id == subject_id).order_by(_n.c.id.desc())
    notices = [dict(r) for r in conn.execute(stmt).mappings()]
    if not notices:
        return []
    states: dict[int, list[dict[str, Any]]] = {}
    rows = conn.execute(
        select(_d.c.notice_id, _d.c.channel, _d.c.status, _d.c.attempts, _d.c.delivered_at).where(
            _d.c.notice_id.in_([r["id"] for r in notices])
        )
    ).mappings()
    for row in rows:
        states.setdefault(row["notice_id"], []).append(
            {
                "channel": row["channel"],
                "status": row["status"],
                "attempts": row["attempts"],
                "delivered_at": str(row["delivered_at"])[:19] if row["delivered_at"] else None,
            }
        )
    for r in notices:
        r["deliveries"] = states.get(r["id"], [])
    return notices
