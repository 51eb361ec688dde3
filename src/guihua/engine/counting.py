"""Which records count at a date (spec sections 3, 5 and 7): the one definition.

A record counts at ``at`` when it is the current version of its key, it was
not retracted, and no objection withholds its key at ``at`` (suspended, or
revoked by then). Scores, listings, explanations, notices and retention all
start from here.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from guihua.engine.objection_state import withheld
from guihua.engine.tables import Tables

if TYPE_CHECKING:
    import ibis.expr.types as ir


def live(records: ir.Table) -> ir.Table:
    """Current versions that were not retracted (before objections are considered)."""
    return records.filter(records.is_current & records.retracted_at.isnull())


def counting(t: Tables, records: ir.Table, at: dt.date) -> ir.Table:
    """The rows of ``records`` (a narrowing of ``t.records``) that count at ``at``.

    Callers narrow first (to the rows with a rule, or with a listing action),
    so that a backend reads a partial index instead of every record.
    """
    current = live(records)
    held = withheld(t, at)
    return current.anti_join(
        held, [current.department == held.department, current.source_id == held.source_id]
    )
