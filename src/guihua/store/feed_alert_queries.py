"""Departments' contacts, feed episodes, feed notices and their outbox (``feed_deliveries``).

The outbox rows work as the residents' (:mod:`guihua.store.delivery_queries`): ``pending``
(due at ``next_attempt_at``), ``delivered`` or ``no_address`` (e-mail to a department
without a contact; queued again when one is given). How and when to send is
:mod:`guihua.usecases.feed_outbox`'s business.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, DateTime, and_, case, exists, func, literal, or_, select, true, update
from sqlalchemy.engine import RowMapping

from guihua.store import schema
from guihua.store.database import AnyRow
from guihua.store.dialect import insert_ignoring

_dc, _e, _n, _d = (
    schema.department_contacts,
    schema.feed_episodes,
    schema.feed_notices,
    schema.feed_deliveries,
)

# --------------------------------------------------------------------------- department contacts


def put_contact(conn: Connection, department: str, email: str | None, at: dt.datetime) -> None:
    done = conn.execute(_dc.update().where(_dc.c.department == department).values(email=email, updated_at=at))
    if done.rowcount == 0:
        conn.execute(_dc.insert().values(department=department, email=email, updated_at=at))


def contacts(conn: Connection) -> dict[str, str | None]:
    return {str(d): e for d, e in conn.execute(select(_dc.c.department, _dc.c.email))}


# --------------------------------------------------------------------------- episodes


def open_episodes(conn: Connection) -> dict[tuple[str, str], AnyRow]:
    """The open episode of each (department, kind) that has one."""
    rows = conn.execute(select(_e).where(_e.c.ended_at.is_(None)))
    return {(str(r.department), str(r.kind)): r for r in rows}


def open_episode(
    conn: Connection, department: str, kind: str, day: dt.date, at: dt.datetime, detail: str
) -> int | None:
    """Open an episode; None when another check opened it meanwhile (one open per department and kind)."""
    stmt = (
        insert_ignoring(conn, _e)
        .values(department=department, kind=kind, started_on=day, started_at=at, detail=detail)
        .on_conflict_do_nothing()
        .returning(_e.c.id)
    )
    found = conn.execute(stmt).scalar_one_or_none()
    return int(found) if found is not None else None


def close_episode(conn: Connection, episode_id: int, day: dt.date, at: dt.datetime) -> bool:
    done = conn.execute(
        update(_e).where(_e.c.id == episode_id, _e.c.ended_at.is_(None)).values(ended_on=day, ended_at=at)
    )
    return bool(done.rowcount)


def episodes(conn: Connection, department: str | None = None) -> list[dict[str, Any]]:
    stmt = select(_e).order_by(_e.c.id)
    if department is not None:
        stmt = stmt.where(_e.c.department == department)
    return [dict(r) for r in conn.execute(stmt).mappings()]


# --------------------------------------------------------------------------- feed notices


def create_notice(conn: Connection, **values: Any) -> int | None:
    """A feed notice, once per ``dedupe_key``; its id, or None when it was there already."""
    stmt = insert_ignoring(conn, _n).values(**values).on_conflict_do_nothing().returning(_n.c.id)
    found = conn.execute(stmt).scalar_one_or_none()
    return int(found) if found is not None else None


def notices(conn: Connection, department: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Feed notices, newest first, each with the state of its deliveries."""
    stmt = select(_n).order_by(_n.c.id.desc()).limit(limit)
    if department is not None:
        stmt = stmt.where(_n.c.department == department)
    rows = [dict(r) for r in conn.execute(stmt).mappings()]
    states: dict[int, list[dict[str, Any]]] = {}
    if rows:
        found = conn.execute(
            select(_d.c.feed_notice_id, _d.c.channel, _d.c.recipient, _d.c.status, _d.c.attempts)
            .where(_d.c.feed_notice_id.in_([r["id"] for r in rows]))
            .order_by(_d.c.id)
        ).mappings()
        for d in found:
            states.setdefault(int(d["feed_notice_id"]), []).append(
                {k: d[k] for k in ("channel", "recipient", "status", "attempts")}
            )
    for r in rows:
        r["deliveries"] = states.get(int(r["id"]), [])
    return rows


# --------------------------------------------------------------------------- the outbox of feed notices


def _when(value: dt.datetime) -> Any:
    return literal(value.astimezone(dt.UTC), DateTime(timezone=True))


def _has_contact() -> Any:
    return exists().where(_dc.c.department == _n.c.department, _dc.c.email.is_not(None))


def enqueue(conn: Connection, routes: Sequence[tuple[str, str]], at: dt.datetime) -> None:
    """A row for every feed notice that has none yet on each (channel, recipient) configured.

    Department e-mail waits as ``no_address`` until the department has a contact; what goes to the
    operators is only for notices meant for them.
    """
    cols = ["feed_notice_id", "channel", "recipient", "status", "attempts", "next_attempt_at"]
    for channel, recipient in routes:
        status: Any = literal("pending")
        meant: Any = _n.c.to_operators
        if recipient == "department":
            status, meant = case((_has_contact(), "pending"), else_="no_address"), true()
        rows = select(_n.c.id, literal(channel), literal(recipient), status, literal(0), _when(at)).where(
            meant,
            ~exists().where(
                _d.c.feed_notice_id == _n.c.id, _d.c.channel == channel, _d.c.recipient == recipient
            ),
        )
        conn.execute(insert_ignoring(conn, _d).from_select(cols, rows).on_conflict_do_nothing())
    readdress(conn, at)


def readdress(conn: Connection, at: dt.datetime, department: str | None = None) -> int:
    """``no_address`` e-mails of departments that now have a contact become due again; how many."""
    addressed = select(_n.c.id).join(_dc, _dc.c.department == _n.c.department).where(_dc.c.email.is_not(None))
    if department is not None:
        addressed = addressed.where(_n.c.department == department)
    done = conn.execute(
        update(_d)
        .where(_d.c.status == "no_address", _d.c.feed_notice_id.in_(addressed))
        .values(status="pending", next_attempt_at=at.astimezone(dt.UTC))
    )
    return int(done.rowcount or 0)


def _due(at: dt.datetime, routes: Sequence[tuple[str, str]]) -> Any:
    return and_(
        _d.c.status == "pending",
        or_(*[and_(_d.c.channel == c, _d.c.recipient == r) for c, r in routes]),
        or_(_d.c.next_attempt_at.is_(None), _d.c.next_attempt_at <= _when(at)),
    )


def next_batch(
    conn: Connection, at: dt.datetime, routes: Sequence[tuple[str, str]], after: int, n: int
) -> list[int]:
    """Due row ids after ``after``, oldest first (keyset: each row once a run)."""
    stmt = select(_d.c.id).where(_due(at, routes), _d.c.id > after).order_by(_d.c.id).limit(n)
    return [int(i) for (i,) in conn.execute(stmt)]


def claim(
    conn: Connection, delivery_id: int, at: dt.datetime, routes: Sequence[tuple[str, str]]
) -> RowMapping | None:
    """The row with its notice and the department's address, if still due (PostgreSQL: locked)."""
    stmt = (
        select(
            _d.c.id.label("delivery_id"),
            _d.c.channel,
            _d.c.recipient,
            _d.c.attempts,
            _n.c.id,
            _n.c.department,
            _n.c.kind,
            _n.c.episode_id,
            _n.c.submission_id,
            _n.c.title,
            _n.c.body,
            _n.c.created_at,
            _dc.c.email,
        )
        .select_from(
            _d.join(_n, _n.c.id == _d.c.feed_notice_id).outerjoin(_dc, _dc.c.department == _n.c.department)
        )
        .where(_d.c.id == delivery_id, _due(at, routes))
    )
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


def waiting(conn: Connection, routes: Sequence[tuple[str, str]]) -> list[tuple[str, str, int]]:
    """(channel, status, rows) still pending or waiting for an address."""
    if not routes:
        return []
    rows = conn.execute(
        select(_d.c.channel, _d.c.status, func.count())
        .where(
            or_(*[and_(_d.c.channel == c, _d.c.recipient == r) for c, r in routes]),
            _d.c.status.in_(["pending", "no_address"]),
        )
        .group_by(_d.c.channel, _d.c.status)
    ).all()
    return [(str(c), str(s), int(n)) for c, s, n in rows]
