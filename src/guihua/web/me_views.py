"""A resident's data arranged for the eye: the pieces the ``/me`` pages (and, read-only, the
service counter) show, from what the use cases answered.

Nothing here decides anything about the scheme: points, dates, states, caps and reasons are
the engine's (through ``scores.explain``, ``scores.perks``, ``listings.cases_of``...); this
module only orders them (a timeline by day), picks what a card shows, and puts moments into
the scheme's time zone. The words are the templates' (``_me_views.html``) and the catalog's
(:class:`guihua.documents.words.Words`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo

from guihua.core.catalog import Catalog
from guihua.core.results import ExplanationItem, Listing, PerkEligibility

# The latest objection's states after which a card still offers to object: none yet, or a
# correction (a new version of the record, which may be objected to in its turn).
OBJECTABLE = (None, "corrected")


@dataclass(frozen=True)
class TimelineEvent:
    """A day on which a record started or stopped counting (or will)."""

    day: str
    kind: str  # "from": its points count from this day; "until": they stop counting on it
    item: ExplanationItem
    past: bool  # on or before the day of the page


@dataclass(frozen=True)
class PerkView:
    """A perk as the resident reads it: the engine's verdict, and the catalog's terms."""

    answer: PerkEligibility
    benefit: str  # in the reader's language when the catalog has it
    min_score: int
    clean_record_required: bool
    consent_required: bool


@dataclass(frozen=True)
class ListingView:
    """A defaulter-list case, and whether a certificate can now say it is resolved."""

    listing: Listing
    resolved: bool


def timeline(items: list[ExplanationItem], day: str) -> list[TimelineEvent]:
    """Every start and end of a record's points, oldest first: what changed the score, and when
    each item stops counting. Records without points (no rule, protected) change nothing."""
    events: list[TimelineEvent] = []
    for item in items:
        if item.rule_id is None or item.start is None or item.status == "retracted":
            continue
        events.append(TimelineEvent(item.start, "from", item, item.start <= day))
        if item.end is not None:
            events.append(TimelineEvent(item.end, "until", item, item.end <= day))
    return sorted(events, key=lambda e: (e.day, e.kind != "until", e.item.source_id))


def newest_first(items: list[ExplanationItem]) -> list[ExplanationItem]:
    """Records as cards: the most recent first, as a resident looks for what just happened."""
    return sorted(items, key=lambda i: (i.occurred_at, i.received_on or "", i.source_id), reverse=True)


def can_object(item: ExplanationItem) -> bool:
    """Whether the card offers "object to this record", or shows its objection instead.

    Only a hint for the eye: :func:`guihua.usecases.objections.file` decides when the objection
    is sent (one open at a time, none again to a version already decided), and the form says
    its answer if it refuses.
    """
    return item.status != "retracted" and item.objection in OBJECTABLE


def perk_views(catalog: Catalog, answers: list[PerkEligibility], lang: str) -> list[PerkView]:
    """Each perk's verdict beside the terms the catalog publishes for it."""
    out = []
    for answer in answers:
        perk = catalog.perk_by_code.get(answer.perk)
        out.append(
            PerkView(
                answer=answer,
                benefit=(perk.text("benefit", lang) if perk else "") or answer.benefit,
                min_score=perk.min_score if perk else 0,
                clean_record_required=bool(perk and perk.clean_record_required),
                consent_required=bool(perk and perk.consent_required),
            )
        )
    return out


def listing_views(found: list[Listing]) -> list[ListingView]:
    """Open cases first (what to do about them), then those resolved."""
    views = [ListingView(c, c.resolved_on is not None and not c.open) for c in found]
    return sorted(views, key=lambda v: (v.resolved, v.listing.listed_on))


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_time(value: str | dt.datetime, zone: str) -> str:
    """A stored moment (UTC, ISO text or datetime) as ``YYYY-MM-DD HH:MM`` in the scheme's zone."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(_zone(zone)).strftime("%Y-%m-%d %H:%M")
