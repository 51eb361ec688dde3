"""The score at a date (spec section 5): yearly caps per category, the clamp, the defaulter flag.

Every function takes the engine's :class:`Tables` and returns an Ibis
expression; callers narrow ``records`` (one subject, everyone) and compile it
for their backend.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from guihua.core.catalog import Catalog
from guihua.engine.adjustments import adjustments, is_active
from guihua.engine.cases import cases
from guihua.engine.counting import live
from guihua.engine.lazy_ibis import ibis
from guihua.engine.tables import Tables

if TYPE_CHECKING:
    import ibis.expr.types as ir

HISTOGRAM_BIN = 10


def _capped(value: ir.IntegerValue, category: ir.StringValue, caps: dict[str, int | None]) -> ir.IntegerValue:
    bounded = {code: cap for code, cap in caps.items() if cap is not None}
    if not bounded:
        return value
    return ibis.cases(
        *[(category == code, ibis.least(value, cap)) for code, cap in bounded.items()], else_=value
    )


def contributions(t: Tables, catalog: Catalog, at: dt.date) -> ir.Table:
    """Per (subject, category, year of start): G, L, the capped contribution and which cap bit."""
    adj = adjustments(t, at)
    active = adj.filter(is_active(adj, at))
    groups = active.group_by(["subject_id", "category", "start_year"]).aggregate(
        gain=active.points.sum(where=active.points > 0).fill_null(0),
        loss=(-active.points).sum(where=active.points < 0).fill_null(0),
    )
    capped_gain = _capped(
        groups.gain, groups.category, {c.code: c.max_gain_per_year for c in catalog.categories}
    )
    capped_loss = _capped(
        groups.loss, groups.category, {c.code: c.max_loss_per_year for c in catalog.categories}
    )
    return groups.mutate(
        contribution=(capped_gain - capped_loss).cast("int64"),
        gain_capped=groups.gain > capped_gain,
        loss_capped=groups.loss > capped_loss,
    )


def defaulters(t: Tables, at: dt.date) -> ir.Table:
    """Subjects with an open case at ``at`` (one row each)."""
    c = cases(t, at)
    return c.filter(c.open).select("subject_id").distinct()


def clamp(raw: ir.IntegerValue, catalog: Catalog) -> ir.IntegerValue:
    s = catalog.scheme
    return ibis.cases((raw < s.min, s.min), (raw > s.max, s.max), else_=raw).cast("int64")


def scores(t: Tables, catalog: Catalog, at: dt.date) -> ir.Table:
    """subject_id, score, defaulter for every subject with at least one current, non-retracted record."""
    subjects = live(t.records).select("subject_id").distinct()
    totals = (
        contributions(t, catalog, at).group_by("subject_id").aggregate(delta=lambda g: g.contribution.sum())
    )
    listed = defaulters(t, at).mutate(listed=ibis.literal(True))
    j = subjects.left_join(totals, "subject_id").left_join(listed, "subject_id")
    score = clamp(ibis.literal(catalog.scheme.base) + j.delta.fill_null(0), catalog)
    return j.select("subject_id", score=score, defaulter=j.listed.fill_null(False))


def subject_score(t: Tables, catalog: Catalog, at: dt.date) -> ir.Table:
    """Exactly one row for the subject ``t.records`` is narrowed to: with no records, base and clean.

    (An aggregate without grouping always yields one row, whatever it reads.)
    """
    s = scores(t, catalog, at)
    return s.aggregate(
        score=s.score.max().fill_null(catalog.scheme.base).cast("int64"),
        defaulter=s.defaulter.any().fill_null(False),
    )


def score_summary(t: Tables, catalog: Catalog, at: dt.date) -> ir.Table:
    """One row: how many subjects are above, at and below base; defaulters."""
    s = scores(t, catalog, at)
    base = catalog.scheme.base
    return s.aggregate(
        subjects=s.count(),
        above=s.count(where=s.score > base),
        at_base=s.count(where=s.score == base),
        below=s.count(where=s.score < base),
        defaulters=s.count(where=s.defaulter),
        below_and_defaulter=s.count(where=(s.score < base) & s.defaulter),
    )


def score_histogram(t: Tables, catalog: Catalog, at: dt.date) -> ir.Table:
    """Subjects per score bin of :data:`HISTOGRAM_BIN` points."""
    s = scores(t, catalog, at)
    bins = s.mutate(low=(s.score // HISTOGRAM_BIN) * HISTOGRAM_BIN)
    return bins.group_by("low").aggregate(count=bins.count()).order_by("low")
