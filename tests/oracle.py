"""An independent, deliberately naive reading of spec sections 4-6 (version 2), for tests only.

The product computes scores once, in the engine's relational expressions; this
oracle re-derives them record by record in plain Python so that the tests check
the spec, not the engine against itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from guihua.core.catalog import Catalog, Rule


@dataclass(frozen=True)
class Rec:
    subject_id: str
    metric: str
    occurred_at: dt.date
    fields: dict[str, Any]
    received_on: dt.date | None = None  # None: received the day it occurred


def _holds(op: str, have: Any, want: Any) -> bool:
    if have is None:
        return False
    if isinstance(want, str) and isinstance(have, dt.date):
        want = dt.date.fromisoformat(want)
    if op in ("in", "not_in"):
        want = [
            dt.date.fromisoformat(w) if isinstance(w, str) and isinstance(have, dt.date) else w for w in want
        ]
    return {
        "eq": lambda: have == want,
        "ne": lambda: have != want,
        "gt": lambda: have > want,
        "gte": lambda: have >= want,
        "lt": lambda: have < want,
        "lte": lambda: have <= want,
        "in": lambda: have in want,
        "not_in": lambda: have not in want,
    }[op]()


def first_rule(catalog: Catalog, rec: Rec) -> Rule | None:
    for rule in catalog.rules:
        if rule.metric != rec.metric or rec.occurred_at < rule.effective_from:
            continue
        if rule.effective_to is not None and rec.occurred_at >= rule.effective_to:
            continue
        if all(_holds(op, rec.fields.get(f), v) for f, op, v in rule.conditions()):
            return rule
    return None


def score(catalog: Catalog, records: list[Rec], subject_id: str, at: dt.date) -> tuple[int, bool]:
    mine = [r for r in records if r.subject_id == subject_id]
    listed: dict[tuple[str, str], dt.date] = {}
    resolved: dict[tuple[str, str], dt.date] = {}
    for r in mine:
        if catalog.metric_by_code[r.metric].kind == "listing":
            key = (r.metric, r.fields["case_id"])
            book = listed if r.fields["action"] == "list" else resolved
            book[key] = min(book.get(key, r.occurred_at), r.occurred_at)
    groups: dict[tuple[str, int], list[int]] = {}
    for r in mine:
        rule = first_rule(catalog, r)
        if rule is None:
            continue
        told = r.occurred_at if rule.points > 0 else max(r.occurred_at, r.received_on or r.occurred_at)
        start = told + dt.timedelta(days=rule.notice_days)
        end = start + dt.timedelta(days=rule.valid_days) if rule.valid_days else None
        if r.fields.get("action") == "list" and catalog.metric_by_code[r.metric].kind == "listing":
            res = resolved.get((r.metric, r.fields["case_id"]))
            if res is not None and (end is None or res < end):
                end = res
        if start <= at and (end is None or at < end):
            category = catalog.metric_by_code[r.metric].category
            assert category is not None
            groups.setdefault((category, start.year), []).append(rule.points)
    total = 0
    for (category, _year), points in groups.items():
        cat = catalog.category_by_code[category]
        gain = sum(p for p in points if p > 0)
        loss = -sum(p for p in points if p < 0)
        if cat.max_gain_per_year is not None:
            gain = min(gain, cat.max_gain_per_year)
        if cat.max_loss_per_year is not None:
            loss = min(loss, cat.max_loss_per_year)
        total += gain - loss
    s = catalog.scheme
    value = max(s.min, min(s.max, s.base + total))
    defaulter = any(
        since <= at and (resolved.get(key) is None or at < resolved[key]) for key, since in listed.items()
    )
    return value, defaulter
