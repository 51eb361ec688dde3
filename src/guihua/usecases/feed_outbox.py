"""The outbox of feed notices: alerts and quality warnings to departments and operators.

The same outbox as the residents' (:mod:`guihua.usecases.outbox`), for another
audience: one ``feed_deliveries`` row per (notice, channel, recipient) holds the state,
each send is committed right after it, failures back off the same way (30 s doubling,
at most 1 h) and are never dropped, and every notice carries its own key
(``Message-ID: <feed-notice-ID@guihua.local>``, ``Idempotency-Key: feed-notice-ID``),
distinct from residents' notices, so a receiver that deduplicates sees each once.

Routes: e-mail to the department's contact (``guihua contacts set-department``;
``no_address`` until there is one), e-mail to the operators (``--operator-email`` /
``GUIHUA_OPERATOR_EMAIL``, alerts only), and the operators' webhook (``--ops-webhook`` /
``GUIHUA_OPS_WEBHOOK_URL``, alerts only). The residents' webhook never gets a feed
notice: it is a channel to residents.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import Connection
from sqlalchemy.engine import RowMapping

from guihua.kit.clock import now
from guihua.store import feed_alert_queries
from guihua.store.database import Store
from guihua.usecases.outbox import (
    BATCH,
    MAX_ERROR,
    Channel,
    DeliveryFailed,
    DeliveryRun,
    Outgoing,
    backoff,
)

OPS_WEBHOOK = "ops_webhook"  # the channel name of the operators' webhook in feed_deliveries
_COUNTS = ("sent", "failed", "no_address", "pending")


@dataclass(frozen=True)
class FeedOutgoing(Outgoing):
    """A feed notice as the channels send it (its own key, its own webhook body)."""

    id_header: ClassVar[str] = "X-Guihua-Feed-Notice-Id"
    recipient: str = "department"
    episode_id: int | None = None
    submission_id: int | None = None

    @property
    def message_key(self) -> str:
        return f"feed-notice-{self.notice_id}"

    def payload(self) -> dict[str, Any]:
        return {
            "feed_notice_id": self.notice_id,
            "kind": self.kind,
            "department": self.department,
            "recipient": self.recipient,
            "episode_id": self.episode_id,
            "submission_id": self.submission_id,
            "title": self.title,
            "body": self.body,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class Routes:
    """Where feed notices go: each (channel name, recipient) with the channel that sends it."""

    email: Channel | None = None
    operator_email: str | None = None
    ops_webhook: Channel | None = None

    def pairs(self) -> list[tuple[str, str]]:
        found = []
        if self.email is not None:
            found.append(("email", "department"))
            if self.operator_email:
                found.append(("email", "operators"))
        if self.ops_webhook is not None:
            found.append((OPS_WEBHOOK, "operators"))
        return found

    def channel(self, name: str) -> Channel:
        chosen = self.email if name == "email" else self.ops_webhook
        assert chosen is not None
        return chosen


def _iso_utc(value: Any) -> str:
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).isoformat(timespec="seconds")
    return str(value)


def outgoing(row: RowMapping, routes: Routes) -> FeedOutgoing:
    email = row["email"] if row["recipient"] == "department" else routes.operator_email
    return FeedOutgoing(
        notice_id=int(row["id"]),
        kind=str(row["kind"]),
        subject_id="",
        title=str(row["title"]),
        body=str(row["body"]),
        department=str(row["department"]),
        source_id="",
        effective_on=None,
        created_at=_iso_utc(row["created_at"]),
        email=email,
        recipient=str(row["recipient"]),
        episode_id=row["episode_id"],
        submission_id=row["submission_id"],
    )


def _attempt(row: RowMapping, routes: Routes) -> tuple[str, str | None]:
    channel = routes.channel(str(row["channel"]))
    message = outgoing(row, routes)
    if channel.needs_address and not message.email:
        return "no_address", None
    try:
        channel.send(message)
    except DeliveryFailed as exc:
        return "failed", str(exc)[:MAX_ERROR] or "failed"
    except Exception as exc:  # a bug in a channel must not stop the others; the row is retried
        return "failed", f"internal: {type(exc).__name__}: {exc}"[:MAX_ERROR]
    return "delivered", None


def _mark(conn: Connection, row: RowMapping, status: str, error: str | None) -> None:
    at = now()
    retry = at + backoff(int(row["attempts"]) + 1) if status == "failed" else None
    feed_alert_queries.record_outcome(conn, row, status, error, retry, at)


def _deliver_one(
    store: Store, delivery_id: int, at: dt.datetime, routes: Routes
) -> tuple[str, str, str | None] | None:
    pairs = routes.pairs()
    if not store.single_writer:  # PostgreSQL: claim, send and record under the row lock
        with store.begin() as conn:
            row = feed_alert_queries.claim(conn, delivery_id, at, pairs)
            if row is None:
                return None
            status, error = _attempt(row, routes)
            _mark(conn, row, status, error)
        return str(row["channel"]), status, error
    with store.begin() as conn:  # SQLite: never hold the write lock over a send
        row = feed_alert_queries.claim(conn, delivery_id, at, pairs)
    if row is None:
        return None
    status, error = _attempt(row, routes)
    with store.begin() as conn:
        _mark(conn, row, status, error)
    return str(row["channel"]), status, error


def deliver_due(
    store: Store,
    routes: Routes,
    run: DeliveryRun | None = None,
    limit: int = 1000,
    at: dt.datetime | None = None,
) -> DeliveryRun:
    """Enqueue the feed notices on every configured route, send up to ``limit`` due rows; the counts
    are added to ``run`` (the residents' run of the same worker), channel by channel."""
    run = run or DeliveryRun()
    pairs = routes.pairs()
    if not pairs:
        return run
    at = at or now()
    with store.begin() as conn:
        feed_alert_queries.enqueue(conn, pairs, at)
    for name in {c for c, _ in pairs}:
        run.channels.setdefault(name, dict.fromkeys(_COUNTS, 0))
    after, done = 0, 0
    while done < limit:
        with store.begin() as conn:
            batch = feed_alert_queries.next_batch(conn, at, pairs, after, min(BATCH, limit - done))
        if not batch:
            break
        for delivery_id in batch:
            after = delivery_id
            result = _deliver_one(store, delivery_id, at, routes)
            if result is None:
                continue
            channel, status, error = result
            done += 1
            if status != "no_address":
                run.count(channel, "sent" if status == "delivered" else "failed")
            if error and len(run.errors) < 5:
                run.errors.append(f"{channel} feed delivery {delivery_id}: {error}")
    with store.begin() as conn:
        left = feed_alert_queries.waiting(conn, pairs)
    for channel, status, n in left:
        run.channels[channel][status] += n
        if status == "pending":
            run.pending += n
        else:
            run.no_address += n
    return run
