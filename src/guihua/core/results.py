"""What the use cases answer: plain data that the CLI, the HTTP API and the documents render.

Nothing here computes a rule; every value comes from the engine or the store.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Score:
    subject_id: str
    at: str
    score: int
    defaulter: bool
    base: int
    catalog_version: int | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ExplanationItem:
    department: str
    department_name: str
    source_id: str
    version: int
    metric: str
    metric_name: str
    occurred_at: str
    received_on: str | None
    fields: dict[str, Any]
    rule_id: str | None
    points: int
    category: str | None
    start: str | None
    end: str | None
    active: bool
    status: str  # one of guihua.engine.explanation.STATUSES
    caps_bit: list[str]
    rule_legal_basis: str | None
    department_legal_basis: str
    case_id: str | None = None
    action: str | None = None
    objection: str | None = None  # state of the latest objection at the date, if any


@dataclass
class CategoryTotal:
    """What one category's records of one start year add to the score at the date, after its caps.

    ``gain`` and ``loss`` are the points of its counting records before the yearly caps,
    ``contribution`` what they add together once capped (the engine's ``contributions``).
    """

    category: str | None
    year: int
    gain: int
    loss: int
    contribution: int
    gain_capped: bool
    loss_capped: bool


@dataclass
class Explanation:
    score: Score
    items: list[ExplanationItem] = field(default_factory=list)
    listings: list[dict[str, Any]] = field(default_factory=list)
    categories: list[CategoryTotal] = field(default_factory=list)  # only when asked for (the portal)

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.score.as_dict(),
            "records": [asdict(i) for i in self.items],
            "listings": self.listings,
        }


@dataclass
class PerkEligibility:
    perk: str
    name: str
    provider: str
    eligible: bool
    reason: str  # every reason that applies, in one sentence
    benefit: str
    reasons: list[str] = field(default_factory=list)  # codes: below_min_score, on_defaulter_list


@dataclass
class Distribution:
    at: str
    base: int
    subjects: int
    above: int
    at_base: int
    below: int
    defaulters: int
    below_and_defaulter: int
    histogram: list[dict[str, int]]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Listing:
    subject_id: str
    department: str
    department_name: str
    metric: str
    case_id: str
    listed_on: str
    resolved_on: str | None  # only when resolved on or before the date asked about
    open: bool
    rule_id: str | None
    legal_basis: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Objection:
    id: int
    subject_id: str
    department: str
    source_id: str
    record_version: int
    reason: str
    filed_on: str
    suspends_on: str
    filed_by: str
    state: str  # open | suspended | upheld | corrected | revoked
    decided_on: str | None
    decided_by: str | None
    decision_reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RecordVersion:
    """One stored version of a department record (corrections add versions; none is deleted)."""

    version: int
    current: bool
    metric: str
    occurred_at: str
    received_on: str | None  # the day this version was accepted (a penalty never counts before it)
    fields: dict[str, Any]
    submitted_at: str | None  # when the submission that carried it was received
    submission: str | None  # the submission's origin (file, API account, objection)
    retracted_at: str | None
    rule_id: str | None  # the rule it matched when stored (the current version: the active catalog)
    rule_legal_basis: str | None


@dataclass
class ReportRecord:
    """A department record: its current version as the score sees it, and its whole history."""

    department: str
    department_name: str
    department_legal_basis: str
    source_id: str
    metric: str
    metric_name: str
    retracted: bool
    current: ExplanationItem | None  # None: the current version is no longer about this resident
    versions: list[RecordVersion] = field(default_factory=list)  # oldest first


@dataclass
class Delivery:
    channel: str
    status: str
    attempts: int
    delivered_at: str | None


@dataclass
class NoticeSent:
    """A notice as the resident reads it, with the state of each channel's delivery."""

    id: int
    kind: str
    created_at: str
    effective_on: str | None
    department: str
    source_id: str
    title: str
    body: str
    deliveries: list[Delivery]


@dataclass
class AccessEntry:
    """One audit entry about this resident: who read or changed its data, when, as whom, why."""

    at: str
    account: str
    role: str
    action: str
    purpose: str | None
    outcome: str


@dataclass
class SubjectReport:
    subject_id: str
    at: str
    generated_at: str
    scheme: str
    catalog_version: int | None
    base: int
    score: int
    defaulter: bool
    records: list[ReportRecord]
    objections: list[Objection]
    notices: list[NoticeSent]
    listings: list[Listing]
    access_log: list[AccessEntry]  # newest first

    @property
    def adjustments(self) -> list[ExplanationItem]:
        """The current versions that matched a rule: points, category, dates, caps that bit."""
        return [r.current for r in self.records if r.current is not None and r.current.rule_id is not None]

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["adjustments"] = [
            {
                k: v
                for k, v in asdict(a).items()
                if k
                in (
                    "department",
                    "source_id",
                    "version",
                    "rule_id",
                    "points",
                    "category",
                    "start",
                    "end",
                    "active",
                    "status",
                    "caps_bit",
                    "rule_legal_basis",
                )
            }
            for a in self.adjustments
        ]
        return out
