"""Residents' consent codes for perk checks: hashes, expiry, tries, use (never a code itself)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, DateTime, delete, insert, literal, select, update

from guihua.store import schema
from guihua.store.database import AnyRow

_c = schema.consent_codes


def _when(value: dt.datetime) -> Any:
    """A moment as a typed SQL literal in UTC (SQLite compares SQLAlchemy's text layout)."""
    return literal(value.astimezone(dt.UTC), DateTime(timezone=True))


def add(conn: Connection, values: dict[str, Any]) -> int:
    """Keep a new consent code's hash; its id is the code's reference in the audit trail."""
    row = conn.execute(insert(_c).values(**values).returning(_c.c.id)).first()
    assert row is not None
    return int(row.id)


def live(conn: Connection, subject_id: str, perk: str, at: dt.datetime, max_attempts: int) -> list[AnyRow]:
    """The resident's codes for ``perk`` still usable at ``at``: unused, unexpired, tries left."""
    query = (
        select(_c)
        .where(
            _c.c.subject_id == subject_id,
            _c.c.perk == perk,
            _c.c.used_at.is_(None),
            _c.c.expires_at > _when(at),
            _c.c.attempts < max_attempts,
        )
        .order_by(_c.c.id.desc())
    )
    return list(conn.execute(query).all())


def count_failure(conn: Connection, ids: Sequence[int]) -> None:
    """A wrong code was sent: every live code of the resident for the perk loses a try."""
    if ids:
        conn.execute(update(_c).where(_c.c.id.in_(list(ids))).values(attempts=_c.c.attempts + 1))


def spend(conn: Connection, code_id: int, at: dt.datetime, account: str) -> bool:
    """Mark a code used by ``account``; True only for the one request that found it unused.

    The condition makes the claim atomic: of two checks racing with one code, one is answered.
    """
    done = conn.execute(
        update(_c).where(_c.c.id == code_id, _c.c.used_at.is_(None)).values(used_at=at, used_by=account)
    )
    return bool(done.rowcount)


def forget_expired(conn: Connection, before: dt.datetime) -> int:
    """Remove codes that expired before ``before``: a dead hash is worth nothing to keep
    (the audit trail keeps who made and who used each one)."""
    return int(conn.execute(delete(_c).where(_c.c.expires_at < _when(before))).rowcount or 0)
