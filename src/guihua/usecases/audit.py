"""The audit trail: every read of a resident's data and every write, in a hash chain.

Each entry stores the hash of the entry before it, and its own hash over its
fields and that link. Changing, removing or reordering any entry breaks the
chain at that entry, which :func:`verify` reports. Cutting entries off the end,
or rewriting from some entry on and re-chaining, leaves a valid chain: signed
checkpoints kept outside the store show those (:mod:`guihua.usecases.checkpoints`).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack

from sqlalchemy import Connection

from guihua.core.masking import mask_id
from guihua.core.policy import Actor
from guihua.kit.clock import now
from guihua.store import audit_queries
from guihua.store.database import Store

GENESIS = "0" * 64
FIELDS = ("seq", "at", "account", "role", "action", "subject_id", "purpose", "outcome", "detail")


def cli_actor() -> Actor:
    """The operator at the terminal acts as an admin, under the login name."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor(f"cli:{user}", "admin")


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


class About(TypedDict, total=False):
    """What an entry says beside who and which action: outcome ("ok" unless said), whose data, why."""

    outcome: str
    subject_id: str | None
    purpose: str | None
    detail: str | None


def append(conn: Connection, actor: Actor, action: str, **about: Unpack[About]) -> int:
    """Add an entry inside the caller's transaction (so it lands with what it records, or not at all)."""
    last = audit_queries.head_for_append(conn)  # one writer extends the chain at a time
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    fields = {
        "seq": seq,
        "at": now().isoformat(timespec="microseconds"),
        "account": actor.account,
        "role": actor.role,
        "action": action,
        "subject_id": about.get("subject_id"),
        "purpose": about.get("purpose"),
        "outcome": about.get("outcome", "ok"),
        "detail": about.get("detail"),
    }
    audit_queries.add(conn, {**fields, "prev_hash": prev, "hash": entry_hash(prev, fields)})
    return seq


_WRITER = threading.Lock()


def record(store: Store, actor: Actor, action: str, **about: Unpack[About]) -> int:
    """Add an entry in its own short transaction (for reads: nothing else to land with).

    Writers of this process queue on a lock instead of meeting in SQLite's
    sleep-and-retry busy handler, which made tail latency explode under load.
    """
    with _WRITER, store.begin() as conn:
        return append(conn, actor, action, **about)


@dataclass(frozen=True)
class Verification:
    entries: int
    head: str
    broken_at: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def verify(store: Store) -> Verification:
    """Walk the chain from the first entry; name the first one that does not hold."""
    expected_seq, prev, count = 1, GENESIS, 0
    with store.begin() as conn:
        for row in audit_queries.walk(conn):
            if row.seq != expected_seq:
                return Verification(count, prev, expected_seq, f"entry {expected_seq} is missing")
            if row.prev_hash != prev:
                why = f"entry {row.seq} does not follow the entry before it (removed or reordered)"
                return Verification(count, prev, row.seq, why)
            fields = {f: getattr(row, f) for f in FIELDS}
            if entry_hash(prev, fields) != row.hash:
                return Verification(count, prev, row.seq, f"entry {row.seq} was changed")
            prev, expected_seq, count = row.hash, expected_seq + 1, count + 1
    return Verification(count, prev)


def access_log(
    store: Store,
    subject_id: str,
    actor: Actor,
    purpose: str | None = None,
    limit: int = 1000,
    before: int | None = None,
) -> list[dict[str, Any]]:
    """Who read a resident's data, newest first, a page of ``limit`` entries before entry
    ``before`` (the last page's oldest ``seq``): every entry can be reached, however many
    came after it. Reading it is itself an audited read (the first page only, so paging
    through a long log does not lengthen it)."""
    if before is None:
        record(store, actor, "subject.access_log", subject_id=subject_id, purpose=purpose)
    with store.begin() as conn:
        return audit_queries.newest(conn, subject_id, limit, before)


def entries(store: Store, subject_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Newest first; for one subject: who read this resident's data, when, as whom, why."""
    with store.begin() as conn:
        return audit_queries.newest(conn, subject_id, limit)


def mask(subject_id: str | None) -> str | None:
    """Resident ids in logs: first 6 and last 2 characters shown (:func:`guihua.core.masking.mask_id`)."""
    return mask_id(subject_id)
