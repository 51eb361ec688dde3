"""Retention (spec section 8): records whose effect ended more than ``retention_years`` ago go.

What may go is the engine's rule (:mod:`guihua.engine.retention`); this use
case deletes it, set-based and in one transaction: every version of each key,
the decided objections about it and the notices about either (deliveries
follow by cascade). ``dry_run`` counts the same and deletes nothing. The
audit trail gets the counts, never the content.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from guihua.core.policy import Actor
from guihua.engine import retention
from guihua.engine.tables import store_tables
from guihua.kit.clock import today
from guihua.store import record_queries
from guihua.store.catalog_queries import ensure_catalog
from guihua.store.database import Store
from guihua.store.engine_queries import run_once
from guihua.usecases import audit


@dataclass
class PurgeResult:
    today: str
    cutoff: str
    retention_years: int
    keys: int
    records: int
    objections: int
    notices: int
    held: int
    dry_run: bool
    by_department: list[dict[str, Any]] = field(default_factory=list)  # department, metric, keys

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _by_department(keys: pa.Table) -> list[dict[str, Any]]:
    counts = Counter(
        zip(keys.column("department").to_pylist(), keys.column("metric").to_pylist(), strict=True)
    )
    return [{"department": d, "metric": m, "keys": n} for (d, m), n in sorted(counts.items())]


def purge(store: Store, dry_run: bool = False, actor: Actor | None = None) -> PurgeResult:
    """Delete (or with ``dry_run`` only count) what the scheme may no longer keep."""
    with store.begin() as conn:
        catalog = ensure_catalog(conn).catalog
        day = today(catalog.scheme.timezone)
        years = catalog.scheme.retention_years
        cutoff = years_before(day, years)
        found = run_once(conn, retention.expired(store_tables(), catalog, day, cutoff))
        held_flags = pc.cast(found.column("held"), pa.bool_()) if found.num_rows else pa.array([], pa.bool_())
        keys, held = found.filter(pc.invert(held_flags)), found.filter(held_flags)
        record_queries.stage_keys(conn, keys)
        counts = record_queries.count_staged(conn)
        if not dry_run and keys.num_rows:
            record_queries.delete_staged(conn)
        result = PurgeResult(
            today=day.isoformat(),
            cutoff=cutoff.isoformat(),
            retention_years=years,
            keys=keys.num_rows,
            records=counts["records"],
            objections=counts["objections"],
            notices=counts["notices"],
            held=held.num_rows,
            dry_run=dry_run,
            by_department=_by_department(keys) if keys.num_rows else [],
        )
        detail = (
            f"{'dry run: ' if dry_run else ''}{result.keys} keys, {result.records} record versions, "
            f"{result.objections} objections, {result.notices} notices ended before {cutoff}; "
            f"{result.held} held"
        )
        audit.append(conn, actor or audit.cli_actor(), "records.purge", detail=detail)
    return result
