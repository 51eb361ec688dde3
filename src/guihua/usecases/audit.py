"""The audit trail: every read of a resident's data and every write, in a hash chain.

Each entry stores the hash of the entry before it, and its own hash over its
fields and that link. Changing, removing or reordering any entry breaks the
chain at that entry, which :func:`verify` reports. (Cutting entries off the
end leaves a shorter valid chain: publish the head hash that ``verify``
prints to detect that too.)
"""

from __future__ import annotations

import getpass
import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select

from guihua.kit.clock import now
from guihua.store import schema
from guihua.store.database import Store

GENESIS = "0" * 64
_HEAD = (
    select(schema.audit_log.c.seq, schema.audit_log.c.hash).order_by(schema.audit_log.c.seq.desc()).limit(1)
)
_INSERT = insert(schema.audit_log)
FIELDS = ("seq", "at", "account", "role", "action", "subject_id", "purpose", "outcome", "detail")


@dataclass(frozen=True)
class Actor:
    """Who acts: an account and its role (the CLI acts as the operator at the terminal)."""

    account: str
    role: str


def cli_actor() -> Actor:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor(f"cli:{user}", "admin")


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def append(
    conn: Connection,
    actor: Actor,
    action: str,
    outcome: str = "ok",
    subject_id: str | None = None,
    purpose: str | None = None,
    detail: str | None = None,
) -> int:
    """Add an entry inside the caller's transaction (so it lands with what it records, or not at all)."""
    # One writer extends the chain at a time, and it must read the head *after* taking the lock.
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE audit_log IN EXCLUSIVE MODE")
    else:  # a write that changes nothing opens the write transaction (waiting for other writers)
        conn.exec_driver_sql("UPDATE audit_log SET seq = seq WHERE seq < 0")
    last = conn.execute(_HEAD).first()
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    fields = {
        "seq": seq,
        "at": now().isoformat(timespec="microseconds"),
        "account": actor.account,
        "role": actor.role,
        "action": action,
        "subject_id": subject_id,
        "purpose": purpose,
        "outcome": outcome,
        "detail": detail,
    }
    conn.execute(_INSERT, {**fields, "prev_hash": prev, "hash": entry_hash(prev, fields)})
    return seq


_WRITER = threading.Lock()


def record(
    store: Store,
    actor: Actor,
    action: str,
    outcome: str = "ok",
    subject_id: str | None = None,
    purpose: str | None = None,
    detail: str | None = None,
) -> int:
    """Add an entry in its own short transaction (for reads: nothing else to land with).

    Writers of this process queue on a lock instead of meeting in SQLite's
    sleep-and-retry busy handler, which made tail latency explode under load.
    """
    with _WRITER, store.begin() as conn:
        return append(conn, actor, action, outcome, subject_id, purpose, detail)


@dataclass(frozen=True)
class Verification:
    entries: int
    head: str
    broken_at: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def verify(store: Store, batch: int = 10_000) -> Verification:
    """Walk the chain from the first entry; name the first one that does not hold."""
    t = schema.audit_log
    expected_seq, prev, count = 1, GENESIS, 0
    with store.begin() as conn:
        while True:
            rows = conn.execute(select(t).where(t.c.seq >= expected_seq).order_by(t.c.seq).limit(batch)).all()
            if not rows:
                return Verification(count, prev)
            for row in rows:
                if row.seq != expected_seq:
                    return Verification(count, prev, expected_seq, f"entry {expected_seq} is missing")
                if row.prev_hash != prev:
                    why = f"entry {row.seq} does not follow the entry before it (removed or reordered)"
                    return Verification(count, prev, row.seq, why)
                fields = {f: getattr(row, f) for f in FIELDS}
                if entry_hash(prev, fields) != row.hash:
                    return Verification(count, prev, row.seq, f"entry {row.seq} was changed")
                prev, expected_seq, count = row.hash, expected_seq + 1, count + 1


def entries(store: Store, subject_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Newest first; for one subject: who read this resident's data, when, as whom, why."""
    t = schema.audit_log
    stmt = select(t).order_by(t.c.seq.desc()).limit(limit)
    if subject_id is not None:
        stmt = stmt.where(t.c.subject_id == subject_id)
    with store.begin() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def mask(subject_id: str | None) -> str | None:
    """Resident ids in logs: first 6 and last 2 characters shown."""
    if not subject_id:
        return subject_id
    return subject_id[:6] + "*" * max(0, len(subject_id) - 8) + subject_id[-2:]
