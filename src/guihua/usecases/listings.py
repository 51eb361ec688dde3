"""The defaulter list (spec section 4, listings): who is on it at a date, and one resident's cases.

Which cases are open, and when they were listed and resolved, is the engine's
rule (:mod:`guihua.engine.cases`); this module names them in words.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from guihua.core.catalog import Catalog
from guihua.core.policy import Actor
from guihua.core.results import Listing
from guihua.engine.cases import open_cases, subject_cases
from guihua.kit.clock import as_date
from guihua.store.catalog_queries import active_catalog
from guihua.store.database import Store
from guihua.store.engine_queries import query_rows
from guihua.usecases import audit
from guihua.usecases.scores import scheme_day
from guihua.usecases.subjects import check_subject


def _listing(row: dict[str, Any], catalog: Catalog) -> Listing:
    dept = catalog.department_by_code.get(row["department"] or "")
    rule = catalog.rule_by_id.get(row["rule_id"] or "")
    resolved = as_date(row["resolved_at"]) if row["resolved"] else None
    return Listing(
        subject_id=row["subject_id"],
        department=row["department"] or "",
        department_name=dept.name if dept else (row["department"] or ""),
        metric=row["metric"],
        case_id=row["case_id"],
        listed_on=str(as_date(row["listed_at"])),
        resolved_on=str(resolved) if resolved else None,
        open=bool(row["open"]),
        rule_id=row["rule_id"],
        legal_basis=rule.legal_basis if rule else (dept.legal_basis if dept else ""),
    )


def defaulter_list(
    store: Store, at: dt.date | None = None, actor: Actor | None = None, purpose: str | None = None
) -> tuple[str, list[Listing]]:
    """Every open listing at ``at`` (default today): case, department, since when, its legal basis."""
    with store.begin() as conn:
        active = active_catalog(conn)
        day = scheme_day(active, at)
        rows = query_rows(conn, open_cases, active.catalog, day)
    audit.record(
        store,
        actor or audit.cli_actor(),
        "defaulters.list",
        purpose=purpose,
        detail=f"{len(rows)} open listings at {day}",
    )
    found = [_listing(r, active.catalog) for r in rows]
    return day.isoformat(), sorted(found, key=lambda x: (x.listed_on, x.subject_id, x.case_id))


def cases_of(store: Store, subject_id: str, at: dt.date) -> tuple[Catalog, list[Listing]]:
    """A resident's listing cases opened on or before ``at``, open or resolved by then."""
    sid = check_subject(subject_id)
    with store.begin() as conn:
        catalog = active_catalog(conn).catalog
        rows = query_rows(conn, subject_cases, catalog, at, sid)
    return catalog, [_listing(r, catalog) for r in rows]
