"""From record to adjustment (spec section 4): the first matching rule, its points and dates.

Everything here depends on one record and the catalog only, so it is computed
when a record is stored (and again for every stored record when a catalog is
loaded) and kept beside it. A positive adjustment starts at ``occurred_at +
notice_days``; a negative one at ``max(occurred_at, received_on) +
notice_days``: no penalty counts before the resident could have been told.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from guihua.core.catalog import Catalog, Rule, condition_value
from guihua.engine.lazy_ibis import ibis

if TYPE_CHECKING:
    import ibis.expr.types as ir

MATCH_COLUMNS: tuple[str, ...] = (
    "rule_id",
    "points",
    "category",
    "start_date",
    "end_date",
    "start_year",
)


def _condition(records: ir.Table, column: str, op: str, value: Any) -> ir.BooleanValue:
    col = records[column]
    if op == "in":
        expr = col.isin(value)
    elif op == "not_in":
        expr = col.notin(value)
    else:
        expr = {
            "eq": col == value,
            "ne": col != value,
            "gt": col > value,
            "gte": col >= value,
            "lt": col < value,
            "lte": col <= value,
        }[op]
    return expr.fill_null(False)  # a condition on an absent field is false


def rule_applies(records: ir.Table, rule: Rule, catalog: Catalog) -> ir.BooleanValue:
    """The rule's metric, its effective window (no retroactive punishment), and its ``when``."""
    fields = catalog.metric_by_code[rule.metric].fields
    cond = (records.metric == rule.metric) & (records.occurred_at >= rule.effective_from)
    if rule.effective_to is not None:
        cond &= records.occurred_at < rule.effective_to
    for name, op, value in rule.conditions():
        ftype = fields[name]
        column = catalog.field_columns[(name, ftype)]
        if op in ("in", "not_in"):
            value = [condition_value(ftype, v) for v in value]
        else:
            value = condition_value(ftype, value)
        cond &= _condition(records, column, op, value)
    return cond


def _by_rule(rule_id: ir.StringValue, values: dict[str, Any], else_: Any = None) -> Any:
    if not values:
        return ibis.literal(else_)
    return ibis.cases(*[(rule_id == rid, v) for rid, v in values.items()], else_=else_)


def _start(records: ir.Table, rule: Rule) -> ir.DateValue:
    """A penalty never starts before the record was received; a reward starts when it happened."""
    told = records.occurred_at if rule.points > 0 else ibis.greatest(records.occurred_at, records.received_on)
    return told + ibis.interval(days=rule.notice_days)


def match(records: ir.Table, catalog: Catalog, metrics: frozenset[str] | None = None) -> ir.Table:
    """``records`` (metric, occurred_at, received_on, typed fields) plus :data:`MATCH_COLUMNS`.

    The match columns are null where no rule applies.

    ``metrics`` narrows the rules considered to those of records that can be
    present (a department's file holds only its own metrics); the first
    matching rule is the same either way, since a rule only matches its metric.
    """
    rules = [
        r
        for r in catalog.rules
        if r.metric in catalog.metric_by_code and (metrics is None or r.metric in metrics)
    ]
    if rules:
        rule_id = ibis.cases(*[(rule_applies(records, r, catalog), r.id) for r in rules], else_=None)
    else:
        rule_id = ibis.null().cast("string")
    t = records.mutate(rule_id=rule_id)
    start = _by_rule(t.rule_id, {r.id: _start(t, r) for r in rules})
    t = t.mutate(
        points=_by_rule(t.rule_id, {r.id: r.points for r in rules}).cast("int32"),
        category=_by_rule(t.rule_id, {r.id: catalog.metric_by_code[r.metric].category for r in rules}).cast(
            "string"
        ),
        start_date=start.cast("date"),
    )
    end = _by_rule(
        t.rule_id,
        {r.id: t.start_date + ibis.interval(days=r.valid_days) for r in rules if r.valid_days is not None},
    )
    return t.mutate(end_date=end.cast("date"), start_year=t.start_date.year().cast("int32"))


def match_terms(catalog: Catalog, metric: str) -> tuple[Any, ...]:
    """Everything of ``catalog`` that the match of a record of ``metric`` reads, and nothing else.

    Two catalogs with the same terms for a metric match its records alike (:func:`match` and the
    typed fields it reads: the metric's field types, its category and kind; its rules in order,
    less their words). A proposal that only renames, explains, translates or cites, or changes
    caps, perks or the scheme, re-matches nothing: a simulation matches again only the records
    of metrics whose terms differ.
    """
    m = catalog.metric_by_code.get(metric)
    if m is None:
        return ()
    words = {"name", "why", "legal_basis", "translations", "description", "notes"}
    rules = tuple(
        tuple(sorted((k, repr(v)) for k, v in r.model_dump().items() if k not in words))
        for r in catalog.rules
        if r.metric == metric
    )
    return (tuple(sorted(m.fields.items())), m.category, m.kind, rules)


def match_sql(
    catalog: Catalog,
    schema: ibis.Schema,
    table_name: str = "batch",
    dialect: str = "duckdb",
    metrics: frozenset[str] | None = None,
) -> str:
    """SQL matching every row of ``table_name`` (other columns pass through).

    Compiled once per catalog and batch shape, then reused for every chunk.
    """
    records = ibis.table(schema, name=table_name)
    return str(ibis.to_sql(match(records, catalog, metrics), dialect=dialect))
