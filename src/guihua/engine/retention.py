"""Retention (spec section 8): when a record's effect ended, and which records may be purged.

A record's effect ended, for its key's current version:

- retracted: on the day it was retracted; revoked: on the day of the decision;
- a record of a listing case: once the case is resolved, on the latest of the
  resolution and the effective ends of the case's adjustments (never while the
  case is open, or while one of its adjustments has no end); the case's
  records go together;
- a record that matched no rule: on its ``occurred_at``;
- otherwise on its adjustment's effective end (never, without one).

Kept whatever their age: a key held by an undecided objection (and every
record of a case one of whose records is held), and the most recent counting
record of each (subject, protected metric), which fairness audits need. What
is purged never counts at the purge date or later, so no score, defaulter flag
or perk changes then (a property test checks it on both stores).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from guihua.core.catalog import Catalog
from guihua.engine.adjustments import adjustments
from guihua.engine.cases import CASE_KEY, cases, listing_records
from guihua.engine.counting import counting
from guihua.engine.lazy_ibis import ibis
from guihua.engine.objection_state import state, undecided
from guihua.engine.tables import Tables

if TYPE_CHECKING:
    import ibis.expr.types as ir

KEY: tuple[str, str] = ("department", "source_id")


def _greatest_date(a: ir.DateValue, b: ir.DateValue) -> ir.DateValue:
    """NULL-aware greatest: a null here means 'no such date', so the other one stands."""
    return ibis.cases((a.isnull(), b), (b.isnull(), a), else_=ibis.greatest(a, b))


def _case_ends(t: Tables, at: dt.date) -> ir.Table:
    """Per case: the day its effect ended (null: not yet, or never)."""
    c = cases(t, at)
    adj = adjustments(t, at)
    adj = adj.filter(adj.case_id.notnull() & adj.action.notnull())
    ends = adj.group_by(list(CASE_KEY)).aggregate(
        last_end=adj.end_date.max(), endless=adj.end_date.isnull().any()
    )
    j = c.left_join(ends, [c[k] == ends[k] for k in CASE_KEY])
    ended = ibis.cases(
        (~j.resolved, ibis.null().cast("date")),
        (j.endless.fill_null(False), ibis.null().cast("date")),
        else_=_greatest_date(j.resolved_at, j.last_end),
    )
    return j.select(*CASE_KEY, case_ended=ended)


def _revoked(t: Tables, at: dt.date) -> ir.Table:
    o = t.objections
    r = o.filter(state(o, at) == "revoked")
    return r.group_by(list(KEY)).aggregate(revoked_on=r.decided_on.max())


def effect_ended(t: Tables, at: dt.date) -> ir.Table:
    """Every current version with ``ended_on``: the day its effect ended as seen at ``at`` (null: not)."""
    current = t.records.filter(t.records.is_current)
    adj = adjustments(t, at).select("id", effective_end=lambda a: a.end_date)
    revoked = _revoked(t, at)
    case_ends = _case_ends(t, at)
    j = (
        current.left_join(adj, current.id == adj.id)
        .left_join(revoked, [current[k] == revoked[k] for k in KEY])
        .left_join(case_ends, [current[k] == case_ends[k] for k in CASE_KEY])
    )
    in_case = j.action.notnull() & j.case_id.notnull()
    ended = ibis.cases(
        (j.retracted_at.notnull(), j.retracted_on),
        (j.revoked_on.notnull(), j.revoked_on),
        (in_case, j.case_ended),
        (j.rule_id.isnull(), j.occurred_at),
        else_=j.effective_end,
    )
    return j.select("id", *KEY, *CASE_KEY, ended_on=ended)


def _held(t: Tables) -> ir.Table:
    """Keys an undecided objection holds, and every key of a case one of whose records is held."""
    keys = undecided(t)
    listing = listing_records(t.records.filter(t.records.is_current))
    held_listing = listing.semi_join(keys, [listing[k] == keys[k] for k in KEY])
    held_cases = held_listing.select(*CASE_KEY).distinct()
    same_case = listing.semi_join(held_cases, [listing[k] == held_cases[k] for k in CASE_KEY])
    return keys.union(same_case.select(*KEY)).distinct()


def _latest_protected(t: Tables, catalog: Catalog, at: dt.date) -> ir.Table:
    """The most recent counting record of each (subject, protected metric): kept for fairness audits."""
    protected = [m.code for m in catalog.metrics if m.protected]
    if not protected:
        return t.records.filter(ibis.literal(False)).select(*KEY)
    r = counting(t, t.records.filter(t.records.metric.isin(protected)), at)
    rank = ibis.row_number().over(
        group_by=[r.subject_id, r.metric], order_by=[r.occurred_at.desc(), r.id.desc()]
    )
    return r.mutate(rank=rank).filter(lambda x: x["rank"] == 0).select(*KEY)


def _ended_before(t: Tables, catalog: Catalog, at: dt.date, cutoff: dt.date) -> ir.Table:
    e = effect_ended(t, at)
    done = e.filter(e.ended_on.notnull() & (e.ended_on < cutoff))
    kept = _latest_protected(t, catalog, at)
    return done.anti_join(kept, [done[k] == kept[k] for k in KEY])


def expired(t: Tables, catalog: Catalog, at: dt.date, cutoff: dt.date) -> ir.Table:
    """Keys (with subject and metric) whose effect ended before ``cutoff``, each with ``held``:
    true where an undecided objection keeps it (reported, never deleted), false where it may go."""
    done, holding = _ended_before(t, catalog, at, cutoff), _held(t)
    flagged = holding.mutate(held=ibis.literal(True))
    j = done.left_join(flagged, [done[k] == flagged[k] for k in KEY])
    return j.select(*(done[k] for k in KEY), done.subject_id, done.metric, held=j.held.fill_null(False))
