"""The published catalog as the home page shows it: rules and perks in the reader's language.

Nothing here decides a score: a row only says what the published rule says (its condition,
points, how long they count, from when, under which law), in the words the catalog gives in
the reader's language (:meth:`~guihua.core.catalog.CatalogItem.text`). The search is a filter
over those words, so a resident finds "parking" or "judgment" or a regulation's article.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from guihua.core.catalog import Catalog, Rule

MAX_QUERY = 100


@dataclass(frozen=True)
class Condition:
    field: str
    operator: str  # eq ne gt gte lt lte in not_in: the template words each
    value: str


@dataclass(frozen=True)
class RuleRow:
    id: str
    name: str
    why: str
    metric: str
    category: str
    departments: tuple[str, ...]
    conditions: tuple[Condition, ...]
    points: int
    valid_days: int | None
    notice_days: int
    effective_from: dt.date
    effective_to: dt.date | None
    legal_basis: str

    def words(self) -> str:
        """Everything a reader may search for in this rule, lower-cased."""
        parts = [
            self.id,
            self.name,
            self.why,
            self.metric,
            self.category,
            *self.departments,
            self.legal_basis,
        ]
        parts += [c.field for c in self.conditions]
        return " ".join(parts).lower()


@dataclass(frozen=True)
class PerkRow:
    name: str
    benefit: str
    provider: str
    min_score: int
    clean_record_required: bool
    consent_required: bool


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _row(catalog: Catalog, rule: Rule, lang: str) -> RuleRow:
    metric = catalog.metric_by_code.get(rule.metric)
    category = catalog.category_by_code.get(metric.category) if metric and metric.category else None
    senders = tuple(d.text("name", lang) or d.code for d in catalog.departments if rule.metric in d.metrics)
    return RuleRow(
        id=rule.id,
        name=rule.text("name", lang),
        why=rule.text("why", lang),
        metric=(metric.text("name", lang) or metric.code) if metric else rule.metric,
        category=(category.text("name", lang) or category.code) if category else "",
        departments=senders,
        conditions=tuple(Condition(f, op, _value(v)) for f, op, v in rule.conditions()),
        points=rule.points,
        valid_days=rule.valid_days,
        notice_days=rule.notice_days,
        effective_from=rule.effective_from,
        effective_to=rule.effective_to,
        legal_basis=rule.text("legal_basis", lang),
    )


def rules(catalog: Catalog, lang: str, query: str = "") -> list[RuleRow]:
    """The catalog's rules in order, those whose words contain every word of ``query``."""
    wanted = query[:MAX_QUERY].lower().split()
    rows = [_row(catalog, r, lang) for r in catalog.rules]
    return [r for r in rows if all(w in r.words() for w in wanted)]


def perks(catalog: Catalog, lang: str) -> list[PerkRow]:
    return [
        PerkRow(
            name=p.text("name", lang) or p.code,
            benefit=p.text("benefit", lang),
            provider=p.provider,
            min_score=p.min_score,
            clean_record_required=p.clean_record_required,
            consent_required=p.consent_required,
        )
        for p in catalog.perks
    ]
