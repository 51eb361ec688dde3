"""Scores, explanations, perks, exports and the distribution report.

All of them run the engine's queries on the store; this module only picks
the query and the subset (one subject, everyone), runs it, and shapes the
answer. Every read of a resident's data is audited.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guihua.core.catalog import Catalog
from guihua.core.errors import InvalidInput
from guihua.core.policy import Actor
from guihua.core.results import Distribution, Explanation, ExplanationItem, PerkEligibility, Score
from guihua.engine import eligibility
from guihua.engine.cases import subject_cases
from guihua.engine.explanation import explanation
from guihua.engine.scoring import HISTOGRAM_BIN, score_histogram, score_summary, scores
from guihua.kit.clock import as_date, today
from guihua.store.catalog_queries import ActiveCatalog, active_catalog
from guihua.store.database import Store
from guihua.store.engine_queries import query_rows, run_query
from guihua.usecases import audit
from guihua.usecases.subjects import check_subject

if TYPE_CHECKING:
    import pyarrow as pa


def scheme_day(active: ActiveCatalog, at: dt.date | None) -> dt.date:
    """``at``, or today in the scheme's time zone."""
    return at or today(active.catalog.scheme.timezone)


def _perk_row(store: Store, sid: str, at: dt.date | None) -> tuple[ActiveCatalog, dt.date, dict[str, Any]]:
    with store.begin() as conn:
        active = active_catalog(conn)
        day = scheme_day(active, at)
        row = query_rows(conn, eligibility.subject_perks, active.catalog, day, sid)[0]
    return active, day, row


def _score(active: ActiveCatalog, sid: str, day: dt.date, row: dict[str, Any]) -> Score:
    base = active.catalog.scheme.base
    return Score(sid, day.isoformat(), int(row["score"]), bool(row["defaulter"]), base, active.version)


def subject_score(
    store: Store,
    subject_id: str,
    at: dt.date | None = None,
    actor: Actor | None = None,
    purpose: str | None = None,
) -> Score:
    """A subject's score at ``at`` (default today); the read is audited."""
    sid = check_subject(subject_id)
    active, day, row = _perk_row(store, sid, at)
    audit.record(store, actor or audit.cli_actor(), "subject.score", subject_id=sid, purpose=purpose)
    return _score(active, sid, day, row)


def perks(
    store: Store,
    subject_id: str,
    at: dt.date | None = None,
    actor: Actor | None = None,
    purpose: str | None = None,
) -> tuple[Score, list[PerkEligibility]]:
    """Each perk of the scheme: eligible or not, with every reason that applies (spec section 6)."""
    sid = check_subject(subject_id)
    active, day, row = _perk_row(store, sid, at)
    audit.record(store, actor or audit.cli_actor(), "subject.perks", subject_id=sid, purpose=purpose)
    s = _score(active, sid, day, row)
    return s, [perk_answer(active.catalog, i, s, row) for i in range(len(active.catalog.perks))]


def perk_eligibility(
    store: Store, code: str, subject_id: str, at: dt.date | None, actor: Actor, purpose: str
) -> tuple[Score, PerkEligibility]:
    """One perk for one subject (a provider's check); the read is audited."""
    sid = check_subject(subject_id)
    active, day, row = _perk_row(store, sid, at)
    index = next(i for i, p in enumerate(active.catalog.perks) if p.code == code)
    audit.record(store, actor, "subject.score", subject_id=sid, purpose=purpose)
    s = _score(active, sid, day, row)
    return s, perk_answer(active.catalog, index, s, row)


def perk_answer(catalog: Catalog, index: int, s: Score, row: dict[str, Any]) -> PerkEligibility:
    """The engine's verdict on perk ``index`` put in words (every reason that applies)."""
    p = catalog.perks[index]
    reasons, words = [], []
    if row[eligibility.column(index, "low")]:
        reasons.append("below_min_score")
        words.append(f"score {s.score} is below the minimum {p.min_score}")
    if row[eligibility.column(index, "listed")]:
        reasons.append("on_defaulter_list")
        words.append("on the defaulter list: a clean record is required")
    eligible = bool(row[eligibility.column(index, "eligible")])
    if eligible:
        clean = " and a clean record" if p.clean_record_required else ""
        words.append(f"score {s.score} reaches the minimum {p.min_score}{clean}")
    return PerkEligibility(p.code, p.name, p.provider, eligible, "; ".join(words), p.benefit, reasons)


def explain(
    store: Store,
    subject_id: str,
    at: dt.date | None = None,
    actor: Actor | None = None,
    purpose: str | None = None,
    action: str = "subject.explain",
) -> Explanation:
    """Every record behind a subject's score, as the engine sees it at ``at``; the read is audited.

    ``action`` names the read in the audit trail: a resident's full report reads the explanation
    as part of itself and is logged once, as ``subject.report``, not as two reads.
    """
    sid = check_subject(subject_id)
    with store.begin() as conn:
        active = active_catalog(conn)
        catalog, day = active.catalog, scheme_day(active, at)
        head = query_rows(conn, eligibility.subject_perks, catalog, day, sid)[0]
        rows = query_rows(conn, explanation, catalog, day, sid)
        cases = query_rows(conn, subject_cases, catalog, day, sid)
    audit.record(store, actor or audit.cli_actor(), action, subject_id=sid, purpose=purpose)
    result = Explanation(_score(active, sid, day, head))
    result.items = [_item(row, catalog) for row in rows]
    result.listings = [_case(row) for row in cases]
    return result


def _day(value: Any) -> str | None:
    day = as_date(value)
    return day.isoformat() if day else None


def _case(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "department": row["department"],
        "metric": row["metric"],
        "case_id": row["case_id"],
        "listed_at": _day(row["listed_at"]),
        "resolved_at": _day(row["resolved_at"]),
        "open": bool(row["open"]),
    }


def _item(row: dict[str, Any], catalog: Catalog) -> ExplanationItem:
    rule = catalog.rule_by_id.get(row["rule_id"]) if row["rule_id"] else None
    dept = catalog.department_by_code.get(row["department"])
    metric = catalog.metric_by_code.get(row["metric"])
    return ExplanationItem(
        department=row["department"],
        department_name=dept.name if dept else row["department"],
        source_id=row["source_id"],
        version=int(row["version"]),
        metric=row["metric"],
        metric_name=metric.name if metric else row["metric"],
        occurred_at=str(as_date(row["occurred_at"])),
        received_on=_day(row["received_on"]),
        fields=json.loads(row["fields"]),
        rule_id=row["rule_id"],
        points=int(row["points"] or 0),
        category=row["category"],
        start=_day(row["start_date"]),
        end=_day(row["effective_end"]),
        active=bool(row["active"]),
        status=str(row["status"]),
        objection=row["objection_state"],
        caps_bit=[kind for kind in ("gain", "loss") if row[f"{kind}_capped"]],
        rule_legal_basis=rule.legal_basis if rule else None,
        department_legal_basis=dept.legal_basis if dept else "",
        case_id=row["case_id"],
        action=row["action"],
    )


# --------------------------------------------------------------------------- population


def all_scores(store: Store, at: dt.date | None = None) -> pa.Table:
    """subject_id, score, defaulter for every subject with a counting record."""
    import pyarrow as pa
    import pyarrow.compute as pc

    with store.begin() as conn:
        active = active_catalog(conn)
        table = run_query(conn, scores, active.catalog, scheme_day(active, at))
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


def export_scores(
    store: Store,
    out: Path,
    at: dt.date | None = None,
    actor: Actor | None = None,
    purpose: str | None = None,
) -> int:
    """Every score into ``out`` (.csv or .parquet); the export is audited with its purpose."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InvalidInput(f"cannot write {out.name}: use a .csv or .parquet file name")
    if not out.parent.exists():
        raise InvalidInput(f"cannot write {out}: folder {out.parent} does not exist")
    with store.begin() as conn:
        day = scheme_day(active_catalog(conn), at)
    table = all_scores(store, day)
    audit.record(
        store,
        actor or audit.cli_actor(),
        "scores.export",
        purpose=purpose,
        detail=f"{table.num_rows} subjects at {day}",
    )
    table = table.append_column("at", pa.array([day] * table.num_rows, pa.date32()))
    if suffix == ".csv":
        pacsv.write_csv(table, out)
    else:
        pq.write_table(table, out)
    return int(table.num_rows)


def distribution(store: Store, at: dt.date | None = None) -> Distribution:
    """Above / at / below base, defaulters and a histogram, for everyone in the store."""
    with store.begin() as conn:
        active = active_catalog(conn)
        catalog, day = active.catalog, scheme_day(active, at)
        head = run_query(conn, score_summary, catalog, day).to_pylist()[0]
        bars = run_query(conn, score_histogram, catalog, day).to_pylist()
    counts = {k: int(v or 0) for k, v in head.items()}
    return Distribution(
        at=day.isoformat(),
        base=catalog.scheme.base,
        histogram=[
            {"from": int(b["low"]), "to": int(b["low"]) + HISTOGRAM_BIN, "count": int(b["count"])}
            for b in bars
        ],
        **counts,
    )
