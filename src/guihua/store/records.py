"""Queries on the records table that the use cases need in bulk."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import polars as pl
from sqlalchemy import Connection, update

from guihua.store import schema

_CURRENT_COLUMNS = "r.source_id, r.id, r.version, r.subject_id, r.metric, r.occurred_at, r.fields"
_EMPTY = {
    "source_id": pl.String,
    "id": pl.Int64,
    "version": pl.Int32,
    "subject_id": pl.String,
    "metric": pl.String,
    "occurred_at": pl.Date,
    "fields": pl.String,
}


def current_versions(conn: Connection, department: str, source_ids: list[str]) -> pl.DataFrame:
    """The stored current version of each of these keys (the keys travel as one parameter)."""
    if conn.dialect.name == "postgresql":
        sql = (
            f"SELECT {_CURRENT_COLUMNS} FROM records r "
            "WHERE r.department = %(dept)s AND r.is_current AND r.source_id = ANY(%(keys)s)"
        )
        params: object = {"dept": department, "keys": source_ids}
    else:
        sql = (
            f"SELECT {_CURRENT_COLUMNS} FROM records r "
            "WHERE r.department = ? AND r.is_current AND r.source_id IN (SELECT value FROM json_each(?))"
        )
        params = (department, json.dumps(source_ids))
    rows = conn.exec_driver_sql(sql, params).fetchall()  # type: ignore[arg-type]
    if not rows:
        return pl.DataFrame(schema=_EMPTY)
    df = pl.DataFrame([tuple(r) for r in rows], schema=list(_EMPTY), orient="row")
    return df.with_columns(pl.col("occurred_at").cast(pl.String).str.slice(0, 10).str.to_date())


def supersede(conn: Connection, ids: list[int]) -> None:
    """Mark these versions as no longer current (a newer version replaces each)."""
    table = schema.records
    for start in range(0, len(ids), 10_000):
        part = ids[start : start + 10_000]
        conn.execute(update(table).where(table.c.id.in_(part)).values(is_current=False))


def table_size_hint(conn: Connection) -> int:
    """Roughly how many record versions are stored (max id: O(log n), unlike count)."""
    return int(conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM records").scalar_one())


@contextmanager
def bulk_load(conn: Connection, enabled: bool) -> Iterator[None]:
    """For loads larger than what is stored: build the subject index once, after the rows.

    Maintaining a b-tree row by row costs more than sorting once when most of
    the table is new. SQLite only: the whole ingest is one transaction, so no
    reader ever sees the table without its index.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    if not enabled:
        yield
        conn.exec_driver_sql("PRAGMA optimize")  # refresh planner statistics when they drifted
        return
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_records_subject")
    yield
    conn.exec_driver_sql(
        "CREATE INDEX ix_records_subject ON records (subject_id, retracted_at) WHERE is_current"
    )
    conn.exec_driver_sql("PRAGMA analysis_limit=1000")  # sampled statistics: enough for the planner
    conn.exec_driver_sql("ANALYZE")  # without statistics SQLite scans by index, 2x slower
