"""Scores at a date (spec sections 4-6): listings, active adjustments, yearly caps, clamp, perks.

Every function takes the store's ``records`` table (all versions) and returns an
Ibis expression; callers filter it (one subject, a batch of subjects, everyone)
and compile it for their backend.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir

from guihua.core.catalog import Catalog

RECORDS_SCHEMA: dict[str, str] = {
    "id": "int64",
    "department": "string",
    "source_id": "string",
    "version": "int32",
    "is_current": "boolean",
    "retracted_at": "timestamp",
    "subject_id": "string",
    "metric": "string",
    "occurred_at": "date",
    "fields": "string",
    "rule_id": "string",
    "points": "int32",
    "category": "string",
    "start_date": "date",
    "end_date": "date",
    "start_year": "int32",
    "case_id": "string",
    "action": "string",
}


OBJECTIONS_SCHEMA: dict[str, str] = {
    "department": "string",
    "source_id": "string",
    "suspends_on": "date",
    "decision": "string",
    "decided_on": "date",
}


def records_table(name: str = "records") -> ir.Table:
    """The store's records table as an unbound Ibis table."""
    return ibis.table(RECORDS_SCHEMA, name=name)


def objections_table(name: str = "objections") -> ir.Table:
    """The store's objections (spec section 7) as an unbound Ibis table."""
    return ibis.table(OBJECTIONS_SCHEMA, name=name)


def withheld(at: dt.date) -> ir.Table:
    """Record keys an objection keeps from counting at ``at`` (spec section 7).

    Suspended: no decision within 30 days of the objection, from ``suspends_on``
    (filing day + 30) until the decision day. Revoked: from the decision day on.
    A disputed record (objection younger than 30 days) still counts.
    """
    o = objections_table()
    suspended = (o.suspends_on <= at) & (o.decided_on.isnull() | (o.decided_on > at))
    revoked = (o.decision == "revoked") & (o.decided_on <= at)
    return o.filter(suspended | revoked).select("department", "source_id")


def counting(records: ir.Table, at: dt.date) -> ir.Table:
    """Records that count at ``at``: current version of each key, not retracted, not withheld."""
    current = records.filter(records.is_current & records.retracted_at.isnull())
    held = withheld(at)
    return current.anti_join(
        held, [current.department == held.department, current.source_id == held.source_id]
    )


def listings(records: ir.Table, catalog: Catalog | None = None, at: dt.date | None = None) -> ir.Table:
    """One row per (subject, metric, case_id): listed_at and resolved_at (earliest of each).

    Built from the records that count at ``at``: a withheld listing record neither
    opens nor resolves a case while it is withheld.
    """
    if at is None:
        raise ValueError("listings need a date: objections make what counts depend on it")
    # narrowed first, so that a backend can read a partial index instead of every record
    r = counting(records.filter(records.action.notnull() & records.case_id.notnull()), at)
    return r.group_by(["subject_id", "metric", "case_id"]).aggregate(
        listed_at=r.occurred_at.min(where=r.action == "list"),
        resolved_at=r.occurred_at.min(where=r.action == "resolve"),
        department=r.department.min(where=r.action == "list"),
        rule_id=r.rule_id.min(where=r.action == "list"),
    )


def _least(a: ir.DateValue, b: ir.DateValue) -> ir.DateValue:
    """NULL-aware least: a null date means 'never', not 'unknown' (SQLite's MIN would say null)."""
    return ibis.cases((a.isnull(), b), (b.isnull(), a), else_=ibis.least(a, b))


def adjustments(records: ir.Table, at: dt.date) -> ir.Table:
    """Records counting at ``at`` that matched a rule, with ``end_date`` cut at a listing's resolution."""
    r = counting(records.filter(records.rule_id.notnull()), at)  # narrowed first: the partial index
    lst = listings(records, at=at)
    joined = r.left_join(
        lst,
        [r.subject_id == lst.subject_id, r.metric == lst.metric, r.case_id == lst.case_id],
    )
    resolved = ibis.cases((joined.action == "list", joined.resolved_at), else_=None)
    return joined.mutate(end_date=_least(joined.end_date, resolved)).drop(
        "subject_id_right",
        "metric_right",
        "case_id_right",
        "listed_at",
        "resolved_at",
        "department_right",
        "rule_id_right",
    )


def is_active(adj: ir.Table, at: dt.date) -> ir.BooleanValue:
    return (adj.start_date <= at) & (adj.end_date.isnull() | (adj.end_date > at))


def _capped(value: ir.IntegerValue, category: ir.StringValue, caps: dict[str, int | None]) -> ir.IntegerValue:
    bounded = {code: cap for code, cap in caps.items() if cap is not None}
    if not bounded:
        return value
    return ibis.cases(
        *[(category == code, ibis.least(value, cap)) for code, cap in bounded.items()], else_=value
    )


def contributions(records: ir.Table, catalog: Catalog, at: dt.date) -> ir.Table:
    """Per (subject, category, year of start): G, L, the capped contribution and which cap bit."""
    adj = adjustments(records, at)
    active = adj.filter(is_active(adj, at))
    groups = active.group_by(["subject_id", "category", "start_year"]).aggregate(
        gain=active.points.sum(where=active.points > 0).fill_null(0),
        loss=(-active.points).sum(where=active.points < 0).fill_null(0),
    )
    gain_caps = {c.code: c.max_gain_per_year for c in catalog.categories}
    loss_caps = {c.code: c.max_loss_per_year for c in catalog.categories}
    capped_gain = _capped(groups.gain, groups.category, gain_caps)
    capped_loss = _capped(groups.loss, groups.category, loss_caps)
    return groups.mutate(
        contribution=(capped_gain - capped_loss).cast("int64"),
        gain_capped=groups.gain > capped_gain,
        loss_capped=groups.loss > capped_loss,
    )


def defaulters(records: ir.Table, at: dt.date) -> ir.Table:
    """Open listings at ``at``: listed on or before, not resolved by then."""
    lst = listings(records, at=at)
    return lst.filter(
        lst.listed_at.notnull() & (lst.listed_at <= at) & (lst.resolved_at.isnull() | (lst.resolved_at > at))
    )


def scores(records: ir.Table, catalog: Catalog, at: dt.date) -> ir.Table:
    """subject_id, score, defaulter for every subject with at least one counting record."""
    s = catalog.scheme
    current = records.filter(records.is_current & records.retracted_at.isnull())
    subjects = current.select("subject_id").distinct()
    totals = (
        contributions(records, catalog, at)
        .group_by("subject_id")
        .aggregate(delta=lambda t: t.contribution.sum())
    )
    listed = defaulters(records, at).select("subject_id").distinct().mutate(listed=ibis.literal(True))
    t = subjects.left_join(totals, "subject_id").left_join(listed, "subject_id")
    raw = ibis.literal(s.base) + t.delta.fill_null(0)
    score = ibis.cases((raw < s.min, s.min), (raw > s.max, s.max), else_=raw).cast("int64")
    return t.select("subject_id", score=score, defaulter=t.listed.fill_null(False))


def explanation(records: ir.Table, catalog: Catalog, at: dt.date) -> ir.Table:
    """Every current version behind a subject's score, with its effective end and the caps that bit.

    Filter ``records`` to one subject first. Retracted and withheld records are
    shown, marked (``counts`` false), with their own end date.
    """
    current = records.filter(records.is_current)
    adj = adjustments(records, at).select("id", effective_end=lambda t: t.end_date, counts=ibis.literal(True))
    t = current.left_join(adj, current.id == adj.id).drop("id_right")
    t = t.mutate(
        counts=t.counts.fill_null(False),
        effective_end=ibis.cases((t.counts.notnull(), t.effective_end), else_=t.end_date),
    )
    active = t.counts & (t.start_date <= at) & (t.effective_end.isnull() | (t.effective_end > at))
    t = t.mutate(active=active.fill_null(False))
    caps = contributions(records, catalog, at)
    j = t.left_join(
        caps,
        [
            t.subject_id == caps.subject_id,
            t.category == caps.category,
            t.start_year == caps.start_year,
        ],
    )
    return j.select(
        "id",
        "department",
        "source_id",
        "version",
        "subject_id",
        "metric",
        "occurred_at",
        "fields",
        "rule_id",
        "points",
        "category",
        "start_date",
        "effective_end",
        "start_year",
        "case_id",
        "action",
        "active",
        "counts",
        retracted=j.retracted_at.notnull(),
        gain_capped=(j.active & j.gain_capped.fill_null(False)),
        loss_capped=(j.active & j.loss_capped.fill_null(False)),
    ).order_by(["occurred_at", "department", "source_id"])


HISTOGRAM_BIN = 10


def score_summary(records: ir.Table, catalog: Catalog, at: dt.date) -> ir.Table:
    """One row: how many subjects are above, at and below base; defaulters."""
    s = scores(records, catalog, at)
    base = catalog.scheme.base
    return s.aggregate(
        subjects=s.count(),
        above=s.count(where=s.score > base),
        at_base=s.count(where=s.score == base),
        below=s.count(where=s.score < base),
        defaulters=s.count(where=s.defaulter),
        below_and_defaulter=s.count(where=(s.score < base) & s.defaulter),
    )


def score_histogram(records: ir.Table, catalog: Catalog, at: dt.date) -> ir.Table:
    """Subjects per score bin of :data:`HISTOGRAM_BIN` points."""
    s = scores(records, catalog, at)
    bins = s.mutate(low=(s.score // HISTOGRAM_BIN) * HISTOGRAM_BIN)
    return bins.group_by("low").aggregate(count=bins.count()).order_by("low")
