"""Which records have served their time (the scheme's ``retention_years``).

A record's effect *ended* on: the day it was retracted; for a listing record,
the day its case was resolved (never, while the case is open); for a record no
rule matched, the day it occurred; otherwise the end of its adjustment (never,
for a rule without expiry). Records whose effect ended before ``cutoff`` may go,
all versions of the key together, unless an undecided objection holds them.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from guihua.engine.score import objections_table


def _ended(records: ir.Table, cutoff: dt.date) -> ir.Table:
    """(department, source_id) of every key whose current version's effect ended before ``cutoff``."""
    current = records.filter(records.is_current)
    live = current.filter(current.retracted_at.isnull() & (current.action == "resolve"))
    resolved = live.group_by(["subject_id", "metric", "case_id"]).aggregate(
        resolved_on=live.occurred_at.min()
    )
    j = current.left_join(
        resolved,
        [
            current.subject_id == resolved.subject_id,
            current.metric == resolved.metric,
            current.case_id == resolved.case_id,
        ],
    )
    ended = ibis.cases(
        (j.retracted_at.notnull(), j.retracted_at.date()),
        (j.action.notnull(), j.resolved_on),
        (j.rule_id.isnull(), j.occurred_at),
        else_=j.end_date,
    )
    return j.filter(ended.notnull() & (ended < cutoff)).select("department", "source_id")


def _open_objections() -> ir.Table:
    o = objections_table()
    return o.filter(o.decision.isnull()).select("department", "source_id")


def purgeable(records: ir.Table, cutoff: dt.date) -> ir.Table:
    """Keys that may be deleted: ended before ``cutoff`` and held by no undecided objection."""
    done, held = _ended(records, cutoff), _open_objections()
    return done.anti_join(held, [done.department == held.department, done.source_id == held.source_id])


def held(records: ir.Table, cutoff: dt.date) -> ir.Table:
    """Keys that would go but for an undecided objection (reported, never deleted)."""
    done, objected = _ended(records, cutoff), _open_objections()
    return done.semi_join(
        objected, [done.department == objected.department, done.source_id == objected.source_id]
    )
