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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from sqlalchemy import Connection
from sqlalchemy.engine import RowMapping

from guihua.core.catalog import Catalog
from guihua.core.languages import DEFAULT_LANGUAGE, normalised
from guihua.documents.notice_text import compose
from guihua.kit.clock import now
from guihua.store import delivery_queries
from guihua.store.catalog_queries import active_catalog
from guihua.store.database import Store

BATCH = 20  # rows fetched at a time: small, so a long run keeps picking up what became due
BASE_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(hours=1)
MAX_ERROR = 500  # characters of an error kept in last_error

_COUNTS = ("sent", "failed", "no_address", "pending")


class DeliveryFailed(Exception):
    """A send that did not go through; the message says why (kept in ``last_error``)."""


@dataclass(frozen=True)
class Outgoing:
    """One notice as a channel sends it: worded by :func:`guihua.documents.notice_text.compose`
    in the resident's language (its contact's, else zh-CN)."""

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
    lang: str | None = None  # the language it is worded in (a resident's notice always says)

    id_header: ClassVar[str] = "X-Guihua-Notice-Id"  # the e-mail header that carries ``notice_id``

    @property
    def message_key(self) -> str:
        """What a receiver deduplicates by: ``Idempotency-Key``, and the e-mail's Message-ID."""
        return f"notice-{self.notice_id}"

    @property
    def idempotency_key(self) -> str:
        """The same for every attempt at this notice, on every channel."""
        return self.message_key

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
            "lang": self.lang,
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


def _iso_utc(value: Any) -> str:
    """Timestamps as ISO 8601 in UTC (SQLite hands back naive UTC, PostgreSQL aware values)."""
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).isoformat(timespec="seconds")
    return str(value)


def outgoing(row: RowMapping, catalog: Catalog) -> Outgoing:
    """A stored notice (with its resident's address and language) as the channels send it."""
    text = compose(dict(row), catalog, normalised(row["lang"]) or DEFAULT_LANGUAGE)
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
        lang=text.lang,
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
    retry = at + backoff(int(row["attempts"]) + 1) if outcome.status == "failed" else None
    delivery_queries.record_outcome(conn, row, outcome.status, outcome.error, retry, at)


def _deliver_one(
    store: Store, delivery_id: int, at: dt.datetime, by_name: dict[str, Channel], catalog: Catalog
) -> tuple[str, _Outcome] | None:
    names = list(by_name)
    if not store.single_writer:  # PostgreSQL: claim, send and record in one transaction holding the row lock
        with store.begin() as conn:
            row = delivery_queries.claim(conn, delivery_id, at, names)
            if row is None:
                return None
            outcome = _attempt(row, by_name[row["channel"]], catalog)
            _mark(conn, row, outcome)
        return str(row["channel"]), outcome
    with store.begin() as conn:  # SQLite: one worker; never hold the write lock over a send
        row = delivery_queries.claim(conn, delivery_id, at, names)
    if row is None:
        return None
    outcome = _attempt(row, by_name[row["channel"]], catalog)
    with store.begin() as conn:
        _mark(conn, row, outcome)
    return str(row["channel"]), outcome


def deliver_due(
    store: Store,
    channels: Sequence[Channel],
    limit: int = 1000,
    at: dt.datetime | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> DeliveryRun:
    """One run: enqueue, then send up to ``limit`` due rows, each committed right after its send.

    ``at`` is the moment rows are due by (default now; tests move it to skip a back-off);
    ``on_progress`` hears of each attempt (a slow relay keeps a terminal's spinner turning).
    """
    by_name = {ch.name: ch for ch in channels}
    run = DeliveryRun(channels={name: dict.fromkeys(_COUNTS, 0) for name in by_name})
    if not by_name:
        return run
    at = at or now()
    with store.begin() as conn:
        delivery_queries.enqueue(conn, [(ch.name, ch.needs_address) for ch in channels], at)
        catalog = active_catalog(conn).catalog
    after, done = (0, 0), 0
    while done < limit:
        with store.begin() as conn:
            batch = delivery_queries.next_batch(conn, at, list(by_name), after, min(BATCH, limit - done))
        if not batch:
            break
        for delivery_id, notice_id in batch:
            after = (int(notice_id), int(delivery_id))
            result = _deliver_one(store, int(delivery_id), at, by_name, catalog)
            if result is None:
                continue  # taken by another worker, or no longer due
            channel, outcome = result
            done += 1
            if on_progress is not None:
                on_progress(1)
            if outcome.status != "no_address":  # counted below, with those already waiting
                run.count(channel, "sent" if outcome.status == "delivered" else "failed")
            if outcome.error and len(run.errors) < 5:
                run.errors.append(f"{channel} notice {notice_id}: {outcome.error}")
    _left(store, run, list(by_name))
    return run


def _left(store: Store, run: DeliveryRun, names: Sequence[str]) -> None:
    """After the run: rows still pending (due later or beyond the limit) and waiting for an address."""
    with store.begin() as conn:
        rows = delivery_queries.waiting(conn, names)
    for channel, status, n in rows:
        run.channels[channel][status] = n
    run.no_address = sum(c["no_address"] for c in run.channels.values())
    run.pending = sum(c["pending"] for c in run.channels.values())
