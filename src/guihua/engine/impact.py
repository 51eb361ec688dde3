"""What a population's scores are made of, and how two sets of outcomes differ, as Ibis expressions.

Two kinds of expression:

- engine queries in the usual form ``(Tables, Catalog, date) -> table``, built on the one
  definition of each rule: the points each rule gives at a date (:func:`rule_points`), each
  category's capped contribution (:func:`category_points`), and each resident's latest value of
  every protected metric (:func:`protected_latest`), which the fairness audit reads and no rule
  ever does;
- aggregations over an *outcomes* table, one row per resident with the score, defaulter flag
  and perk eligibility before and after a change (the same on both sides for an audit of
  today), and the resident's group in each dimension (:func:`outcomes_schema`): counts per
  group (:func:`group_counts`), winners and losers in buckets (:func:`change_buckets`) and score
  histograms (:func:`score_bins`). Proportions, means and intervals are worked out from these
  counts by :mod:`guihua.core.fairness_stats`.

Nothing here reads a store or a file; whoever runs an expression binds its tables.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from guihua.core.catalog import Catalog
from guihua.engine.adjustments import adjustments, is_active
from guihua.engine.counting import counting
from guihua.engine.lazy_ibis import ibis
from guihua.engine.scoring import HISTOGRAM_BIN, contributions
from guihua.engine.tables import Tables

if TYPE_CHECKING:
    import ibis.expr.types as ir

# Winners and losers by points of score (as PolicyEngine's buckets): (label, lowest, highest change).
CHANGE_BUCKETS: tuple[tuple[str, int | None, int | None], ...] = (
    ("lose more than 10", None, -11),
    ("lose 5 to 10", -10, -5),
    ("lose 1 to 4", -4, -1),
    ("no change", 0, 0),
    ("gain 1 to 4", 1, 4),
    ("gain 5 to 10", 5, 10),
    ("gain more than 10", 11, None),
)
SIDES: tuple[str, ...] = ("before", "after")


# --------------------------------------------------------------------------- engine queries


def rule_points(t: Tables, catalog: Catalog, at: dt.date) -> ir.Table:
    """Per rule (and its category): the adjustments active at ``at``, residents, points before caps."""
    adj = adjustments(t, at)
    a = adj.filter(is_active(adj, at))
    return a.group_by(["rule_id", "category"]).aggregate(
        records=a.count(),
        subjects=a.subject_id.nunique(),
        points=a.points.sum().cast("int64"),
    )


def category_points(t: Tables, catalog: Catalog, at: dt.date) -> ir.Table:
    """Per category: residents it moves at ``at``, points gained and lost before caps, and after."""
    c = contributions(t, catalog, at)
    return c.group_by("category").aggregate(
        subjects=c.subject_id.nunique(),
        gain=c.gain.sum().cast("int64"),
        loss=c.loss.sum().cast("int64"),
        points=c.contribution.sum().cast("int64"),
    )


def protected_latest(t: Tables, catalog: Catalog, at: dt.date) -> ir.Table:
    """subject_id, metric, fields of each resident's latest counting record of each protected metric
    that occurred by ``at`` (the most recent by date, then the last stored)."""
    protected = [m.code for m in catalog.metrics if m.protected]
    if not protected:
        return t.records.filter(ibis.literal(False)).select("subject_id", "metric", "fields")
    mine = t.records.filter(t.records.metric.isin(protected) & (t.records.occurred_at <= at))
    r = counting(t, mine, at)
    rank = ibis.row_number().over(
        group_by=[r.subject_id, r.metric], order_by=[r.occurred_at.desc(), r.id.desc()]
    )
    latest = r.mutate(rank=rank)
    return latest.filter(latest["rank"] == 0).select("subject_id", "metric", "fields")


# --------------------------------------------------------------------------- outcomes


def perk_column(side: str, j: int) -> str:
    """Whether a resident is eligible for perk ``j`` on ``side`` (perks are numbered: codes are free text)."""
    return f"{side}_perk{j}"


def dimension_column(k: int) -> str:
    return f"group{k}"


def outcomes_schema(perks: int, dimensions: int) -> dict[str, str]:
    """The columns of an outcomes table with ``perks`` perks and ``dimensions`` group columns."""
    schema = {"subject_id": "string"}
    for side in SIDES:
        schema |= {f"score_{side}": "int64", f"defaulter_{side}": "boolean"}
        schema |= {perk_column(side, j): "boolean" for j in range(perks)}
    return schema | {dimension_column(k): "string" for k in range(dimensions)}


def outcomes_table(perks: int, dimensions: int, name: str = "outcomes") -> ir.Table:
    return ibis.table(outcomes_schema(perks, dimensions), name=name)


def _counts(o: ir.Table, perks: int, bases: tuple[int, int]) -> dict[str, ir.Value]:
    """Everything counted per group: each side's state, and what changed between them.

    ``bases``: the scheme's base before and after (a proposal may move it).
    """
    base_before, base_after = bases
    sb, sa = o.score_before, o.score_after
    db, da = o.defaulter_before, o.defaulter_after
    perk_changed = ibis.literal(False)
    columns: dict[str, ir.Value] = {"subjects": o.count()}
    for side, base in zip(SIDES, bases, strict=True):
        score, listed = o[f"score_{side}"], o[f"defaulter_{side}"]
        columns[f"score_sum_{side}"] = score.sum().cast("int64")
        columns[f"below_base_{side}"] = o.count(where=score < base)
        columns[f"defaulters_{side}"] = o.count(where=listed)
        for j in range(perks):
            columns[f"eligible{j}_{side}"] = o.count(where=o[perk_column(side, j)])
    for j in range(perks):
        before, after = o[perk_column("before", j)], o[perk_column("after", j)]
        columns[f"gained{j}"] = o.count(where=after & ~before)
        columns[f"lost{j}"] = o.count(where=before & ~after)
        perk_changed = perk_changed | (before != after)
    columns |= {
        "changed": o.count(where=(sb != sa) | (db != da) | perk_changed),
        "gainers": o.count(where=sa > sb),
        "losers": o.count(where=sa < sb),
        "falls_below_base": o.count(where=(sb >= base_before) & (sa < base_after)),
        "rises_to_base": o.count(where=(sb < base_before) & (sa >= base_after)),
        "becomes_defaulter": o.count(where=da & ~db),
        "stops_defaulter": o.count(where=db & ~da),
    }
    return columns


def group_counts(o: ir.Table, perks: int, dimensions: int, bases: tuple[int, int]) -> ir.Table:
    """One row for everyone (``dimension`` -1, group ``all``) and one per group of each dimension."""
    counts = _counts(o, perks, bases)
    everyone = o.aggregate(**counts).mutate(dimension=ibis.literal(-1, "int32"), group=ibis.literal("all"))
    parts = [everyone]
    for k in range(dimensions):
        g = o.group_by(group=o[dimension_column(k)].fill_null("unknown")).aggregate(
            **_counts(o, perks, bases)
        )
        parts.append(g.mutate(dimension=ibis.literal(k, "int32")))
    columns = ["dimension", "group", *counts]
    return ibis.union(*(p.select(*columns) for p in parts), distinct=False)


def change_buckets(o: ir.Table) -> ir.Table:
    """Residents per bucket of :data:`CHANGE_BUCKETS` (by its position ``bucket``)."""
    change = o.score_after - o.score_before
    cases = []
    for i, (_, low, high) in enumerate(CHANGE_BUCKETS):
        cond = ibis.literal(True)
        if low is not None:
            cond &= change >= low
        if high is not None:
            cond &= change <= high
        cases.append((cond, i))
    b = o.mutate(bucket=ibis.cases(*cases, else_=None).cast("int32"))
    return b.group_by("bucket").aggregate(subjects=b.count()).order_by("bucket")


def score_bins(o: ir.Table) -> ir.Table:
    """Residents per bin of :data:`HISTOGRAM_BIN` points of score, before and after."""
    parts = []
    for side in SIDES:
        score = o[f"score_{side}"]
        b = o.mutate(low=((score // HISTOGRAM_BIN) * HISTOGRAM_BIN).cast("int64"))
        parts.append(b.group_by("low").aggregate(count=b.count()).mutate(side=ibis.literal(side)))
    return ibis.union(*parts, distinct=False).order_by(["side", "low"])
