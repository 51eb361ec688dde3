"""Listing cases (spec section 4): the defaulter list, written once.

A record with ``action: list`` opens the case (subject, metric, case_id) at
its ``occurred_at``; the earliest record with ``action: resolve`` resolves it
at its ``occurred_at``. Only records that count at the date take part: a
suspended or revoked record neither opens nor resolves a case. A subject is a
defaulter from the listing date up to, not including, the resolution date.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from guihua.core.catalog import Catalog
from guihua.engine.counting import counting
from guihua.engine.tables import Tables

if TYPE_CHECKING:
    import ibis.expr.types as ir

CASE_KEY: tuple[str, str, str] = ("subject_id", "metric", "case_id")


def listing_records(records: ir.Table) -> ir.Table:
    """The rows of a listing metric (narrowed first: a backend reads the partial listing index)."""
    return records.filter(records.action.notnull() & records.case_id.notnull())


def case_dates(t: Tables, at: dt.date) -> ir.Table:
    """One row per case seen at ``at``: when it was listed and resolved.

    ``listed_at`` / ``resolved_at``: the earliest counting ``list`` / ``resolve``
    record (null: none); ``department`` and ``rule_id``: of the listing. (A plain
    aggregate: SQLite joins it through an automatic index, where a further
    projection over it made the join a scan per record.)
    """
    r = counting(t, listing_records(t.records), at)
    return r.group_by(list(CASE_KEY)).aggregate(
        listed_at=r.occurred_at.min(where=r.action == "list"),
        resolved_at=r.occurred_at.min(where=r.action == "resolve"),
        department=r.department.min(where=r.action == "list"),
        rule_id=r.rule_id.min(where=r.action == "list"),
    )


def cases(t: Tables, at: dt.date) -> ir.Table:
    """:func:`case_dates` with each case's state at ``at``.

    ``open``: listed on or before ``at`` and not resolved by then (the defaulter
    flag). ``resolved``: resolved on or before ``at``.
    """
    c = case_dates(t, at)
    resolved = c.resolved_at.notnull() & (c.resolved_at <= at)
    is_open = c.listed_at.notnull() & (c.listed_at <= at) & ~resolved
    return c.mutate(open=is_open, resolved=resolved)


def subject_cases(t: Tables, catalog: Catalog, at: dt.date) -> ir.Table:
    """A subject's cases opened on or before ``at`` (open, or resolved by then), oldest first."""
    c = cases(t, at)
    return c.filter(c.listed_at.notnull() & (c.listed_at <= at)).order_by(["listed_at", "case_id"])


def open_cases(t: Tables, catalog: Catalog, at: dt.date) -> ir.Table:
    """Every case open at ``at``: the defaulter list."""
    c = cases(t, at)
    return c.filter(c.open)
