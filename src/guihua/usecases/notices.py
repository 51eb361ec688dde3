"""Creating notices to residents (the outbox's input), set-based, in the storing transaction.

Every stored record that produces a negative adjustment or opens a listing gets a
notice; a record that resolves an open case gets a repair notice; a reviewer's
decision gets a decision notice. Unique indexes make each of these idempotent,
so re-matching after a catalog load or re-running never notifies twice.
Delivery (e-mail, webhook) is :mod:`guihua.notices.outbox`'s business.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, insert, select

from guihua.core.notice_text import compose
from guihua.store import schema
from guihua.store.database import Store

# A notice per record version, kind and rule: a correction that still penalises is a new event
# the resident must hear about; re-matching to another rule too. ON CONFLICT without a target:
# the unique index is partial and on an expression (SQLite and PostgreSQL both take it so).
_PENALTIES = """
INSERT INTO notices (subject_id, kind, record_id, rule_id, points, effective_on, case_id, created_at)
SELECT r.subject_id, CASE WHEN r.action = 'list' THEN 'listing' ELSE 'penalty' END, r.id,
       r.rule_id, r.points, COALESCE(r.start_date, r.occurred_at), r.case_id, :created_at
FROM records r
WHERE r.is_current AND r.retracted_at IS NULL AND (r.points < 0 OR r.action = 'list') {scope}
ON CONFLICT DO NOTHING
"""

# One repair notice per case, whichever resolution record arrives first.
_REPAIRS = """
INSERT INTO notices (subject_id, kind, record_id, rule_id, points, effective_on, case_id, dedupe_key,
                     created_at)
SELECT r.subject_id, 'repair', r.id, r.rule_id, r.points, r.occurred_at, r.case_id,
       'repair:' || r.subject_id || ':' || r.metric || ':' || r.case_id, :created_at
FROM records r
WHERE r.is_current AND r.retracted_at IS NULL AND r.action = 'resolve' {scope}
  AND EXISTS (SELECT 1 FROM records l
              WHERE l.is_current AND l.retracted_at IS NULL AND l.action = 'list'
                AND l.subject_id = r.subject_id AND l.metric = r.metric AND l.case_id = r.case_id)
  AND r.occurred_at = (SELECT MIN(o.occurred_at) FROM records o
              WHERE o.is_current AND o.retracted_at IS NULL AND o.action = 'resolve'
                AND o.subject_id = r.subject_id AND o.metric = r.metric AND o.case_id = r.case_id)
ON CONFLICT DO NOTHING
"""


def create_for_records(
    conn: Connection, created_at: dt.datetime, submission_id: int | None = None, after_id: int = 0
) -> None:
    """Notices for the records of one submission, or (after re-matching) for every record.

    ``after_id``: every row of the submission has a larger id (the caller read the
    largest id before storing), so the primary key finds them without scanning
    the whole table (``submission_id`` has no index: it is only ever asked here).
    """
    scope = "AND r.submission_id = :submission AND r.id > :after" if submission_id is not None else ""
    params: dict[str, Any] = {"created_at": _timestamp(conn, created_at)}
    if submission_id is not None:
        params["submission"] = submission_id
        params["after"] = after_id
    for sql in (_PENALTIES, _REPAIRS):
        conn.exec_driver_sql(_bind(sql.format(scope=scope), conn), params)


def _timestamp(conn: Connection, value: dt.datetime) -> Any:
    """SQLite keeps timestamps as text in SQLAlchemy's own layout; PostgreSQL takes the value."""
    if conn.dialect.name == "sqlite":
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _bind(sql: str, conn: Connection) -> str:
    """``:name`` placeholders for SQLite, ``%(name)s`` for psycopg."""
    if conn.dialect.name == "sqlite":
        return sql
    for name in ("created_at", "submission", "after"):
        sql = sql.replace(f":{name}", f"%({name})s")
    return sql


def create_decision(
    conn: Connection, objection: Any, decision: str, created_at: dt.datetime, decided_on: dt.date
) -> None:
    """The notice that tells a resident how its objection was decided."""
    conn.execute(
        insert(schema.notices).values(
            dedupe_key=f"decision:{objection.id}",
            subject_id=objection.subject_id,
            kind="decision",
            case_id=decision,
            objection_id=objection.id,
            effective_on=decided_on,
            created_at=created_at,
        )
    )


def for_subject(conn: Connection, subject_id: str) -> list[dict[str, Any]]:
    """A resident's notices, newest first, each with the state of its deliveries."""
    n, d = schema.notices, schema.deliveries
    columns, source = schema.notice_columns()
    stmt = select(*columns).select_from(source).where(n.c.subject_id == subject_id).order_by(n.c.id.desc())
    rows = conn.execute(stmt).mappings()
    notices = [dict(r) for r in rows]
    if not notices:
        return []
    ids = [r["id"] for r in notices]
    states: dict[int, list[dict[str, Any]]] = {}
    for row in conn.execute(
        select(d.c.notice_id, d.c.channel, d.c.status, d.c.attempts, d.c.delivered_at).where(
            d.c.notice_id.in_(ids)
        )
    ).mappings():
        states.setdefault(row["notice_id"], []).append(
            {
                "channel": row["channel"],
                "status": row["status"],
                "attempts": row["attempts"],
                "delivered_at": str(row["delivered_at"])[:19] if row["delivered_at"] else None,
            }
        )
    for r in notices:
        r["deliveries"] = states.get(r["id"], [])
    return notices


def subject_notices(store: Store, subject_id: str) -> list[dict[str, Any]]:
    """A resident's notices as the resident reads them (title, body) with their delivery state."""
    from guihua.usecases.catalogs import active_catalog  # catalogs imports this module (re-match notices)

    with store.begin() as conn:
        catalog = active_catalog(conn).catalog
        rows = for_subject(conn, subject_id)
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
