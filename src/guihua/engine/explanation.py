"""Why a score is what it is: every current record behind it, its effective dates, state and caps.

This is what a resident reads (``guihua explain``, the report, the portal):
each record with its rule, its effective start and end, whether it counts at
the date and why not, and which yearly cap cut its category short.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from guihua.core.catalog import Catalog
from guihua.engine.adjustments import adjustments
from guihua.engine.lazy_ibis import ibis
from guihua.engine.objection_state import latest_state
from guihua.engine.scoring import contributions
from guihua.engine.tables import Tables

if TYPE_CHECKING:
    import ibis.expr.types as ir

# A record's status at the date, first that applies:
STATUSES: tuple[str, ...] = (
    "retracted",  # the department retracted it: it never counts
    "protected",  # a protected attribute: collected for fairness audits only, never scored
    "no_rule",  # no rule of the catalog applies to it
    "suspended",  # an objection undecided for 30 days: it does not count until a decision
    "revoked",  # a reviewer revoked it: it no longer counts
    "disputed",  # an objection is open: it still counts
    "counting",  # it counts today
    "pending",  # its effect starts later (notice days, or the day it was received)
    "expired",  # its effect ended
)


def explanation(t: Tables, catalog: Catalog, at: dt.date) -> ir.Table:
    """Every current version of ``t.records`` (narrow it to one subject) with its state at ``at``.

    ``effective_end`` is the end as the engine applies it (cut at a case's
    resolution); retracted and withheld records keep their own end.
    """
    current = t.records.filter(t.records.is_current)
    adj = adjustments(t, at)
    objected = latest_state(t, at)
    caps = contributions(t, catalog, at)
    # one SELECT over one chain of joins: SQLite < 3.46 refuses queries nested much deeper
    j = (
        current.left_join(adj, current.id == adj.id)
        .left_join(
            objected, [current.department == objected.department, current.source_id == objected.source_id]
        )
        .left_join(
            caps,
            [
                current.subject_id == caps.subject_id,
                current.category == caps.category,
                current.start_year == caps.start_year,
            ],
        )
    )
    counts = adj.id.notnull()
    effective_end = ibis.cases((counts, adj.end_date), else_=current.end_date)
    active = (
        counts & (current.start_date <= at) & (effective_end.isnull() | (effective_end > at))
    ).fill_null(False)
    state = objected.objection_state
    return j.select(
        *(current[c] for c in _SHOWN),
        effective_end=effective_end,
        active=active,
        counts=counts,
        objection_state=state,
        status=_status(current, state, active, catalog, at),
        retracted=current.retracted_at.notnull(),
        gain_capped=active & caps.gain_capped.fill_null(False),
        loss_capped=active & caps.loss_capped.fill_null(False),
    ).order_by(["occurred_at", "department", "source_id"])


_SHOWN = (
    "id",
    "department",
    "source_id",
    "version",
    "subject_id",
    "metric",
    "occurred_at",
    "received_on",
    "fields",
    "rule_id",
    "points",
    "category",
    "start_date",
    "start_year",
    "case_id",
    "action",
)


def _status(
    r: ir.Table, objection: ir.StringValue, active: ir.BooleanValue, catalog: Catalog, at: dt.date
) -> ir.StringValue:
    protected = [m.code for m in catalog.metrics if m.protected]
    is_protected = r.metric.isin(protected) if protected else ibis.literal(False)
    return ibis.cases(
        (r.retracted_at.notnull(), "retracted"),
        (is_protected, "protected"),
        (r.rule_id.isnull(), "no_rule"),
        (objection.isin(["suspended", "revoked"]).fill_null(False), objection),
        (active & (objection == "open").fill_null(False), "disputed"),
        (active, "counting"),
        (r.start_date > at, "pending"),
        else_="expired",
    )
