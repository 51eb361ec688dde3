"""The audit trail's rows: append-only, each holding the hash of the one before."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, insert, select

from guihua.store import schema
from guihua.store.database import AnyRow
from guihua.store.dialect import lock_for_append

_a = schema.audit_log
_HEAD = select(_a.c.seq, _a.c.hash).order_by(_a.c.seq.desc()).limit(1)
_INSERT = insert(_a)


def head_for_append(conn: Connection) -> tuple[int, str] | None:
    """The newest entry's (seq, hash), read after taking the write lock: one appender at a time."""
    lock_for_append(conn, "audit_log", "seq")
    last = conn.execute(_HEAD).first()
    return (int(last.seq), str(last.hash)) if last else None


def add(conn: Connection, entry: dict[str, Any]) -> None:
    conn.execute(_INSERT, entry)


def walk(conn: Connection, batch: int = 10_000) -> Iterator[AnyRow]:
    """Every entry in order of ``seq``, read in batches."""
    after = 0
    while True:
        rows = conn.execute(select(_a).where(_a.c.seq > after).order_by(_a.c.seq).limit(batch)).all()
        if not rows:
            return
        yield from rows
        after = int(rows[-1].seq)


def newest(
    conn: Connection, subject_id: str | None, limit: int, before: int | None = None
) -> list[dict[str, Any]]:
    """Newest first; for one subject when given; only entries before ``before`` (a page's cursor)."""
    stmt = select(_a).order_by(_a.c.seq.desc()).limit(limit)
    if subject_id is not None:
        stmt = stmt.where(_a.c.subject_id == subject_id)
    if before is not None:
        stmt = stmt.where(_a.c.seq < before)
    return [dict(r._mapping) for r in conn.execute(stmt)]


def hash_at(conn: Connection, seq: int) -> str | None:
    """The hash of entry ``seq``, or None when the trail has no such entry."""
    found = conn.execute(select(_a.c.hash).where(_a.c.seq == seq)).scalar_one_or_none()
    return str(found) if found is not None else None


def time_at(conn: Connection, seq: int) -> str | None:
    """The time (``at``) of entry ``seq``."""
    found = conn.execute(select(_a.c.at).where(_a.c.seq == seq)).scalar_one_or_none()
    return str(found) if found is not None else None


def earliest_after(conn: Connection, seq: int) -> tuple[int, str] | None:
    """The entry after ``seq`` with the earliest time (seq, at), if any (times are ISO text in UTC)."""
    row = conn.execute(
        select(_a.c.seq, _a.c.at).where(_a.c.seq > seq).order_by(_a.c.at, _a.c.seq).limit(1)
    ).first()
    return (int(row.seq), str(row.at)) if row else None
