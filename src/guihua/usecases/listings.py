"""The defaulter list (spec section 4, listings): who is on it at a date, and one resident's cases."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import ibis.expr.types as ir

from guihua.core.catalog import Catalog
from guihua.engine import score as engine
from guihua.engine.runner import query_rows
from guihua.kit.clock import as_date, today
from guihua.store.database import Store
from guihua.usecases import audit
from guihua.usecases.catalogs import active_catalog
from guihua.usecases.subjects import check_subject

RECORDS = engine.records_table()


@dataclass
class Listing:
    subject_id: str
    department: str
    department_name: str
    metric: str
    case_id: str
    listed_on: str
    resolved_on: str | None  # only when resolved on or before the date asked about
    open: bool
    rule_id: str | None
    legal_basis: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _listing(row: dict[str, Any], catalog: Catalog, at: dt.date) -> Listing:
    dept = catalog.department_by_code.get(row["department"] or "")
    rule = catalog.rule_by_id.get(row["rule_id"] or "")
    listed, resolved = as_date(row["listed_at"]), as_date(row["resolved_at"])
    resolved_by_then = resolved if resolved is not None and resolved <= at else None
    return Listing(
        subject_id=row["subject_id"],
        department=row["department"] or "",
        department_name=dept.name if dept else (row["department"] or ""),
        metric=row["metric"],
        case_id=row["case_id"],
        listed_on=str(listed),
        resolved_on=str(resolved_by_then) if resolved_by_then else None,
        open=resolved_by_then is None,
        rule_id=row["rule_id"],
        legal_basis=rule.legal_basis if rule else (dept.legal_basis if dept else ""),
    )


def _open_listings(records: ir.Table, catalog: Catalog, at: dt.date) -> ir.Table:
    return engine.defaulters(records, at)


def defaulter_list(
    store: Store, at: dt.date | None = None, actor: audit.Actor | None = None
) -> list[Listing]:
    """Every open listing at ``at``: case, department, since when, and its legal basis."""
    at = at or today()
    with store.begin() as conn:
        catalog = active_catalog(conn).catalog
        rows = query_rows(conn, _open_listings, RECORDS, catalog, store.sql_dialect, at)
    audit.record(
        store, actor or audit.cli_actor(), "defaulters.list", detail=f"{len(rows)} open listings at {at}"
    )
    found = [_listing(r, catalog, at) for r in rows]
    return sorted(found, key=lambda x: (x.listed_on, x.subject_id, x.case_id))


def cases_of(store: Store, subject_id: str, at: dt.date) -> tuple[Catalog, list[Listing]]:
    """A resident's listing cases opened on or before ``at``, open or resolved by then."""
    sid = check_subject(subject_id)
    with store.begin() as conn:
        catalog = active_catalog(conn).catalog
        rows = query_rows(conn, engine.listings, RECORDS, catalog, store.sql_dialect, at, sid)
    listed = [r for r in rows if r["listed_at"] is not None and as_date(r["listed_at"]) <= at]  # type: ignore[operator]
    return catalog, sorted((_listing(r, catalog, at) for r in listed), key=lambda x: (x.listed_on, x.case_id))
