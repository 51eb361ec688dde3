"""Residents' one-time sign-in codes: hashes, expiry, tries, use (never a code itself)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, DateTime, delete, func, insert, literal, select, update

from guihua.store import schema
from guihua.store.database import AnyRow

_s = schema.sign_in_codes


def _when(value: dt.datetime) -> Any:
    """A moment as a typed SQL literal in UTC (SQLite compares SQLAlchemy's text layout)."""
    return literal(value.astimezone(dt.UTC), DateTime(timezone=True))


def add(conn: Connection, values: dict[str, Any]) -> int:
    """Keep a new code's hash; its id names the e-mail that carries it."""
    row = conn.execute(insert(_s).values(**values).returning(_s.c.id)).first()
    assert row is not None
    return int(row.id)


def live(conn: Connection, subject_id: str, at: dt.datetime, max_attempts: int) -> list[AnyRow]:
    """The codes of a resident still usable at ``at``: unused, unexpired, tries left; newest first."""
    query = (
        select(_s)
        .where(
            _s.c.subject_id == subject_id,
            _s.c.used_at.is_(None),
            _s.c.expires_at > _when(at),
            _s.c.attempts < max_attempts,
        )
        .order_by(_s.c.id.desc())
    )
    return list(conn.execute(query).all())


def issued_since(conn: Connection, subject_id: str, since: dt.datetime) -> int:
    """How many codes were made for a resident since ``since`` (e-mailed and printed)."""
    query = select(func.count()).where(_s.c.subject_id == subject_id, _s.c.created_at >= _when(since))
    return int(conn.execute(query).scalar_one())


def count_failure(conn: Connection, ids: Sequence[int]) -> None:
    """A wrong code was typed: every live code of the resident loses a try."""
    if ids:
        conn.execute(update(_s).where(_s.c.id.in_(list(ids))).values(attempts=_s.c.attempts + 1))


def spend(conn: Connection, ids: Sequence[int], at: dt.datetime) -> bool:
    """Mark unused codes as used (a sign-in spends them all); True when one was still unused.

    The condition makes the claim of a code atomic: of two requests racing with one code,
    only one sees it spent by itself.
    """
    if not ids:
        return False
    done = conn.execute(update(_s).where(_s.c.id.in_(list(ids)), _s.c.used_at.is_(None)).values(used_at=at))
    return bool(done.rowcount)


def forget_expired(conn: Connection, before: dt.datetime) -> int:
    """Remove codes that expired before ``before``: a dead hash is worth nothing to keep."""
    return int(conn.execute(delete(_s).where(_s.c.expires_at < _when(before))).rowcount or 0)
