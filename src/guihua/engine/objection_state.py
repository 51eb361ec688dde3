"""An objection's state at a date (spec section 7), the one definition every reader uses.

From the day an objection is filed until a decision, the record is *disputed*
(state ``open``: it still counts). If no decision is made within 30 days, the
record is *suspended* from the 30th day after filing until the decision day.
A decision takes effect on the day it is made: ``upheld``, ``corrected`` or
``revoked``. Before its filing day an objection has no state (null).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from guihua.core.catalog import Catalog
from guihua.engine.lazy_ibis import ibis
from guihua.engine.tables import Tables

if TYPE_CHECKING:
    import ibis.expr.types as ir

SUSPENSION_DAYS = 30
DECISIONS: dict[str, str] = {"uphold": "upheld", "correct": "corrected", "revoke": "revoked"}
STATES: tuple[str, ...] = ("open", "suspended", "upheld", "corrected", "revoked")
WITHHOLDING: tuple[str, ...] = ("suspended", "revoked")  # states in which the record does not count


def suspends_on(filed_on: dt.date) -> dt.date:
    """The day an undecided objection suspends its record (stored at filing: no date arithmetic in SQL)."""
    return filed_on + dt.timedelta(days=SUSPENSION_DAYS)


def state(o: ir.Table, at: dt.date) -> ir.StringValue:
    """open | suspended | upheld | corrected | revoked at ``at``; null before the filing day."""
    decided = o.decision.notnull() & (o.decided_on <= at)
    return ibis.cases(
        (o.filed_on > at, ibis.null().cast("string")),
        (decided, o.decision),
        (o.suspends_on <= at, ibis.literal("suspended")),
        else_=ibis.literal("open"),
    )


def objections_at(t: Tables, catalog: Catalog, at: dt.date) -> ir.Table:
    """Every objection (a subject's own, when ``t.subject`` is set) with its ``state`` at ``at``."""
    o = t.objections if t.subject is None else t.objections.filter(t.objections.subject_id == t.subject)
    return o.mutate(state=state(o, at)).order_by("id")


def withheld(t: Tables, at: dt.date) -> ir.Table:
    """Record keys that do not count at ``at`` because of an objection (suspended or revoked)."""
    o = t.objections
    return o.filter(state(o, at).isin(WITHHOLDING)).select("department", "source_id")


def latest_state(t: Tables, at: dt.date) -> ir.Table:
    """Per record key: the state at ``at`` of its latest objection filed by then (for explanations)."""
    o = t.objections.filter(t.objections.filed_on <= at)
    last = o.group_by(["department", "source_id"]).aggregate(last_id=o.id.max())
    j = o.join(last, o.id == last.last_id)
    return j.select("department", "source_id", objection_state=state(j, at))


def undecided(t: Tables) -> ir.Table:
    """Record keys an undecided objection holds (never purged; spec section 8)."""
    o = t.objections
    return o.filter(o.decision.isnull()).select("department", "source_id").distinct()
