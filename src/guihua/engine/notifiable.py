"""What residents must be told about stored records (the notices' input), by the engine's own rules.

A record that counts and lowers a score, or opens a listing, gets a
``penalty`` or ``listing`` notice saying from which day it counts (its
adjustment's start, never before the day it was received). The earliest
resolution of a case that listed the resident gets one ``repair`` notice.
Decisions on objections are noticed where they are made. The rows here are
what the store inserts; unique keys there make every insert idempotent.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from guihua.core.catalog import Catalog
from guihua.engine.cases import CASE_KEY, cases, listing_records
from guihua.engine.counting import counting
from guihua.engine.lazy_ibis import ibis
from guihua.engine.tables import Tables

if TYPE_CHECKING:
    import ibis.expr.types as ir

NOTICE_COLUMNS: tuple[str, ...] = (
    "subject_id",
    "kind",
    "record_id",
    "rule_id",
    "points",
    "effective_on",
    "case_id",
    "dedupe_key",
)


def penalties(t: Tables, catalog: Catalog, at: dt.date) -> ir.Table:
    """A notice for each reported record counting at ``at`` that lowers a score or opens a listing."""
    r = counting(t, t.reported, at)
    r = r.filter((r.points < 0).fill_null(False) | (r.action == "list").fill_null(False))
    kind = ibis.cases((r.action == "list", "listing"), else_="penalty")
    return r.select(
        "subject_id",
        kind=kind,
        record_id=r.id,
        rule_id=r.rule_id,
        points=r.points,
        effective_on=r.start_date.fill_null(r.occurred_at),
        case_id=r.case_id,
        dedupe_key=ibis.null().cast("string"),
    )


def repairs(t: Tables, catalog: Catalog, at: dt.date) -> ir.Table:
    """One notice per case touched by the reported records whose counting resolution ended a listing."""
    touched = listing_records(t.reported).select(*CASE_KEY).distinct()
    mine = listing_records(t.records)
    mine = mine.semi_join(touched, [mine[k] == touched[k] for k in CASE_KEY])  # only the cases touched
    narrowed = Tables(mine, t.objections)
    c = cases(narrowed, at)
    ended = c.filter(c.listed_at.notnull() & c.resolved_at.notnull() & (c.listed_at < c.resolved_at))
    r = counting(narrowed, mine, at)
    r = r.filter(r.action == "resolve")
    j = r.join(ended, [*(r[k] == ended[k] for k in CASE_KEY), r.occurred_at == ended.resolved_at])
    key = ibis.literal("repair:") + j.subject_id + ":" + j.metric + ":" + j.case_id
    first = j.group_by("subject_id", "metric", "case_id").aggregate(
        record_id=j.id.min(), dedupe_key=key.min()
    )
    rec = r.select(record_id=r.id, rule_id=r.rule_id, points=r.points, effective_on=r.occurred_at)
    n = first.join(rec, "record_id")
    return n.select(
        "subject_id",
        kind=ibis.literal("repair"),
        record_id=n.record_id,
        rule_id=n.rule_id,
        points=n.points,
        effective_on=n.effective_on,
        case_id=n.case_id,
        dedupe_key=n.dedupe_key,
    )
