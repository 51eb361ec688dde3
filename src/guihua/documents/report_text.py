"""Wording shared by the HTML and PDF forms of a resident's report, so both say the same thing."""

from __future__ import annotations

import json
from typing import Any

from guihua.core.results import Delivery, ReportRecord

TITLE = "Report on a resident's data"
INTRO = (
    "Everything the credit centre holds on this resident: the score and defaulter status at the "
    "date of the report, every record departments submitted (with every earlier version), the "
    "adjustments they made and the caps that limited them, objections and their outcomes, the "
    "notices sent, the defaulter-list cases, and every access to this data. Times are UTC."
)
STATUS = {
    "counting": "counting",
    "disputed": "disputed (objection open; still counts)",
    "suspended": "suspended (objection undecided for 30 days)",
    "revoked": "revoked on objection",
    "expired": "expired",
    "pending": "pending (notice period)",
    "retracted": "RETRACTED by the department",
    "no_rule": "no rule applies",
    "protected": "protected: never scored",
}


SHOWN = 300  # characters of one value a printed report shows (the JSON form holds them all)


def shown(text: str, limit: int = SHOWN) -> str:
    """``text``, or its beginning and where to find the rest: a page cannot hold a 4,000-character cell."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text):,} characters in all: the full text is in the report's JSON form]"


def value_text(value: Any) -> str:
    """A field value as a person reads it: text as is, everything else as its JSON form (both cut)."""
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return shown(json.dumps(value, ensure_ascii=False))


def fields_text(fields: dict[str, Any]) -> str:
    return "; ".join(f"{k}: {value_text(v)}" for k, v in fields.items())


def status_text(record: ReportRecord) -> str:
    if record.current is None:
        return "moved to another resident by a correction"
    return STATUS.get(record.current.status, record.current.status)


def caps_text(caps: list[str]) -> str:
    """Which yearly category cap bit the adjustment's group (gain, loss), or nothing."""
    return ", ".join(f"{c} cap" for c in caps) if caps else "-"


def deliveries_text(deliveries: list[Delivery]) -> str:
    if not deliveries:
        return "not sent on any channel"
    parts = []
    for d in deliveries:
        when = f" {d.delivered_at}" if d.delivered_at else ""
        tries = f", {d.attempts} attempt(s)" if d.attempts else ""
        parts.append(f"{d.channel}: {d.status}{when}{tries}")
    return "; ".join(parts)


def points_text(points: int) -> str:
    return f"{points:+d}" if points else "0"


def stamp_text(iso: str) -> str:
    """An ISO timestamp (UTC) as ``YYYY-MM-DD HH:MM:SS UTC``."""
    return iso[:19].replace("T", " ") + " UTC"
