"""A department's feed: its status on a day, the quality warnings of a submission, the words of an alert.

Pure: the figures come from the submissions (never the records), the catalog gives the
agreement. The thresholds are here, once, and ``docs/spec-readings.md`` says why each is
what it is.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from guihua.core.catalog import Department

WINDOW_DAYS = 30  # "the last 30 days": the day asked about and the 29 before it
TOP_REASONS = 3  # reasons shown per feed

FAILING_REJECT_RATE = 0.20  # a feed fails while its last submission rejected more than this share of rows

OLD_AFTER_DAYS = 365  # a record dated more than this many days before its submission is "old"
OLD_SHARE = 0.20  # warn when more than this share of a submission's valid rows are old...
OLD_MIN_ROWS = 10  # ...and at least this many

VOLUME_LOOKBACK = 5  # the usual volume of a metric: the median of its last 5 earlier submissions
VOLUME_MIN_HISTORY = 3  # judged only once 3 earlier submissions carried the metric
VOLUME_MIN_USUAL = 10  # and only when the usual is at least 10 rows
VOLUME_CHANGE = 0.5  # warn when the volume fell or rose by more than half of the usual

CORRECTIONS_SHARE = 0.10  # warn when corrections are more than 10% of a submission's valid rows...
CORRECTIONS_MIN = 50  # ...and more than 50

ALERT_KINDS: tuple[str, ...] = ("overdue", "failing")


@dataclass(frozen=True)
class QualityWarning:
    """A finding about a submission that rejects no row: what it is, about which metric, and the numbers."""

    kind: str  # volume_fell | volume_rose | old_records | many_corrections
    message: str
    metric: str | None = None
    observed: float | int | None = None
    expected: float | int | None = None  # the usual volume, or the threshold

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "metric": self.metric,
            "observed": self.observed,
            "expected": self.expected,
            "message": self.message,
        }


def quality_warnings(
    rows_by_metric: Mapping[str, tuple[int, int]],
    corrected: int,
    history: Mapping[str, Sequence[int]],
    carried_lately: frozenset[str],
    first_submission: bool,
) -> list[QualityWarning]:
    """The warnings of one submission.

    ``rows_by_metric``: its valid rows and old rows per metric; ``corrected``: the versions it
    corrected; ``history``: per metric, the valid rows of the department's last
    :data:`VOLUME_LOOKBACK` earlier submissions that carried it, newest first;
    ``carried_lately``: the metrics each of the department's last :data:`VOLUME_MIN_HISTORY`
    earlier submissions (with any valid row) carried, so that a metric missing from this one
    counts as fallen to 0; ``first_submission``: the department never sent before (an initial
    load is history by nature: its dates are not judged).
    """
    found: list[QualityWarning] = []
    for metric in sorted(set(rows_by_metric) | carried_lately):
        earlier = list(history.get(metric, ()))[:VOLUME_LOOKBACK]
        if len(earlier) < VOLUME_MIN_HISTORY:
            continue
        usual = statistics.median(earlier)
        if usual < VOLUME_MIN_USUAL:
            continue
        now = rows_by_metric.get(metric, (0, 0))[0]
        usual_shown = int(usual) if usual == int(usual) else round(usual, 1)
        if now < usual * (1 - VOLUME_CHANGE):
            found.append(
                QualityWarning(
                    "volume_fell",
                    f"{metric}: {now:,} rows against a usual {usual_shown:,} (median of the last "
                    f"{len(earlier)} submissions that carried it): fell by more than half",
                    metric,
                    now,
                    usual_shown,
                )
            )
        elif now > usual * (1 + VOLUME_CHANGE):
            found.append(
                QualityWarning(
                    "volume_rose",
                    f"{metric}: {now:,} rows against a usual {usual_shown:,} (median of the last "
                    f"{len(earlier)} submissions that carried it): rose by more than half",
                    metric,
                    now,
                    usual_shown,
                )
            )
    valid = sum(rows for rows, _ in rows_by_metric.values())
    old = sum(old for _, old in rows_by_metric.values())
    if not first_submission and old >= OLD_MIN_ROWS and old > OLD_SHARE * valid:
        found.append(
            QualityWarning(
                "old_records",
                f"{old:,} of {valid:,} valid rows ({old / valid:.0%}) are dated more than "
                f"{OLD_AFTER_DAYS} days before the submission: check the dates, or say why they are late",
                None,
                round(old / valid, 4),
                OLD_SHARE,
            )
        )
    if corrected > CORRECTIONS_MIN and corrected > CORRECTIONS_SHARE * valid:
        found.append(
            QualityWarning(
                "many_corrections",
                f"{corrected:,} of {valid:,} valid rows ({corrected / max(valid, 1):.0%}) correct records "
                "already stored: check that the source ids are stable and the values right",
                None,
                corrected,
                CORRECTIONS_MIN,
            )
        )
    return found


@dataclass
class FeedFigures:
    """What the submissions of one department say, up to the day asked about (none: never sent)."""

    submissions: int = 0
    first_submission_on: dt.date | None = None
    last_submission_on: dt.date | None = None
    last_submission_id: int | None = None
    last_rows: int = 0  # valid and rejected rows of the last submission
    last_rejected: int = 0
    rows: int = 0
    accepted: int = 0
    duplicates: int = 0
    corrected: int = 0
    superseded: int = 0
    rejected: int = 0
    submissions_30d: int = 0
    rows_30d: int = 0
    accepted_30d: int = 0
    rejected_30d: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    reasons_30d: dict[str, int] = field(default_factory=dict)
    warnings: list[dict[str, Any]] = field(default_factory=list)  # of the last 30 days, newest first


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def top(reasons: Mapping[str, int]) -> list[dict[str, Any]]:
    ranked = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_REASONS]
    return [{"reason": r, "rows": n} for r, n in ranked]


@dataclass(frozen=True)
class Feed:
    """One department's feed on a day."""

    department: str
    name: str
    at: dt.date
    agreement_state: str  # in_force | suspended | ended | expired | not_yet_valid
    frequency_days: int | None
    valid_from: dt.date | None
    figures: FeedFigures
    open_alerts: tuple[str, ...] = ()

    @property
    def in_force(self) -> bool:
        return self.agreement_state == "in_force"

    @property
    def silent(self) -> bool:
        return self.figures.submissions == 0

    @property
    def due_on(self) -> dt.date | None:
        """The last day a submission keeps the promise: the last submission's day (else the
        agreement's ``valid_from``) plus ``frequency_days``; None without a promise or a start."""
        if self.frequency_days is None:
            return None
        return _plus(self.figures.last_submission_on or self.valid_from, self.frequency_days)

    @property
    def overdue(self) -> bool:
        """In force, with a promised frequency, and no submission within it (a department that
        promised, never sent and has no ``valid_from`` is overdue)."""
        if not self.in_force or self.frequency_days is None:
            return False
        due = self.due_on
        return due is None or self.at > due

    @property
    def failing(self) -> bool:
        """In force and the last submission rejected more than :data:`FAILING_REJECT_RATE` of its rows."""
        f = self.figures
        return self.in_force and f.last_rows > 0 and f.last_rejected > FAILING_REJECT_RATE * f.last_rows

    def as_dict(self) -> dict[str, Any]:
        f = self.figures
        return {
            "department": self.department,
            "name": self.name,
            "at": self.at.isoformat(),
            "in_force": self.in_force,
            "agreement_state": self.agreement_state,
            "frequency_days": self.frequency_days,
            "submissions": f.submissions,
            "first_submission_on": _iso(f.first_submission_on),
            "last_submission_on": _iso(f.last_submission_on),
            "last_submission_id": f.last_submission_id,
            "due_on": _iso(self.due_on),
            "overdue": self.overdue,
            "silent": self.silent,
            "failing": self.failing,
            "last_reject_rate": rate(f.last_rejected, f.last_rows),
            "rows": f.rows,
            "accepted": f.accepted,
            "duplicates": f.duplicates,
            "corrected": f.corrected,
            "superseded": f.superseded,
            "rejected": f.rejected,
            "reject_rate": rate(f.rejected, f.rows),
            "top_reasons": top(f.reasons),
            "submissions_30d": f.submissions_30d,
            "rows_30d": f.rows_30d,
            "accepted_30d": f.accepted_30d,
            "rejected_30d": f.rejected_30d,
            "reject_rate_30d": rate(f.rejected_30d, f.rows_30d),
            "top_reasons_30d": top(f.reasons_30d),
            "warnings": f.warnings,
            "open_alerts": list(self.open_alerts),
        }


def _plus(day: dt.date | None, days: int) -> dt.date | None:
    return day + dt.timedelta(days=days) if day is not None else None


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def feed(dept: Department, at: dt.date, figures: FeedFigures, open_alerts: Sequence[str] = ()) -> Feed:
    a = dept.agreement
    return Feed(
        dept.code, dept.name, at, a.state_on(at), a.frequency_days, a.valid_from, figures, tuple(open_alerts)
    )


def troubles(f: Feed) -> dict[str, str]:
    """The alerts a feed calls for now, each with what the department and the operators are told."""
    found: dict[str, str] = {}
    fig = f.figures
    if f.overdue:
        since = (
            f"its last submission was on {fig.last_submission_on}"
            if fig.last_submission_on
            else "it has sent nothing yet"
        )
        by = f" (due by {f.due_on})" if f.due_on else ""
        found["overdue"] = (
            f"{f.department} promised a submission every {f.frequency_days} days under its agreement; "
            f"{since}{by}."
        )
    if f.failing:
        reasons = ", ".join(f"{r['reason']} ({r['rows']:,})" for r in top(fig.reasons_30d)) or "none"
        found["failing"] = (
            f"{f.department}'s last submission ({fig.last_submission_id}, received {fig.last_submission_on}) "
            f"rejected {fig.last_rejected:,} of {fig.last_rows:,} rows "
            f"({fig.last_rejected / fig.last_rows:.0%}, above {FAILING_REJECT_RATE:.0%}); "
            f"top reasons in the last {WINDOW_DAYS} days: {reasons}."
        )
    return found


HOW_TO_FIX = {
    "overdue": "Send the data promised (guihua ingest, or POST /api/v1/records), "
    "or tell the credit centre why not.",
    "failing": "See the rows refused and why (guihua rejects --submission N --open, "
    "or GET /api/v1/rejects?open=true), fix them and send them again.",
}


def alert_text(kind: str, department: Department, detail: str, day: dt.date) -> tuple[str, str]:
    """Title and body of an alert about a feed (to the department and the operators)."""
    what = "overdue" if kind == "overdue" else "failing"
    title = f"Data feed {what}: {department.code} since {day}"
    name = f"{department.name} ({department.code})" if department.name else department.code
    body = (
        f"The data feed of {name} is {what} as of {day}. {detail} {HOW_TO_FIX[kind]} "
        "You are told once per episode: the next alert comes only after the feed has recovered "
        "and fails again. Feed status: guihua feeds, or GET /api/v1/feeds."
    )
    return title, body


def quality_text(
    department: Department, submission_id: int, day: dt.date, warnings: Sequence[QualityWarning]
) -> tuple[str, str]:
    """Title and body of the notice of a submission's quality warnings (to the department)."""
    title = f"Submission {submission_id} from {department.code}: {len(warnings)} quality warning(s)"
    lines = "\n".join(f"- {w.kind}: {w.message}" for w in warnings)
    body = (
        f"Submission {submission_id} from {department.code}, received {day}, was taken in; no row was "
        f"rejected for these, but they may show a problem in the feed:\n{lines}\n"
        "If the data is right, nothing needs doing."
    )
    return title, body
