"""Perk eligibility (spec section 6), with every reason that applies.

A subject is eligible for a perk at ``t`` when its score reaches the perk's
``min_score`` and, if ``clean_record_required``, it is not a defaulter at
``t``. Each perk gets three columns, named by its position in the catalog
(codes are free text): ``perk{i}_low`` (the score is below the minimum),
``perk{i}_listed`` (a clean record is required and the subject is listed) and
``perk{i}_eligible`` (neither).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from guihua.core.catalog import Catalog
from guihua.engine.scoring import scores, subject_score
from guihua.engine.tables import Tables

if TYPE_CHECKING:
    import ibis.expr.types as ir

REASONS: tuple[str, ...] = ("low", "listed")


def column(i: int, what: str) -> str:
    """The name of perk ``i``'s column ``what`` (eligible, or a reason of :data:`REASONS`)."""
    return f"perk{i}_{what}"


def with_perks(s: ir.Table, catalog: Catalog) -> ir.Table:
    """``s`` (with ``score`` and ``defaulter``) plus every perk's reasons and eligibility."""
    columns: dict[str, ir.BooleanValue] = {}
    for i, perk in enumerate(catalog.perks):
        low = s.score < perk.min_score
        listed = s.defaulter if perk.clean_record_required else s.defaulter & False
        columns[column(i, "low")] = low
        columns[column(i, "listed")] = listed
        columns[column(i, "eligible")] = ~low & ~listed
    return s.mutate(**columns) if columns else s


def subject_perks(t: Tables, catalog: Catalog, at: dt.date) -> ir.Table:
    """One row for the subject ``t.records`` is narrowed to: score, defaulter and every perk."""
    return with_perks(subject_score(t, catalog, at), catalog)


def everyone_perks(t: Tables, catalog: Catalog, at: dt.date) -> ir.Table:
    """Every subject with a record: score, defaulter and every perk."""
    return with_perks(scores(t, catalog, at), catalog)
