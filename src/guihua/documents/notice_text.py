"""What a notice says to a resident, in its language: wording from a stored notice and the catalog.

One place words every notice, so the e-mail, the webhook payload, the API, the portal and the
printed report all tell the resident the same thing: which department recorded what, the rule
in words and why it gives or takes points, its legal basis, how many points from which day,
and how to object on the portal or at a service centre counter (spec section 7). Never an API
path, never a rule id alone.

The notice row holds what was decided when it was made (rule, points, the day it counts from,
the case): this module words it and decides nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from guihua.core.catalog import Catalog
from guihua.core.languages import DEFAULT_LANGUAGE, Language
from guihua.documents.words import Words


@dataclass(frozen=True)
class NoticeText:
    title: str
    body: str
    lang: Language = DEFAULT_LANGUAGE


def _day(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()[:10]
    return str(value)[:10]


def compose(notice: Mapping[str, Any], catalog: Catalog, lang: Language = DEFAULT_LANGUAGE) -> NoticeText:
    """The title and body of one notice (a row of the ``notices`` table) in ``lang``."""
    w = Words(catalog, lang)
    kind = str(notice["kind"])
    department = str(notice.get("department") or "")
    source_id = str(notice.get("source_id") or "")
    metric = str(notice.get("metric") or "") or None
    rule_id = str(notice.get("rule_id") or "") or None
    about_metric = str(notice.get("about_metric") or "") or metric  # what a decision or repair is about
    about_rule = str(notice.get("about_rule_id") or "") or rule_id
    on = _day(notice.get("effective_on"))
    occurred = _day(notice.get("occurred_at")) or on
    law = w.rule_basis(rule_id) or w.department_basis(department)
    facts = {
        "department": w.department(department),
        "metric": w.metric(metric),
        "source_id": source_id,
        "occurred": occurred,
        "case": str(notice.get("case_id") or ""),
    }
    objection = w.how_to_object(department, source_id)
    if kind == "penalty":
        points = abs(int(notice.get("points") or 0))
        rule = catalog.rule_by_id.get(rule_id or "")
        expiry = (
            " "
            + w.n_("It stops counting after {n} day.", "It stops counting after {n} days.", rule.valid_days)
            if rule and rule.valid_days
            else ""
        )
        body = w.sentences(
            [
                w._(
                    "{department} recorded “{metric}” about you on {occurred} (record {source_id}).", **facts
                ),
                w.why(rule_id, department, metric, occurred),
                w._(
                    "Under the rule “{rule}” (legal basis: {law}) it lowers your score by {points} from "
                    "{day}: you are told before it counts, never after.",
                    rule=w.rule(rule_id, metric),
                    law=law,
                    points=w.points(points),
                    day=on,
                ),
                expiry,
                objection,
            ]
        )
        title = w.n_(
            "Penalty of {n} point from {day}: {metric}",
            "Penalty of {n} points from {day}: {metric}",
            points,
            day=on,
            metric=facts["metric"],
        )
        return NoticeText(title, body, lang)
    if kind == "listing":
        points = int(notice.get("points") or 0)
        listed = _day(notice.get("occurred_at")) or on
        penalty = (
            w._("It lowers your score by {points} from {day}.", points=w.points(points), day=on)
            if points < 0
            else ""
        )
        body = w.sentences(
            [
                w._(
                    "{department} recorded “{metric}” about you (record {source_id}, case {case}).",
                    **facts,
                ),
                w.why(rule_id, department, metric, listed),
                w._(
                    "Under the rule “{rule}” (legal basis: {law}) you are on the defaulter list from {day}.",
                    rule=w.rule(rule_id, metric),
                    law=law,
                    day=listed,
                ),
                penalty,
                w._(
                    "The listing and its penalty end on the day the case is resolved "
                    "(for example when the debt is paid)."
                ),
                objection,
            ]
        )
        title = w._("Defaulter list: case {case} from {day}", case=facts["case"], day=listed)
        return NoticeText(title, body, lang)
    if kind == "repair":
        body = w.sentences(
            [
                w._(
                    "{department} recorded that case {case} (“{metric}”) was resolved on {day} "
                    "(record {source_id}).",
                    **{**facts, "day": on},
                ),
                w._(
                    "From that day you are no longer on the defaulter list for this case, and the "
                    "penalty under the rule “{rule}” has ended.",
                    rule=w.rule(about_rule, metric),
                )
                if about_rule
                else w._(
                    "From that day you are no longer on the defaulter list for this case, "
                    "and its penalty has ended."
                ),
                w._(
                    "You can get a signed certificate of your listing status on the portal at {portal} "
                    "or at any service centre counter.",
                    portal=w.portal,
                ),
                w.object_line(department, source_id),
            ]
        )
        title = w._("Case {case} resolved on {day}: you are off the list", case=facts["case"], day=on)
        return NoticeText(title, body, lang)
    if kind == "decision":
        outcome = str(notice.get("case_id") or "")  # a decision notice keeps its outcome there
        number = str(notice.get("objection_id") or "")
        about = {
            "number": number,
            "source_id": source_id,
            "department": facts["department"],
            "day": on,
            "decision": w.decision(outcome),
            "metric": w.metric(about_metric),
            "rule": w.rule(about_rule, about_metric),
        }
        if about_metric and about_rule:
            decided = w._(
                "Your objection {number} to record {source_id} of {department} (“{metric}”, under the "
                "rule “{rule}”) was decided on {day}: {decision}.",
                **about,
            )
        elif about_metric:
            decided = w._(
                "Your objection {number} to record {source_id} of {department} (“{metric}”) was decided "
                "on {day}: {decision}.",
                **about,
            )
        else:
            decided = w._(
                "Your objection {number} to record {source_id} of {department} was decided on {day}: "
                "{decision}.",
                **about,
            )
        body = w.sentences(
            [
                decided,
                w._(
                    "The reviewer's reasons are on the portal at {portal} and in your full report; "
                    "questions about the decision can be asked there or at any service centre counter.",
                    portal=w.portal,
                ),
            ]
        )
        title = w._("Objection {number} decided: {outcome}", number=number, outcome=w.decision_short(outcome))
        return NoticeText(title, body, lang)
    title = w._("Notice about record {source_id} of {department}", **facts)
    return NoticeText(title, w.sentences([f"{title}: {w.notice_kind(kind)}.", objection]), lang)
