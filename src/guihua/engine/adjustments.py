"""Adjustments (spec sections 4 and 5): what each counting record does to a score, and when.

A record's matched rule, points, category and start are stored beside it at
matching time (:mod:`guihua.engine.match`); what depends on other records (a
listing's resolution ending its penalty) is decided here, at the date asked.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from guihua.engine.cases import CASE_KEY, case_dates
from guihua.engine.counting import counting
from guihua.engine.lazy_ibis import ibis
from guihua.engine.tables import Tables

if TYPE_CHECKING:
    import ibis.expr.types as ir


def least_date(a: ir.DateValue, b: ir.DateValue) -> ir.DateValue:
    """NULL-aware least: a null date means 'never', not 'unknown' (SQLite's MIN would say null)."""
    return ibis.cases((a.isnull(), b), (b.isnull(), a), else_=ibis.least(a, b))


def adjustments(t: Tables, at: dt.date) -> ir.Table:
    """Records counting at ``at`` that matched a rule, with ``end_date`` their effective end.

    The effective end is ``start + valid_days`` (null: none), cut at the
    resolution of the record's case for a ``list`` record: paying the debt
    repairs the score.
    """
    r = counting(t, t.records.filter(t.records.rule_id.notnull()), at)  # narrowed first: the partial index
    c = case_dates(t, at)
    resolution = ibis.cases((r.action == "list", c.resolved_at), else_=None)
    # one SELECT over the join (no mutate/drop layers): SQLite < 3.46 refuses deeply nested queries
    return r.left_join(c, [r[k] == c[k] for k in CASE_KEY]).select(
        *(r[name] for name in r.columns if name != "end_date"), end_date=least_date(r.end_date, resolution)
    )


def is_active(adj: ir.Table, at: dt.date) -> ir.BooleanValue:
    """Active at ``at``: started on or before, not yet ended (the end is exclusive)."""
    return (adj.start_date <= at) & (adj.end_date.isnull() | (adj.end_date > at))
