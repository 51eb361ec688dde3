"""Scores, explanations, perks, exports and the distribution report.

All of them run the engine's expressions (guihua.engine.score) on the store;
this module only chooses the subset, runs it and shapes the answer.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy import Connection

from guihua.core.catalog import Catalog
from guihua.core.errors import InvalidInput
from guihua.engine import score as engine
from guihua.engine.runner import query_rows, run_query
from guihua.kit.clock import as_date, today
from guihua.store.database import Store
from guihua.usecases import audit, objections
from guihua.usecases.catalogs import active_catalog
from guihua.usecases.subjects import check_subject as check_subject  # adapters use it via scores


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


RECORDS = engine.records_table()


def _score_in(conn: Connection, store: Store, catalog: Catalog, sid: str, at: dt.date) -> tuple[int, bool]:
    rows = query_rows(conn, engine.scores, RECORDS, catalog, store.sql_dialect, at, sid)
    if not rows:
        return catalog.scheme.base, False  # no records: base, not a defaulter
    return int(rows[0]["score"]), bool(rows[0]["defaulter"])


def subject_score(
    store: Store,
    subject_id: str,
    at: dt.date | None = None,
    actor: audit.Actor | None = None,
    purpose: str | None = None,
) -> Score:
    """A subject's score at ``at``; the read is audited."""
    sid, at = check_subject(subject_id), at or today()
    with store.begin() as conn:
        active = active_catalog(conn)
        value, defaulter = _score_in(conn, store, active.catalog, sid, at)
    audit.record(store, actor or audit.cli_actor(), "subject.score", subject_id=sid, purpose=purpose)
    return Score(sid, at.isoformat(), value, defaulter, active.catalog.scheme.base, active.version)


@dataclass
class ExplanationItem:
    department: str
    department_name: str
    source_id: str
    version: int
    metric: str
    metric_name: str
    occurred_at: str
    fields: dict[str, Any]
    rule_id: str | None
    points: int
    category: str | None
    start: str | None
    end: str | None
    active: bool
    status: (
        str  # counting | disputed | suspended | revoked | expired | pending | retracted | no_rule | protected
    )
    caps_bit: list[str]
    rule_legal_basis: str | None
    department_legal_basis: str
    case_id: str | None = None
    action: str | None = None
    objection: str | None = None  # state of the latest objection at the date, if any


@dataclass
class Explanation:
    score: Score
    items: list[ExplanationItem] = field(default_factory=list)
    listings: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.score.as_dict(),
            "records": [asdict(i) for i in self.items],
            "listings": self.listings,
        }


def _status(row: dict[str, Any], catalog: Catalog, at: dt.date, objection: str | None) -> str:
    metric = catalog.metric_by_code.get(row["metric"])
    if row["retracted"]:
        return "retracted"
    if metric is not None and metric.protected:
        return "protected"
    if row["rule_id"] is None:
        return "no_rule"
    if objection in ("suspended", "revoked"):
        return objection
    if row["active"]:
        return "disputed" if objection == "open" else "counting"
    start = as_date(row["start_date"])
    return "pending" if start is not None and start > at else "expired"


def explain(
    store: Store,
    subject_id: str,
    at: dt.date | None = None,
    actor: audit.Actor | None = None,
    purpose: str | None = None,
    action: str = "subject.explain",
) -> Explanation:
    """Every record behind a subject's score, as the engine sees it at ``at``; the read is audited.

    ``action`` names the read in the audit trail: a resident's full report reads the explanation
    as part of itself and is logged once, as ``subject.report``, not as two reads.
    """
    sid, at = check_subject(subject_id), at or today()
    with store.begin() as conn:
        active = active_catalog(conn)
        catalog = active.catalog
        value, defaulter = _score_in(conn, store, catalog, sid, at)
        rows = query_rows(conn, engine.explanation, RECORDS, catalog, store.sql_dialect, at, sid)
        listing_rows = query_rows(conn, engine.listings, RECORDS, catalog, store.sql_dialect, at, sid)
        objected = objections.states_by_record(conn, sid, at)
    audit.record(store, actor or audit.cli_actor(), action, subject_id=sid, purpose=purpose)
    result = Explanation(Score(sid, at.isoformat(), value, defaulter, catalog.scheme.base, active.version))
    for row in rows:
        result.items.append(_item(row, catalog, at, objected.get((row["department"], row["source_id"]))))
    for row in listing_rows:
        listed, resolved = as_date(row["listed_at"]), as_date(row["resolved_at"])
        result.listings.append(
            {
                "department": row["department"],
                "metric": row["metric"],
                "case_id": row["case_id"],
                "listed_at": listed.isoformat() if listed else None,
                "resolved_at": resolved.isoformat() if resolved else None,
                "open": bool(listed and listed <= at and (resolved is None or resolved > at)),
            }
        )
    return result


def _item(row: dict[str, Any], catalog: Catalog, at: dt.date, objection: str | None) -> ExplanationItem:
    rule = catalog.rule_by_id.get(row["rule_id"]) if row["rule_id"] else None
    dept = catalog.department_by_code.get(row["department"])
    metric = catalog.metric_by_code.get(row["metric"])
    start, end = as_date(row["start_date"]), as_date(row["effective_end"])
    caps = [kind for kind in ("gain", "loss") if row[f"{kind}_capped"]]
    return ExplanationItem(
        department=row["department"],
        department_name=dept.name if dept else row["department"],
        source_id=row["source_id"],
        version=int(row["version"]),
        metric=row["metric"],
        metric_name=metric.name if metric else row["metric"],
        occurred_at=str(as_date(row["occurred_at"])),
        fields=json.loads(row["fields"]),
        rule_id=row["rule_id"],
        points=int(row["points"] or 0),
        category=row["category"],
        start=start.isoformat() if start else None,
        end=end.isoformat() if end else None,
        active=bool(row["active"]),
        status=_status(row, catalog, at, objection),
        objection=objection,
        caps_bit=caps,
        rule_legal_basis=rule.legal_basis if rule else None,
        department_legal_basis=dept.legal_basis if dept else "",
        case_id=row["case_id"],
        action=row["action"],
    )


@dataclass
class PerkEligibility:
    perk: str
    name: str
    provider: str
    eligible: bool
    reason: str
    benefit: str


def perks(
    store: Store, subject_id: str, at: dt.date | None = None, actor: audit.Actor | None = None
) -> tuple[Score, list[PerkEligibility]]:
    """Each perk of the scheme with eligible yes/no and why (spec section 6)."""
    s = subject_score(store, subject_id, at, actor, purpose="perks")
    with store.begin() as conn:
        catalog = active_catalog(conn).catalog
    return s, [perk_eligibility(catalog, p.code, s) for p in catalog.perks]


def perk_eligibility(catalog: Catalog, code: str, s: Score) -> PerkEligibility:
    p = catalog.perk_by_code[code]
    if s.score < p.min_score:
        ok, why = False, f"score {s.score} is below the minimum {p.min_score}"
    elif p.clean_record_required and s.defaulter:
        ok, why = False, "on the defaulter list: a clean record is required"
    else:
        clean = " and a clean record" if p.clean_record_required else ""
        ok, why = True, f"score {s.score} reaches the minimum {p.min_score}{clean}"
    return PerkEligibility(p.code, p.name, p.provider, ok, why, p.benefit)


# --------------------------------------------------------------------------- population


def all_scores(store: Store, at: dt.date) -> pa.Table:
    """subject_id, score, defaulter for every subject with a counting record."""
    with store.begin() as conn:
        catalog = active_catalog(conn).catalog
        table = run_query(conn, engine.scores, RECORDS, catalog, store.sql_dialect, at)
    if table.num_rows == 0:
        return pa.table(
            {
                "subject_id": pa.array([], pa.string()),
                "score": pa.array([], pa.int64()),
                "defaulter": pa.array([], pa.bool_()),
            }
        )
    return pa.table(
        {
            "subject_id": table.column("subject_id").cast(pa.string()),
            "score": table.column("score").cast(pa.int64()),
            "defaulter": pc.cast(table.column("defaulter"), pa.bool_()),
        }
    ).sort_by("subject_id")


def export_scores(store: Store, out: Path, at: dt.date | None = None) -> int:
    at = at or today()
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InvalidInput(f"cannot write {out.name}: use a .csv or .parquet file name")
    if not out.parent.exists():
        raise InvalidInput(f"cannot write {out}: folder {out.parent} does not exist")
    table = all_scores(store, at)
    audit.record(store, audit.cli_actor(), "scores.export", detail=f"{table.num_rows} subjects at {at}")
    table = table.append_column("at", pa.array([at] * table.num_rows, pa.date32()))
    if suffix == ".csv":
        pacsv.write_csv(table, out)
    else:
        pq.write_table(table, out)
    return int(table.num_rows)


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


def distribution(store: Store, at: dt.date | None = None) -> Distribution:
    """Above / at / below base, defaulters and a histogram, for everyone in the store."""
    at = at or today()
    width = engine.HISTOGRAM_BIN
    with store.begin() as conn:
        catalog = active_catalog(conn).catalog
        head = run_query(conn, engine.score_summary, RECORDS, catalog, store.sql_dialect, at).to_pylist()[0]
        bars = run_query(conn, engine.score_histogram, RECORDS, catalog, store.sql_dialect, at).to_pylist()
    counts = {k: int(v or 0) for k, v in head.items()}
    return Distribution(
        at=at.isoformat(),
        base=catalog.scheme.base,
        histogram=[
            {"from": int(b["low"]), "to": int(b["low"]) + width, "count": int(b["count"])} for b in bars
        ],
        **counts,
    )
