"""A department's stored records: retract one, see what was refused.

Submitting records is :mod:`guihua.usecases.submissions`.
"""

from __future__ import annotations

import datetime as dt

from guihua.core.errors import Conflict, NotFound
from guihua.core.policy import Actor
from guihua.kit.clock import now, today
from guihua.store import record_queries
from guihua.store.catalog_queries import ensure_catalog
from guihua.store.database import Store
from guihua.usecases import audit


def retract(store: Store, department: str, source_id: str, actor: Actor | None = None) -> dt.datetime:
    """Retract a department's record: it no longer counts; its history stays.

    A retraction carries no data, so it needs no agreement in force: a
    department can always withdraw what it sent.
    """
    with store.begin() as conn:
        catalog = ensure_catalog(conn).catalog
        if department not in catalog.department_by_code:
            raise NotFound(f"unknown department {department!r}")
        row = record_queries.current_record(conn, department, source_id)
        if row is None:
            raise NotFound(f"no record {source_id!r} from {department}")
        if row.retracted_at is not None:
            since = str(row.retracted_at)[:10]
            raise Conflict(f"record {source_id!r} from {department} was already retracted on {since}")
        when = now()
        record_queries.mark_retracted(conn, int(row.id), when, today(catalog.scheme.timezone))
        audit.append(
            conn,
            actor or audit.cli_actor(),
            "records.retract",
            subject_id=row.subject_id,
            detail=f"{department} {source_id}",
        )
    return when


def list_rejects(store: Store, department: str | None = None, limit: int = 1000) -> list[dict[str, object]]:
    """Quarantined rows, newest submission first, with reason, line and the raw row."""
    with store.begin() as conn:
        rows = record_queries.rejects(conn, department, limit)
    return [
        {
            "submission_id": r["submission_id"],
            "department": r["department"],
            "line": r["line"],
            "reason": r["reason"],
            "detail": r["detail"],
            "source_id": r["source_id"],
            "raw": r["raw"],
            "received_at": str(r["received_at"])[:19],
        }
        for r in rows
    ]
