"""What a notice says to a resident: pure wording from a stored notice and the catalog.

One place words every notice, so the e-mail, the webhook payload, the API and the
printed report all tell the resident the same thing: what happened, under which
rule and law, how many points from which day, and how to object (spec section 7).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from guihua.core.catalog import Catalog

HOW_TO_OBJECT = (
    "If you believe this record is wrong, you may object: online "
    "(POST /api/v1/subjects/{subject}/objections, naming department {department} and record {source_id}) "
    "or at any service centre "
    "(`guihua objections file`). While a reviewer looks at it the record is disputed; if no decision is "
    "made within 30 days it stops counting until one is."
)

DECISION_WORDS = {
    "upheld": "upheld: the record stands as it was",
    "corrected": "corrected: a corrected version of the record replaces it",
    "revoked": "revoked: the record no longer counts",
}


@dataclass(frozen=True)
class NoticeText:
    title: str
    body: str


def _day(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()[:10]
    return str(value)[:10]


def compose(notice: Mapping[str, Any], catalog: Catalog) -> NoticeText:
    """The title and body of one notice (a row of the ``notices`` table)."""
    kind = str(notice["kind"])
    dept = catalog.department_by_code.get(str(notice["department"]))
    dept_name = dept.name if dept and dept.name else str(notice["department"])
    rule = catalog.rule_by_id.get(str(notice.get("rule_id") or ""))
    metric = catalog.metric_by_code.get(str(notice.get("metric") or ""))
    what = metric.name if metric and metric.name else str(notice.get("metric") or "a record")
    law = rule.legal_basis if rule else (dept.legal_basis if dept else "")
    on = _day(notice.get("effective_on"))
    ref = f"{dept_name} record {notice['source_id']}"
    objection = HOW_TO_OBJECT.format(
        subject=notice["subject_id"], department=notice["department"], source_id=notice["source_id"]
    )
    if kind == "penalty":
        points = abs(int(notice.get("points") or 0))
        expiry = f" It expires after {rule.valid_days} days." if rule and rule.valid_days else ""
        body = (
            f"{ref} ({what}) matches rule {notice.get('rule_id')}, legal basis: {law}. "
            f"It lowers your score by {points} point{'s' if points != 1 else ''} from {on}: "
            f"you are told before it counts, never after.{expiry} {objection}"
        )
        return NoticeText(f"Penalty of {points} points from {on}: {what}", body)
    if kind == "listing":
        points = int(notice.get("points") or 0)
        listed = _day(notice.get("occurred_at")) or on
        penalty = f"; it lowers your score by {abs(points)} points from {on}" if points < 0 else ""
        body = (
            f"{ref} ({what}) places you on the defaulter list under case {notice.get('case_id')} "
            f"from {listed}{penalty}, legal basis: {law}. The listing and its penalty end on the day the "
            f"case is resolved (for example when the debt is paid). {objection}"
        )
        return NoticeText(f"Defaulter list: case {notice.get('case_id')} from {listed}", body)
    if kind == "repair":
        body = (
            f"{ref} resolves case {notice.get('case_id')} ({what}) on {on}. From that day you are no longer "
            "on the defaulter list for this case and its penalty has ended. You can ask for a signed "
            "certificate of your listing status at any service centre or online."
        )
        return NoticeText(f"Case {notice.get('case_id')} resolved on {on}: you are off the list", body)
    if kind == "decision":
        outcome = str(notice.get("case_id") or "")
        words = DECISION_WORDS.get(outcome, outcome)
        body = (
            f"Your objection {notice.get('objection_id')} to {ref} was decided on {on}: {words}. "
            "The reviewer's reasons are in your objections and your full report."
        )
        return NoticeText(f"Objection {notice.get('objection_id')} decided: {outcome}", body)
    return NoticeText(f"Notice about {ref}", f"{ref}: {kind}.")
