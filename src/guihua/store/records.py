"""Queries on the records table that the use cases need in bulk."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import polars as pl
from sqlalchemy import Connection, text, update

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
    if not source_ids:
        return pl.DataFrame(schema=_EMPTY)
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


def department_has_records(conn: Connection, department: str) -> bool:
    """Whether any current record of ``department`` is stored (one probe of the current-key index)."""
    sql = "SELECT EXISTS (SELECT 1 FROM records WHERE department = :dept AND is_current)"
    return bool(conn.execute(text(sql), {"dept": department}).scalar_one())


def supersede(conn: Connection, ids: list[int]) -> None:
    """Mark these versions as no longer current (a newer version replaces each)."""
    table = schema.records
    for start in range(0, len(ids), 10_000):
        part = ids[start : start + 10_000]
        conn.execute(update(table).where(table.c.id.in_(part)).values(is_current=False))


def table_size_hint(conn: Connection) -> int:
    """Roughly how many record versions are stored (max id: O(log n), unlike count)."""
    return int(conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM records").scalar_one())


# Built once after a bulk load instead of row by row. The current-key index stays: the
# ingest looks keys up in it while loading, and it is cheap to keep up (keys mostly arrive in
# order). So does the listing index: it holds only the few listing records, and building it
# would cost a scan of the whole table.
_DEFERRED_INDEXES = ("ix_records_subject", "ix_records_scored", "ix_notices_subject")


@contextmanager
def bulk_load(conn: Connection, enabled: bool) -> Iterator[None]:
    """For loads larger than what is stored: build the by-subject indexes once, after the rows.

    That is the records' by-subject indexes and the notices' (a load's notices
    are created inside the block).

    Maintaining a b-tree row by row (subjects arrive in random order) costs
    more than sorting once when most of the table is new. SQLite only: the
    whole ingest is one transaction, so no reader ever sees the table without
    its indexes.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    if not enabled:
        yield
        conn.exec_driver_sql("PRAGMA optimize")  # refresh planner statistics when they drifted
        return
    indexes = [*schema.records.indexes, *schema.notices.indexes]
    deferred = [ix for ix in indexes if ix.name in _DEFERRED_INDEXES]
    for ix in deferred:
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {ix.name}")
    yield
    for ix in deferred:
        ix.create(conn)
    conn.exec_driver_sql("PRAGMA analysis_limit=1000")  # sampled statistics: enough for the planner
    conn.exec_driver_sql("ANALYZE")  # without statistics SQLite scans by index, 2x slower


def is_current_key_clash(exc: BaseException) -> bool:
    """A violation of the unique current-key index, whichever driver (or COPY) reported it."""
    text = str(getattr(exc, "orig", None) or exc)
    return "ux_records_current_key" in text or (
        "UNIQUE constraint failed: records.department, records.source_id" in text
    )
