"""Retention: records whose effect ended more than ``retention_years`` ago are deleted.

Deleting is set-based and in one transaction: all versions of each key, the
decided objections about it and the notices about it (their deliveries follow
by cascade). The audit trail gets the counts, never the content.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import ibis
from sqlalchemy import Connection

from guihua.engine import retention as engine
from guihua.engine.score import records_table
from guihua.kit.clock import today
from guihua.store.database import Store
from guihua.usecases import audit
from guihua.usecases.catalogs import ensure_catalog


@dataclass
class PurgeResult:
    cutoff: str
    retention_years: int
    keys: int
    records: int
    objections: int
    notices: int
    held: int
    dry_run: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def purge(store: Store, dry_run: bool = False, actor: audit.Actor | None = None) -> PurgeResult:
    """Delete (or with ``dry_run`` only count) what the scheme no longer may keep."""
    with store.begin() as conn:
        years = ensure_catalog(conn).catalog.scheme.retention_years
        cutoff = years_before(today(), years)
        keys_sql = _sql(engine.purgeable(records_table(), cutoff), store)
        held_sql = _sql(engine.held(records_table(), cutoff), store)
        n_keys = _count(conn, keys_sql)
        n_held = _count(conn, held_sql)
        counts = {t: _count(conn, f"SELECT 1 FROM {t} WHERE {_about(t, keys_sql)}") for t in _TABLES}
        if not dry_run and n_keys:
            for table in ("notices", "objections", "records"):  # what points to a row goes before it
                conn.exec_driver_sql(f"DELETE FROM {table} WHERE {_about(table, keys_sql)}")
        result = PurgeResult(
            str(cutoff),
            years,
            n_keys,
            counts["records"],
            counts["objections"],
            counts["notices"],
            n_held,
            dry_run,
        )
        detail = (
            f"{'dry run: ' if dry_run else ''}{n_keys} keys, {result.records} record versions, "
            f"{result.objections} objections, {result.notices} notices ended before {cutoff}; {n_held} held"
        )
        audit.append(conn, actor or audit.cli_actor(), "records.purge", detail=detail)
    return result


_TABLES = ("records", "objections", "notices")


def _about(table: str, keys_sql: str) -> str:
    """Rows of ``table`` about the keys: records, decided objections, and notices about either."""
    if table == "notices":
        return (
            f"record_id IN (SELECT id FROM records WHERE {_in(keys_sql)}) "
            f"OR objection_id IN (SELECT id FROM objections WHERE {_about('objections', keys_sql)})"
        )
    return _in(keys_sql) + (" AND decision IS NOT NULL" if table == "objections" else "")


def _in(keys_sql: str) -> str:
    return f"(department, source_id) IN (SELECT department, source_id FROM ({keys_sql}) AS k)"


def _sql(expr: Any, store: Store) -> str:
    sql = str(ibis.to_sql(expr, dialect=store.sql_dialect))
    return sql.replace("%", "%%") if store.dialect != "sqlite" else sql


def _count(conn: Connection, sql: str) -> int:
    return int(conn.exec_driver_sql(f"SELECT COUNT(*) FROM ({sql}) AS c").scalar_one())
