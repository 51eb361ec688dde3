"""How to reach residents: one e-mail address per resident, and the language they read."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, select

from guihua.store import schema
from guihua.store.database import AnyRow

_c = schema.contacts


def put(
    conn: Connection, subject_id: str, email: str | None, at: dt.datetime, lang: str | None = None
) -> None:
    """Set (or first record) a resident's address; ``lang`` None keeps the language already kept."""
    values: dict[str, object] = {"email": email, "updated_at": at}
    if lang is not None:
        values["lang"] = lang
    done = conn.execute(_c.update().where(_c.c.subject_id == subject_id).values(**values))
    if done.rowcount == 0:
        conn.execute(_c.insert().values(subject_id=subject_id, **values))


def get(conn: Connection, subject_id: str) -> AnyRow | None:
    return conn.execute(select(_c).where(_c.c.subject_id == subject_id)).first()
