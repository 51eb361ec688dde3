"""A resident's data as the counter shows it: the answers of the API's use cases, gathered.

The counter reads what the API's ``GET /api/v1/subjects/{id}/explanation``, ``.../objections``,
``.../notices`` and the perks check read, through the same use cases, each audited by the use
case itself with the clerk's purpose, as the API audits them. Nothing here scores: the records
are grouped by the category the engine put them in, in the catalog's order, for reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from guihua.core.catalog import Catalog
from guihua.core.languages import Language
from guihua.core.policy import Actor
from guihua.core.results import Explanation, ExplanationItem, Objection
from guihua.store.database import Store
from guihua.usecases import notices, objections, scores
from guihua.web.me_views import PerkView, perk_views


@dataclass(frozen=True)
class CategoryGroup:
    """The records of one category (``code`` None: records of no category, such as protected ones)."""

    code: str | None
    items: list[ExplanationItem]


@dataclass
class ResidentView:
    explanation: Explanation
    groups: list[CategoryGroup]
    perks: list[PerkView]
    objections: list[Objection]
    notices: list[dict[str, Any]] = field(default_factory=list)


def grouped(catalog: Catalog, items: list[ExplanationItem]) -> list[CategoryGroup]:
    """Records by category in the catalog's order, then any without a category; dates in order."""
    order = [c.code for c in catalog.categories]
    by: dict[str | None, list[ExplanationItem]] = {}
    for item in sorted(items, key=lambda i: (i.occurred_at, i.department, i.source_id)):
        by.setdefault(item.category, []).append(item)
    codes = [c for c in order if c in by] + sorted(c for c in by if c is not None and c not in order)
    return [CategoryGroup(c, by[c]) for c in codes] + ([CategoryGroup(None, by[None])] if None in by else [])


def explanation_only(store: Store, subject_id: str, actor: Actor, purpose: str) -> Explanation:
    """The explanation alone (``GET .../explanation``), for a page about one record."""
    return scores.explain(store, subject_id, actor=actor, purpose=purpose)


def gather(
    store: Store, catalog: Catalog, subject_id: str, actor: Actor, purpose: str, lang: Language
) -> ResidentView:
    """Score, its breakdown by category and year after the caps, records, perks, objections and
    notices of the resident, each read audited."""
    explanation = scores.explain(store, subject_id, actor=actor, purpose=purpose, categories=True)
    _, answers = scores.perks(store, subject_id, actor=actor, purpose=purpose)
    return ResidentView(
        explanation=explanation,
        groups=grouped(catalog, explanation.items),
        perks=perk_views(catalog, answers, lang),  # as /me shows them
        objections=objections.subject_objections(store, subject_id, actor, purpose),
        notices=notices.subject_notices(store, subject_id, actor, purpose, lang),
    )
