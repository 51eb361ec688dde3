"""The outbox: every notice goes out on every configured channel, at least once, keyed by its id.

One ``deliveries`` row per (notice, channel) holds the state: ``pending`` (due at
``next_attempt_at``), ``delivered`` or ``no_address`` (e-mail to a resident without an
address; queued again when one is given). A run of :func:`deliver_due`

1. enqueues the notices that have no row yet for a configured channel (set-based, idempotent)
   and puts ``no_address`` e-mails whose resident now has an address back to ``pending``;
2. walks the due rows oldest notice first, in small batches; for each it sends, then commits
   the new state *at once*, one row per transaction. A crash between a send and its commit
   therefore re-sends that one notice on the next run, and never loses one: delivery is
   at-least-once, and the notice id (``Message-ID``, ``Idempotency-Key``) lets a receiver
   that deduplicates see every notice exactly once.

A failed send (connection refused, timeout, any non-2xx answer, an SMTP refusal) counts an
attempt, keeps the error and is retried after 30 s, 60 s, 120 s... capped at one hour. No
answer makes a row fail for good: a receiver that refuses today may be fixed tomorrow, so
rows stay ``pending`` and every run reports them (``failed``, ``last_error``).

Concurrent workers: on PostgreSQL each row is claimed with ``SELECT ... FOR UPDATE SKIP
LOCKED`` in the transaction that sends it and records the outcome, so two workers never send
the same row at the same time (a worker that dies releases its row with its connection). On
SQLite the row is read, sent and marked in separate short transactions (holding SQLite's
single write lock across a network call would stall every ingest): run ONE worker per SQLite
store; a second one could send a notice twice (still keyed by its id), never lose one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import (
    Connection,
    DateTime,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping

from guihua.core.catalog import Catalog
from guihua.core.notice_text import compose
from guihua.kit.clock import now
from guihua.store import schema
from guihua.store.database import Store

BATCH = 20  # rows fetched at a time: small, so a long run keeps picking up what became due
BASE_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(hours=1)
MAX_ERROR = 500  # characters of an error kept in last_error

_COUNTS = ("sent", "failed", "no_address", "pending")
_d, _n, _c = schema.deliveries, schema.notices, schema.contacts


class DeliveryFailed(Exception):
    """A send that did not go through; the message says why (kept in ``last_error``)."""


@dataclass(frozen=True)
class Outgoing:
    """One notice as a channel sends it: worded by :func:`guihua.core.notice_text.compose`."""

    notice_id: int
    kind: str
    subject_id: str
    title: str
    body: str
    department: str
    source_id: str
    effective_on: str | None
    created_at: str
    email: str | None = None

    @property
    def idempotency_key(self) -> str:
        """The same for every attempt at this notice, on every channel."""
        return f"notice-{self.notice_id}"

    def payload(self) -> dict[str, Any]:
        """The webhook body (no contact data: the receiver learns what the resident was told)."""
        return {
            "notice_id": self.notice_id,
            "kind": self.kind,
            "subject_id": self.subject_id,
            "title": self.title,
            "body": self.body,
            "department": self.department,
            "source_id": self.source_id,
            "effective_on": self.effective_on,
            "created_at": self.created_at,
        }


class Channel(Protocol):
    """A way to reach residents. ``send`` raises :class:`DeliveryFailed` when it did not go through."""

    @property
    def name(self) -> str: ...  # the deliveries.channel value: "email" or "webhook"

    @property
    def needs_address(self) -> bool: ...  # True: only residents with an e-mail address

    def send(self, message: Outgoing) -> None: ...

    def close(self) -> None: ...


@dataclass
class DeliveryRun:
    """What one run did (sent, failed attempts) and what it left (pending, no_address rows)."""

    sent: int = 0
    failed: int = 0
    no_address: int = 0
    pending: int = 0
    channels: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # the first few failures of this run

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "no_address": self.no_address,
            "pending": self.pending,
            "channels": self.channels,
            "errors": self.errors,
        }

    def count(self, channel: str, what: str) -> None:
        """One attempt of this run (``sent`` or ``failed``) on ``channel``."""
        setattr(self, what, getattr(self, what) + 1)
        self.channels[channel][what] += 1


def backoff(attempts: int) -> dt.timedelta:
    """Delay before the next try after ``attempts`` failed ones: 30 s doubling, at most 1 h."""
    if attempts >= 8:  # 30 s * 2^7 already exceeds the cap; no huge powers
        return MAX_DELAY
    delay: dt.timedelta = BASE_DELAY * 2 ** max(attempts - 1, 0)
    return min(delay, MAX_DELAY)


def _when(value: dt.datetime) -> Any:
    """A timestamp as a typed SQL literal (SQLite stores SQLAlchemy's text layout, in UTC)."""
    return literal(value.astimezone(dt.UTC), DateTime(timezone=True))


def _has_address() -> Any:
    return exists().where(_c.c.subject_id == _n.c.subject_id, _c.c.email.is_not(None))


def enqueue(conn: Connection, channels: Sequence[Channel], at: dt.datetime) -> None:
    """A ``deliveries`` row for every notice that has none yet on each channel (idempotent)."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    for ch in channels:
        status: Any = (
            case((_has_address(), "pending"), else_="no_address") if ch.needs_address else literal("pending")
        )
        rows = select(_n.c.id, literal(ch.name), status, literal(0), _when(at)).where(
            ~exists().where(_d.c.notice_id == _n.c.id, _d.c.channel == ch.name)
        )
        cols = ["notice_id", "channel", "status", "attempts", "next_attempt_at"]
        conn.execute(insert(_d).from_select(cols, rows).on_conflict_do_nothing())
        if ch.needs_address:
            readdress(conn, at, channel=ch.name)


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


def _next_batch(
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
    """A delivery with its whole notice and the resident's address."""
    columns, notice = schema.notice_columns()
    return select(
        _d.c.id.label("delivery_id"), _d.c.channel, _d.c.attempts, *columns, _c.c.email
    ).select_from(
        _d.join(notice, _n.c.id == _d.c.notice_id).outerjoin(_c, _c.c.subject_id == _n.c.subject_id)
    )


_ROW = _row()


def _claim(conn: Connection, delivery_id: int, at: dt.datetime, names: Sequence[str]) -> RowMapping | None:
    """The row if it is still due; on PostgreSQL also locked (skipped if another worker holds it)."""
    stmt = _ROW.where(_d.c.id == delivery_id, _due(at, names))
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=_d, skip_locked=True)
    return conn.execute(stmt).mappings().first()


def _iso_utc(value: Any) -> str:
    """Timestamps as ISO 8601 in UTC (SQLite hands back naive UTC, PostgreSQL aware values)."""
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).isoformat(timespec="seconds")
    return str(value)


def outgoing(row: RowMapping, catalog: Catalog) -> Outgoing:
    """A stored notice (with its resident's address) as the channels send it."""
    text = compose(dict(row), catalog)
    effective = row["effective_on"]
    return Outgoing(
        notice_id=int(row["id"]),
        kind=str(row["kind"]),
        subject_id=str(row["subject_id"]),
        title=text.title,
        body=text.body,
        department=str(row["department"]),
        source_id=str(row["source_id"]),
        effective_on=str(effective)[:10] if effective is not None else None,
        created_at=_iso_utc(row["created_at"]),
        email=row["email"],
    )


@dataclass(frozen=True)
class _Outcome:
    status: str  # delivered | failed | no_address
    error: str | None = None


def _attempt(row: RowMapping, channel: Channel, catalog: Catalog) -> _Outcome:
    if channel.needs_address and not row["email"]:
        return _Outcome("no_address")
    try:
        channel.send(outgoing(row, catalog))
    except DeliveryFailed as exc:
        return _Outcome("failed", str(exc)[:MAX_ERROR] or "failed")
    except Exception as exc:  # a bug in a channel must not stop the others; the row is retried
        return _Outcome("failed", f"internal: {type(exc).__name__}: {exc}"[:MAX_ERROR])
    return _Outcome("delivered")


def _mark(conn: Connection, row: RowMapping, outcome: _Outcome) -> None:
    """Record one outcome; the caller commits it straight away."""
    at = now()
    tries = int(row["attempts"]) + (0 if outcome.status == "no_address" else 1)
    values: dict[str, Any]
    if outcome.status == "delivered":
        values = {"status": "delivered", "delivered_at": at, "next_attempt_at": None, "last_error": None}
    elif outcome.status == "no_address":
        values = {"status": "no_address", "next_attempt_at": None, "last_error": None}
    else:
        values = {"next_attempt_at": at + backoff(tries), "last_error": outcome.error}
    conn.execute(
        update(_d)
        .where(_d.c.id == row["delivery_id"], _d.c.status == "pending")
        .values(attempts=tries, **values)
    )


def _deliver_one(
    store: Store, delivery_id: int, at: dt.datetime, by_name: dict[str, Channel], catalog: Catalog
) -> tuple[str, _Outcome] | None:
    names = list(by_name)
    if store.dialect == "postgresql":  # claim, send and record in one transaction holding the row lock
        with store.begin() as conn:
            row = _claim(conn, delivery_id, at, names)
            if row is None:
                return None
            outcome = _attempt(row, by_name[row["channel"]], catalog)
            _mark(conn, row, outcome)
        return str(row["channel"]), outcome
    with store.begin() as conn:  # SQLite: one worker; never hold the write lock over a send
        row = _claim(conn, delivery_id, at, names)
    if row is None:
        return None
    outcome = _attempt(row, by_name[row["channel"]], catalog)
    with store.begin() as conn:
        _mark(conn, row, outcome)
    return str(row["channel"]), outcome


def deliver_due(
    store: Store, channels: Sequence[Channel], limit: int = 1000, at: dt.datetime | None = None
) -> DeliveryRun:
    """One run: enqueue, then send up to ``limit`` due rows, each committed right after its send.

    ``at`` is the moment rows are due by (default now; tests move it to skip a back-off).
    """
    from guihua.usecases.catalogs import active_catalog  # catalogs imports the notices use case

    by_name = {ch.name: ch for ch in channels}
    run = DeliveryRun(channels={name: dict.fromkeys(_COUNTS, 0) for name in by_name})
    if not by_name:
        return run
    at = at or now()
    with store.begin() as conn:
        enqueue(conn, channels, at)
        catalog = active_catalog(conn).catalog
    after, done = (0, 0), 0
    while done < limit:
        with store.begin() as conn:
            batch = _next_batch(conn, at, list(by_name), after, min(BATCH, limit - done))
        if not batch:
            break
        for delivery_id, notice_id in batch:
            after = (int(notice_id), int(delivery_id))
            result = _deliver_one(store, int(delivery_id), at, by_name, catalog)
            if result is None:
                continue  # taken by another worker, or no longer due
            channel, outcome = result
            done += 1
            if outcome.status != "no_address":  # counted below, with those already waiting
                run.count(channel, "sent" if outcome.status == "delivered" else "failed")
            if outcome.error and len(run.errors) < 5:
                run.errors.append(f"{channel} notice {notice_id}: {outcome.error}")
    _left(store, run, list(by_name))
    return run


def _left(store: Store, run: DeliveryRun, names: Sequence[str]) -> None:
    """After the run: rows still pending (due later or beyond the limit) and waiting for an address."""
    with store.begin() as conn:
        rows = conn.execute(
            select(_d.c.channel, _d.c.status, func.count())
            .where(_d.c.channel.in_(list(names)), _d.c.status.in_(["pending", "no_address"]))
            .group_by(_d.c.channel, _d.c.status)
        ).all()
    for channel, status, n in rows:
        run.channels[channel][status] = int(n)
    run.no_address = sum(c["no_address"] for c in run.channels.values())
    run.pending = sum(c["pending"] for c in run.channels.values())
