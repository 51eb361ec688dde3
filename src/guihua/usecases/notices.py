"""What a resident was told: its notices in words, with the state of their delivery.

Notices are created with the records and decisions that cause them
(:mod:`guihua.store.notice_queries`, on the engine's rules); the outbox
(:mod:`guihua.usecases.outbox`) delivers them.
"""

from __future__ import annotations

from typing import Any

from guihua.core.notice_text import compose
from guihua.store import notice_queries
from guihua.store.catalog_queries import active_catalog
from guihua.store.database import Store


def subject_notices(store: Store, subject_id: str) -> list[dict[str, Any]]:
    """A resident's notices as the resident reads them (title, body) with their delivery state."""
    with store.begin() as conn:
        catalog = active_catalog(conn).catalog
        rows = notice_queries.for_subject(conn, subject_id)
    out = []
    for row in rows:
        text = compose(row, catalog)
        out.append(
            {
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
        )
    return out
