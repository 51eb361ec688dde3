"""Issued certificates of listing status, by verification code."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from guihua.store import schema
from guihua.store.database import AnyRow

_c = schema.certificates


def add(conn: Connection, values: dict[str, Any]) -> None:
    """Raises IntegrityError when the code is taken (the caller draws another)."""
    conn.execute(insert(_c), values)


def by_code(conn: Connection, code: str) -> AnyRow | None:
    return conn.execute(select(_c).where(_c.c.code == code)).first()
