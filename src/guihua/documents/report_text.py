"""Wording shared by the HTML and PDF forms of a resident's report, so both say the same thing.

Every function takes the reader's :class:`~guihua.documents.words.Words` (the language and the
catalog's words): the report names each record's metric and rule in words and says in a
sentence why it gives or takes points, from the engine's explanation; it decides nothing.
"""

from __future__ import annotations

import json
from typing import Any

from guihua.core.results import Delivery, ExplanationItem, ReportRecord
from guihua.documents.words import Words

SHOWN = 300  # characters of one value a printed report shows (the JSON form holds them all)


def title(w: Words) -> str:
    return w._("Report on a resident's data")


def intro(w: Words) -> str:
    return w._(
        "Everything the credit centre holds on this resident: the score and defaulter status at the "
        "date of the report, every record departments sent (with every earlier version), what each "
        "record did to the score and why, the caps that limited them, objections and their outcomes, "
        "the notices sent, the defaulter-list cases, and every access to this data. Times are UTC."
    )


def how_to_object(w: Words) -> str:
    """The report's general advice: where to object to any record in it, and what happens then."""
    return w._(
        "If you think a record in this report is wrong, you can object to it: on the portal at {portal} "
        "(sign in and open the record), or at any service centre counter (bring your identity card and "
        "say which record it is: its department and number are in section 2). While a reviewer looks "
        "at it the record is marked disputed and still counts; if no decision is made within 30 days "
        "of your objection, it stops counting until one is.",
        portal=w.portal,
    )


def shown(text: str, w: Words, limit: int = SHOWN) -> str:
    """``text``, or its beginning and where to find the rest: a page cannot hold a 4,000-character cell."""
    if len(text) <= limit:
        return text
    count = f"{len(text):,}"
    rest = w._("[{n} characters in all: the full text is in the report's JSON form]", n=count)
    return f"{text[:limit]}… {rest}"


def value_text(value: Any, w: Words) -> str:
    """A field value as a person reads it: text as is, everything else as its JSON form (both cut)."""
    if isinstance(value, str):
        return shown(value, w)
    if isinstance(value, bool):
        return w.yes_no(value)
    return shown(json.dumps(value, ensure_ascii=False), w)


def fields_text(fields: dict[str, Any], w: Words) -> str:
    return "; ".join(f"{k}: {value_text(v, w)}" for k, v in fields.items())


def status_text(record: ReportRecord, w: Words) -> str:
    c = record.current
    if c is None:
        return w.record_status("moved")
    if (
        c.status == "no_rule" and c.action == "resolve" and c.case_id
    ):  # no points of its own, but it ends a case
        return w._("resolves a defaulter-list case")
    return w.record_status(c.status)


def story(record: ReportRecord, w: Words) -> str:
    """Why this record does what it does to the score, in sentences (the engine's facts, worded)."""
    c = record.current
    if c is None:
        return w._("Every version of this record was moved to another resident by a correction.")
    return item_story(c, w)


def item_story(c: ExplanationItem, w: Words) -> str:
    """The sentences for one record as the score sees it: why, how many points, from and until when."""
    if c.status == "protected":
        return w.record_status("protected")
    if c.rule_id is None:
        if c.action == "resolve" and c.case_id:
            return w._(
                "This record resolves case {case}: from {day} the listing and its penalty end.",
                case=c.case_id,
                day=c.occurred_at,
            )
        return w._("No rule of the scheme applies to this record: it does not change your score.")
    parts = [w.why(c.rule_id, c.department, c.metric, c.occurred_at)]
    if c.start:
        parts.append(w.effect(c.rule_id, c.metric, c.points, c.start, c.end))
    if c.status not in ("counting", "no_rule"):
        parts.append(w._("Now: {status}.", status=w.record_status(c.status)))
    if c.caps_bit:
        parts.append(
            w._(
                "Here {caps}, so records of that kind in the same year count only up to the cap.",
                caps=w.caps(c.caps_bit, c.category),
            )
        )
    return w.sentences(parts)


def deliveries_text(deliveries: list[Delivery], w: Words) -> str:
    if not deliveries:
        return w._("not sent on any channel")
    parts = []
    for d in deliveries:
        when = f" {d.delivered_at}" if d.delivered_at else ""
        tries = " " + w.n_("({n} attempt)", "({n} attempts)", d.attempts) if d.attempts else ""
        parts.append(f"{w.delivery(d.channel, d.status)}{when}{tries}")
    return "; ".join(parts)


def points_text(points: int) -> str:
    return f"{points:+d}" if points else "0"


def stamp_text(iso: str) -> str:
    """An ISO timestamp (UTC) as ``YYYY-MM-DD HH:MM:SS UTC``."""
    return iso[:19].replace("T", " ") + " UTC"
