"""The outbox's state: one ``deliveries`` row per (notice, channel).

``pending`` (due at ``next_attempt_at``), ``delivered``, or ``no_address``
(e-mail to a resident without an address; queued again when one is given).
How and when to send is :mod:`guihua.usecases.outbox`'s business.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, DateTime, and_, case, exists, func, literal, or_, select, update
from sqlalchemy.engine import RowMapping

from guihua.store import schema
from guihua.store.dialect import insert_ignoring

_d, _n, _c = schema.deliveries, schema.notices, schema.contacts


def _when(value: dt.datetime) -> Any:
    """A timestamp as a typed SQL literal (SQLite stores SQLAlchemy's text layout, in UTC)."""
    return literal(value.astimezone(dt.UTC), DateTime(timezone=True))


def _has_address() -> Any:
    return exists().where(_c.c.subject_id == _n.c.subject_id, _c.c.email.is_not(None))


def enqueue(conn: Connection, channels: Sequence[tuple[str, bool]], at: dt.datetime) -> None:
    """A ``deliveries`` row for every notice that has none yet on each channel (idempotent)."""
    for name, needs_address in channels:
        status: Any = (
            case((_has_address(), "pending"), else_="no_address") if needs_address else literal("pending")
        )
        rows = select(_n.c.id, literal(name), status, literal(0), _when(at)).where(
            ~exists().where(_d.c.notice_id == _n.c.id, _d.c.channel == name)
        )
        cols = ["notice_id", "channel", "status", "attempts", "next_attempt_at"]
        conn.execute(insert_ignoring(conn, _d).from_select(cols, rows).on_conflict_do_nothing())
        if needs_address:
            readdress(conn, at, channel=name)


def readdress(
    conn: Connection, at: dt.datetime, subject_id: str | None = None, channel: str = "email"
) -> int:
    """``no_address`` rows whose resident now has an address become due again; how many."""
    addressed = select(_n.c.id).join(_c, _c.c.subject_id == _n.c.subject_id).where(_c.c.email.is_not(None))
    if subject_id is not None:
        addressed = addressed.where(_n.c.subject_id == subject_id)
    done = conn.execute(
        update(_d)
        .where(_d.c.channel == channel, _d.c.status == "no_address", _d.c.notice_id.in_(addressed))
        .values(status="pending", next_attempt_at=at.astimezone(dt.UTC))
    )
    return int(done.rowcount or 0)


def _due(at: dt.datetime, names: Sequence[str]) -> Any:
    return and_(
        _d.c.status == "pending",
        _d.c.channel.in_(list(names)),
        or_(_d.c.next_attempt_at.is_(None), _d.c.next_attempt_at <= _when(at)),
    )


def next_batch(
    conn: Connection, at: dt.datetime, names: Sequence[str], after: tuple[int, int], n: int
) -> list[Any]:
    """Due rows after ``after`` (notice id, row id), oldest notice first (keyset: each row once a run)."""
    last_notice, last_row = after
    stmt = (
        select(_d.c.id, _d.c.notice_id)
        .where(
            _due(at, names),
            or_(_d.c.notice_id > last_notice, and_(_d.c.notice_id == last_notice, _d.c.id > last_row)),
        )
        .order_by(_d.c.notice_id, _d.c.id)
        .limit(n)
    )
    return list(conn.execute(stmt))


def _row() -> Any:
    """A delivery with its whole notice and the resident's address and language."""
    columns, notice = schema.notice_columns()
    return select(
        _d.c.id.label("delivery_id"), _d.c.channel, _d.c.attempts, *columns, _c.c.email, _c.c.lang
    ).select_from(
        _d.join(notice, _n.c.id == _d.c.notice_id).outerjoin(_c, _c.c.subject_id == _n.c.subject_id)
    )


_ROW = _row()


def claim(conn: Connection, delivery_id: int, at: dt.datetime, names: Sequence[str]) -> RowMapping | None:
    """The row if it is still due; on PostgreSQL also locked (skipped if another worker holds it)."""
    stmt = _ROW.where(_d.c.id == delivery_id, _due(at, names))
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=_d, skip_locked=True)
    return conn.execute(stmt).mappings().first()


def record_outcome(
    conn: Connection,
    row: RowMapping,
    status: str,
    error: str | None,
    retry_at: dt.datetime | None,
    at: dt.datetime,
) -> None:
    """One attempt's outcome: ``delivered``, ``no_address`` or still ``pending`` (retried at ``retry_at``)."""
    tries = int(row["attempts"]) + (0 if status == "no_address" else 1)
    values: dict[str, Any]
    if status == "delivered":
        values = {"status": "delivered", "delivered_at": at, "next_attempt_at": None, "last_error": None}
    elif status == "no_address":
        values = {"status": "no_address", "next_attempt_at": None, "last_error": None}
    else:
        values = {"next_attempt_at": retry_at, "last_error": error}
    conn.execute(
        update(_d)
        .where(_d.c.id == row["delivery_id"], _d.c.status == "pending")
        .values(attempts=tries, **values)
    )


def waiting(conn: Connection, names: Sequence[str]) -> list[tuple[str, str, int]]:
    """(channel, status, rows) still pending or waiting for an address."""
    rows = conn.execute(
        select(_d.c.channel, _d.c.status, func.count())
        .where(_d.c.channel.in_(list(names)), _d.c.status.in_(["pending", "no_address"]))
        .group_by(_d.c.channel, _d.c.status)
    ).all()
    return [(str(c), str(s), int(n)) for c, s, n in rows]
