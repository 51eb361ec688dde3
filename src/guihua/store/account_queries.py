"""Accounts of the service: roles, bindings, token hashes (never tokens)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from guihua.store import schema
from guihua.store.database import AnyRow

_a = schema.accounts
_BY_TOKEN = select(_a).where(_a.c.token_hash == bindparam("token_hash"))


def by_name(conn: Connection, name: str) -> AnyRow | None:
    return conn.execute(select(_a).where(_a.c.name == name)).first()


def by_token_hash(conn: Connection, digest: str) -> AnyRow | None:
    return conn.execute(_BY_TOKEN, {"token_hash": digest}).first()


def add(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(insert(_a).values(**values))


def all_accounts(conn: Connection) -> list[AnyRow]:
    return list(conn.execute(select(_a).order_by(_a.c.name)).all())


def replace_token(conn: Connection, account_id: int, digest: str, expires: dt.datetime) -> None:
    conn.execute(update(_a).where(_a.c.id == account_id).values(token_hash=digest, token_expires_at=expires))


def mark_revoked(conn: Connection, account_id: int, when: dt.datetime) -> None:
    conn.execute(update(_a).where(_a.c.id == account_id).values(revoked_at=when))
