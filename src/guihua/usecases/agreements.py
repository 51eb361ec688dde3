"""Departments' data-sharing agreements (spec sections 1 and 3): listed, their changes audited, contacts.

The agreement is part of the catalog (:class:`guihua.core.catalog.Agreement`); a
submission is refused whole outside it (:func:`guihua.usecases.submissions.submitting_department`).
Here: the list operators read every morning, the audit entries a catalog load writes for
every agreement it changes (old and new terms), and the address a department is told at
about its feed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection

from guihua.core.catalog import Agreement, Catalog
from guihua.core.errors import NotFound
from guihua.core.policy import Actor
from guihua.kit.clock import now, today
from guihua.store import feed_alert_queries
from guihua.store.catalog_queries import active_catalog
from guihua.store.database import Store
from guihua.usecases import audit
from guihua.usecases.contacts import check_email, mask_email


def terms(agreement: Agreement | None) -> str:
    """An agreement's terms in one line, as the audit trail and the refusals word them."""
    if agreement is None:
        return "none"
    a = agreement
    every = f"every {a.frequency_days} days" if a.frequency_days else "no promised frequency"
    return f"status {a.status}, valid from {a.valid_from or 'always'} to {a.valid_to or 'open'}, {every}"


def changes(old: Catalog, new: Catalog) -> list[str]:
    """One line per department whose agreement a new catalog changes (added, removed or new terms)."""
    before, after = old.department_by_code, new.department_by_code
    found = []
    for code in sorted(set(before) | set(after)):
        was = before[code].agreement if code in before else None
        now_ = after[code].agreement if code in after else None
        if was != now_:
            found.append(f"{code}: {terms(was)} -> {terms(now_)}")
    return found


def audit_changes(conn: Connection, actor: Actor, old: Catalog | None, new: Catalog, version: int) -> None:
    """An audit entry per changed agreement (``catalog.agreement``), in the catalog load's transaction."""
    if old is None:
        return  # the first catalog establishes the agreements: its load is the entry
    for line in changes(old, new):
        audit.append(conn, actor, "catalog.agreement", detail=f"version {version}: {line}")


def list_agreements(store: Store, at: dt.date | None = None) -> dict[str, Any]:
    """Each department's agreement, its state on ``at`` (default today), legal basis, metrics and contact."""
    with store.begin() as conn:
        active = active_catalog(conn)
        contacts = feed_alert_queries.contacts(conn)
    catalog = active.catalog
    day = at or today(catalog.scheme.timezone)
    rows = []
    for d in catalog.departments:
        a = d.agreement
        rows.append(
            {
                "department": d.code,
                "name": d.name,
                "state": a.state_on(day),
                "in_force": a.in_force(day),
                "status": a.status,
                "valid_from": a.valid_from.isoformat() if a.valid_from else None,
                "valid_to": a.valid_to.isoformat() if a.valid_to else None,
                "frequency_days": a.frequency_days,
                "legal_basis": d.legal_basis,
                "metrics": list(d.metrics),
                "contact_email": contacts.get(d.code),
            }
        )
    return {"at": day.isoformat(), "catalog_version": active.version, "agreements": rows}


def set_contact(store: Store, department: str, email: str, actor: Actor) -> dict[str, Any]:
    """The address a department is told at about its feed (alerts, quality warnings); audited; e-mails
    that waited for one are queued again."""
    address = check_email(email)
    with store.begin() as conn:
        catalog = active_catalog(conn).catalog
        if department not in catalog.department_by_code:
            known = ", ".join(sorted(catalog.department_by_code)) or "none"
            raise NotFound(f"unknown department {department!r}; the catalog has: {known}")
        at = now()
        feed_alert_queries.put_contact(conn, department, address, at)
        requeued = feed_alert_queries.readdress(conn, at, department)
        audit.append(
            conn,
            actor,
            "department_contact.set",
            detail=f"{department}: email {mask_email(address)}; {requeued} requeued",
        )
    return {"department": department, "email": address, "requeued": requeued}
