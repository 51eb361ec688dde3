"""Where SQLite and PostgreSQL differ, in one place.

Everything else in ``store/`` is written once: SQLAlchemy Core statements, or
SQL text run through :func:`statement`, which leaves placeholder styles,
``%`` escaping and value types (dates and timestamps, which SQLite keeps as
text) to SQLAlchemy.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Date, DateTime, Table, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.types import TypeEngine

# Placeholders whose values need a SQL type (SQLite stores dates and timestamps as text).
_TYPED: dict[str, TypeEngine[Any]] = {"at": Date(), "created_at": DateTime(timezone=True)}


@lru_cache(maxsize=512)
def statement(sql: str) -> TextClause:
    """SQL text with ``:name`` placeholders as one reusable statement (colons escaped as ``\\:``).

    Reused objects let SQLAlchemy cache their compiled form, so a lookup does
    not re-parse a long engine query each time.
    """
    clause = text(sql)
    typed = [bindparam(name, type_=kind) for name, kind in _TYPED.items() if f":{name}" in sql]
    return clause.bindparams(*typed) if typed else clause


def single_writer(dialect_name: str) -> bool:
    """Whether the store lets one writer at a time in (SQLite): what it wrote, nobody else wrote meanwhile."""
    return dialect_name == "sqlite"


def insert_ignoring(conn: Connection, table: Table) -> Any:
    """``INSERT`` that skips rows clashing with a unique index (``ON CONFLICT DO NOTHING``)."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    return insert(table)


def keys_in(conn: Connection, column: str, keys: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """A condition ``column`` is one of ``keys``, with the keys travelling as a single parameter."""
    if conn.dialect.name == "postgresql":
        return f"{column} = ANY(:keys)", {"keys": list(keys)}
    return f"{column} IN (SELECT value FROM json_each(:keys))", {"keys": json.dumps(list(keys))}


def lock_for_append(conn: Connection, table: str, key: str) -> None:
    """Take the write lock on ``table`` before reading its head (one appender at a time).

    PostgreSQL locks the table; SQLite has one writer per store, which a write
    that changes nothing (``key`` is a never-negative integer column) claims,
    waiting for any other writer.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
    else:
        conn.exec_driver_sql(f"UPDATE {table} SET {key} = {key} WHERE {key} < 0")
