"""What a resident was told: its notices in words, with the state of their delivery.

Notices are created with the records and decisions that cause them
(:mod:`guihua.store.notice_queries`, on the engine's rules); the outbox
(:mod:`guihua.usecases.outbox`) delivers them. They are worded when read, in the language
asked for, else the one kept with the resident's contact, else zh-CN
(:func:`resident_language`): the e-mail and the list say the same thing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from guihua.core.catalog import Catalog
from guihua.core.languages import DEFAULT_LANGUAGE, Language, normalised
from guihua.core.policy import Actor
from guihua.documents.notice_text import compose
from guihua.store import contact_queries, notice_queries
from guihua.store.catalog_queries import active_catalog
from guihua.store.database import Store
from guihua.usecases import audit
from guihua.usecases.subjects import check_subject


def subject_notices(
    store: Store,
    subject_id: str,
    actor: Actor | None = None,
    purpose: str | None = None,
    lang: Language | None = None,
) -> list[dict[str, Any]]:
    """A resident's notices as the resident reads them (title, body) with their delivery state.

    ``lang`` None: the resident's own language (its contact's), else zh-CN. The read is audited
    (``subject.notices``) with the reader's purpose.
    """
    sid = check_subject(subject_id)
    rows = notices_of(store, sid, lang)
    audit.record(store, actor or audit.cli_actor(), "subject.notices", subject_id=sid, purpose=purpose)
    return rows


def resident_language(conn: Connection, subject_id: str) -> Language:
    """The language the resident's contact asks for, else zh-CN (what notices are sent in)."""
    row = contact_queries.get(conn, subject_id)
    return normalised(row.lang if row is not None else None) or DEFAULT_LANGUAGE


def notices_of(store: Store, subject_id: str, lang: Language | None = None) -> list[dict[str, Any]]:
    """The notices in words, unaudited: for a read audited as a whole (a resident's report)."""
    with store.begin() as conn:
        catalog = active_catalog(conn).catalog
        rows = notice_queries.for_subject(conn, subject_id)
        chosen = lang or resident_language(conn, subject_id)
    return [_notice(row, catalog, chosen) for row in rows]


def _notice(row: dict[str, Any], catalog: Catalog, lang: Language) -> dict[str, Any]:
    text = compose(row, catalog, lang)
    return {
        "id": row["id"],
        "kind": row["kind"],
        "created_at": str(row["created_at"])[:19],
        "effective_on": str(row["effective_on"])[:10] if row["effective_on"] else None,
        "department": row["department"],
        "source_id": row["source_id"],
        "lang": text.lang,
        "title": text.title,
        "body": text.body,
        "deliveries": row["deliveries"],
    }
