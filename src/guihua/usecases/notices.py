"""What a resident was told: its notices in words, with the state of their delivery.

Notices are created with the records and decisions that cause them
(:mod:`guihua.store.notice_queries`, on the engine's rules); the outbox
(:mod:`guihua.usecases.outbox`) delivers them.
"""

from __future__ import annotations

from typing import Any

from guihua.core.catalog import Catalog
from guihua.core.notice_text import compose
from guihua.core.policy import Actor
from guihua.store import notice_queries
from guihua.store.catalog_queries import active_catalog
from guihua.store.database import Store
from guihua.usecases import audit
from guihua.usecases.subjects import check_subject


def subject_notices(
    store: Store, subject_id: str, actor: Actor | None = None, purpose: str | None = None
) -> list[dict[str, Any]]:
    """A resident's notices as the resident reads them (title, body) with their delivery state.

    The read is audited (``subject.notices``) with the reader's purpose.
    """
    sid = check_subject(subject_id)
    rows = notices_of(store, sid)
    audit.record(store, actor or audit.cli_actor(), "subject.notices", subject_id=sid, purpose=purpose)
    return rows


def notices_of(store: Store, subject_id: str) -> list[dict[str, Any]]:
    """The notices in words, unaudited: for a read audited as a whole (a resident's report)."""
    with store.begin() as conn:
        catalog = active_catalog(conn).catalog
        rows = notice_queries.for_subject(conn, subject_id)
    return [_notice(row, catalog) for row in rows]


def _notice(row: dict[str, Any], catalog: Catalog) -> dict[str, Any]:
    text = compose(row, catalog)
    return {
        "id": row["id"],
        "kind": row["kind"],
        "created_at": str(row["created_at"])[:19],
        "effective_on": str(row["effective_on"])[:10] if row["effective_on"] else None,
        "department": row["department"],
        "source_id": row["source_id"],
        "title": text.title,
        "body": text.body,
        "deliveries": row["deliveries"],
    }
