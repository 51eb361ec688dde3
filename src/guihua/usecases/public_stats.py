"""Public statistics as published: the distribution and each department's feed, small cells withheld.

The API (``/api/v1/stats/*``) and the portal's ``/stats`` page publish these same objects, so a
count withheld on one is withheld on the other: cells of fewer than
:data:`~guihua.core.policy.SUPPRESS_BELOW` residents (or rows) become None, and in the
distribution so do as many others as it takes for none of them to be a subtraction away.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from guihua.core import disclosure
from guihua.core.feeds import TOP_REASONS
from guihua.core.policy import SUPPRESS_BELOW
from guihua.engine.scoring import HISTOGRAM_BIN
from guihua.store.database import Store
from guihua.usecases import feeds, scores


def distribution(store: Store, at: dt.date | None = None) -> dict[str, Any]:
    """Counts above, at and below base, defaulters and a histogram, small cells withheld so that
    no sum of the others gives them away (:mod:`guihua.core.disclosure`)."""
    d = scores.distribution(store, at)
    counts = {"subjects": d.subjects, "above": d.above, "at_base": d.at_base, "below": d.below}
    counts["defaulters"] = d.defaulters
    bins = {f"bin:{b['from']}": int(b["count"]) for b in d.histogram}
    under = [f"bin:{b['from']}" for b in d.histogram if b["to"] <= d.base]
    sums: list[disclosure.Sum] = [("subjects", ["above", "at_base", "below"]), ("subjects", list(bins))]
    if d.base % HISTOGRAM_BIN == 0:  # the bins under base hold exactly the residents below it
        sums.append(("below", under))
    withheld = disclosure.withhold({**counts, **bins}, sums)

    def shown(name: str, value: int) -> int | None:
        return None if name in withheld else value

    return {
        "at": d.at,
        "base": d.base,
        **{name: shown(name, value) for name, value in counts.items()},
        "histogram": [{**b, "count": shown(f"bin:{b['from']}", b["count"])} for b in d.histogram],
        "suppressed_below": SUPPRESS_BELOW,
    }


def feed_status(store: Store, at: dt.date | None = None) -> dict[str, Any]:
    """Each department's feed at the level of departments only (no resident in it)."""
    day, rows = feeds.feed_status(store, at)
    return {
        "at": day.isoformat(),
        "feeds": [public_feed(f.as_dict()) for f in rows],
        "suppressed_below": SUPPRESS_BELOW,
    }


_PUBLIC_FEED = (
    "department",
    "name",
    "at",
    "in_force",
    "agreement_state",
    "frequency_days",
    "submissions",
    "first_submission_on",
    "last_submission_on",
    "due_on",
    "overdue",
    "silent",
    "failing",
    "submissions_30d",
)
_PUBLIC_COUNTS = (
    *("rows", "accepted", "duplicates", "corrected", "superseded", "rejected"),
    *("rows_30d", "accepted_30d", "rejected_30d"),
)
_PUBLIC_RATES = {"reject_rate": ("rejected", "rows"), "reject_rate_30d": ("rejected_30d", "rows_30d")}


def public_feed(row: dict[str, Any]) -> dict[str, Any]:
    """A feed row as published: counts under 10 rows withheld, with the others it would be a
    subtraction away from (rows = accepted + duplicates + corrected + superseded + rejected;
    rejected = its reasons when all are listed), a rate only when both its counts are shown,
    the number of warnings, no contact."""
    shown = {k: row[k] for k in _PUBLIC_FEED}
    cells = {key: int(row[key]) for key in _PUBLIC_COUNTS}
    sums: list[disclosure.Sum] = [("rows", ["accepted", "duplicates", "corrected", "superseded", "rejected"])]
    for key, total in (("top_reasons", "rejected"), ("top_reasons_30d", "rejected_30d")):
        names = [f"{key}:{r['reason']}" for r in row[key]]
        cells |= {f"{key}:{r['reason']}": int(r["rows"]) for r in row[key]}
        if len(row[key]) < TOP_REASONS:  # every reason listed: they add up to the total
            sums.append((total, names))
    withheld = disclosure.withhold(cells, sums)
    for key in _PUBLIC_COUNTS:
        shown[key] = None if key in withheld else row[key]
    for rate, (part, whole) in _PUBLIC_RATES.items():
        shown[rate] = row[rate] if shown[part] is not None and shown[whole] is not None else None
    for key in ("top_reasons", "top_reasons_30d"):
        shown[key] = [
            {"reason": r["reason"], "rows": None if f"{key}:{r['reason']}" in withheld else r["rows"]}
            for r in row[key]
        ]
    shown["warnings"] = len(row["warnings"])
    return shown
