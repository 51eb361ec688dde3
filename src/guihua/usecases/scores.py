"""Scores, explanations, perks, exports and the distribution report.

All of them run the engine's queries on the store; this module only picks
the query and the subset (one subject, everyone), runs it, and shapes the
answer. Every read of a resident's data is audited.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guihua.core.catalog import Catalog
from guihua.core.errors import CannotWrite, InvalidInput
from guihua.core.policy import Actor
from guihua.core.results import (
    CategoryTotal,
    Distribution,
    Explanation,
    ExplanationItem,
    PerkEligibility,
    Score,
)
from guihua.engine import eligibility
from guihua.engine.cases import subject_cases
from guihua.engine.explanation import explanation
from guihua.engine.scoring import HISTOGRAM_BIN, contributions, score_histogram, score_summary, scores
from guihua.kit.clock import as_date, today
from guihua.store.catalog_queries import ActiveCatalog, active_catalog
from guihua.store.database import Store
from guihua.store.engine_queries import query_rows, run_query
from guihua.usecases import audit
from guihua.usecases.subjects import check_subject

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlalchemy import Connection

    from guihua.engine.backends import Columnar


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
    categories: bool = False,
) -> Explanation:
    """Every record behind a subject's score, as the engine sees it at ``at``; the read is audited.

    ``action`` names the read in the audit trail: a resident's full report reads the explanation
    as part of itself and is logged once, as ``subject.report``, not as two reads.
    ``categories``: also what each category and year adds after its caps (the portal's
    breakdown of the score), read in the same transaction, so it sums to the same score.
    """
    sid = check_subject(subject_id)
    with store.begin() as conn:
        active = active_catalog(conn)
        catalog, day = active.catalog, scheme_day(active, at)
        head = query_rows(conn, eligibility.subject_perks, catalog, day, sid)[0]
        rows = query_rows(conn, explanation, catalog, day, sid)
        cases = query_rows(conn, subject_cases, catalog, day, sid)
        totals = query_rows(conn, contributions, catalog, day, sid) if categories else []
    audit.record(store, actor or audit.cli_actor(), action, subject_id=sid, purpose=purpose)
    result = Explanation(_score(active, sid, day, head))
    result.items = [_item(row, catalog) for row in rows]
    result.listings = [_case(row) for row in cases]
    result.categories = sorted((_total(row) for row in totals), key=lambda t: (-t.year, t.category or ""))
    return result


def _total(row: dict[str, Any]) -> CategoryTotal:
    return CategoryTotal(
        category=row["category"],
        year=int(row["start_year"]),
        gain=int(row["gain"] or 0),
        loss=int(row["loss"] or 0),
        contribution=int(row["contribution"] or 0),
        gain_capped=bool(row["gain_capped"]),
        loss_capped=bool(row["loss_capped"]),
    )


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
    """subject_id, score, defaulter for every subject with a counting record (the store's own SQL)."""
    return population_scores(store, at, "sql")[2]


def population_scores(
    store: Store,
    at: dt.date | None = None,
    engine: str = "sql",
    *,
    perks: bool = False,
    spark_master: str | None = None,
    work_dir: Path | None = None,
) -> tuple[dt.date, Catalog, pa.Table]:
    """The day, the catalog and every subject's score and defaulter flag (and perks) at it, on ``engine``.

    ``sql`` runs the engine's query in the store; ``duckdb`` and ``spark`` read a columnar copy
    of the store's records and objections, streamed to Parquet in ``work_dir`` (default: a
    temporary folder, removed after) in one read transaction with the catalog it is scored
    under. Every engine answers the same table (:func:`guihua.engine.backends.scores_on`).
    """
    from guihua.engine import backends

    if engine not in backends.ENGINES:
        raise InvalidInput(f"unknown engine {engine!r}: use one of {', '.join(backends.ENGINES)}")
    if engine == "sql":
        query = eligibility.everyone_perks if perks else scores
        with store.begin() as conn:
            active = active_catalog(conn)
            day = scheme_day(active, at)
            table = run_query(conn, query, active.catalog, day)
        return day, active.catalog, backends.shape_scores(table, active.catalog, perks)
    if work_dir is not None and not work_dir.is_dir():
        raise InvalidInput(f"cannot use --work-dir {work_dir}: no such folder")
    with tempfile.TemporaryDirectory(prefix="guihua-scores-", dir=work_dir) as tmp, ExitStack() as held:
        folder = Path(tmp)
        with store.begin() as conn:
            source = columnar_source(conn, folder, held, read_only=store.read_only)
            active = active_catalog(conn)
            day = scheme_day(active, at)
        table = backends.scores_on(
            engine, source, active.catalog, day, perks=perks, spark_master=spark_master, work_dir=folder
        )
    return day, active.catalog, table


def columnar_source(conn: Connection, folder: Path, held: ExitStack, read_only: bool = False) -> Columnar:
    """The records and objections in columnar form, of the moment ``conn``'s transaction reads.

    The records come from the store's columnar copy (:mod:`guihua.store.record_mirror`), synced
    first and held unchanged until ``held`` closes; a store without one (or opened read-only
    with one not up to date) is copied into ``folder``. The objections, few, are always copied.
    """
    from guihua.engine.backends import SCORING_COLUMNS, Columnar
    from guihua.store import export_queries, record_mirror, record_queries

    export_queries.snapshot(conn)
    mirror = record_mirror.mirror_folder(conn)
    if mirror is not None and read_only and not record_mirror.is_current(conn, mirror):
        mirror = None
    if mirror is None:
        return export_queries.export_columnar(conn, folder, SCORING_COLUMNS)
    if not read_only:
        record_queries.hold_writes(conn)
    try:
        records = held.enter_context(record_mirror.held(conn, mirror))
    except OSError as exc:
        raise CannotWrite(
            f"cannot keep the records' columnar copy in {mirror}: {exc.strerror or exc}; set "
            "GUIHUA_COLUMNAR_DIR to a folder this user may write, or GUIHUA_COLUMNAR=off"
        ) from None
    copied = export_queries.export_columnar(conn, folder, SCORING_COLUMNS, records=records is None)
    return Columnar(records or copied.records, copied.objections)


def export_scores(
    store: Store,
    out: Path,
    at: dt.date | None = None,
    actor: Actor | None = None,
    purpose: str | None = None,
    engine: str = "sql",
    *,
    perks: bool = False,
    spark_master: str | None = None,
    work_dir: Path | None = None,
) -> int:
    """Every score into ``out`` (.csv or .parquet) computed on ``engine``; audited with its purpose.

    Columns: subject_id, score, defaulter, at; with ``perks`` one boolean column per perk,
    ``perk_CODE``: eligible at the date (spec section 6).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InvalidInput(f"cannot write {out.name}: use a .csv or .parquet file name")
    if not out.parent.exists():
        raise InvalidInput(f"cannot write {out}: folder {out.parent} does not exist")
    if spark_master is not None and engine != "spark":
        raise InvalidInput("--spark-master goes with --engine spark")
    day, catalog, table = population_scores(
        store, at, engine, perks=perks, spark_master=spark_master, work_dir=work_dir
    )
    audit.record(
        store,
        actor or audit.cli_actor(),
        "scores.export",
        purpose=purpose,
        detail=f"{table.num_rows} subjects at {day} on {engine}",
    )
    out_table = table.select(["subject_id", "score", "defaulter"])
    out_table = out_table.append_column("at", pa.array([day] * table.num_rows, pa.date32()))
    if perks:
        for i, perk in enumerate(catalog.perks):
            out_table = out_table.append_column(
                f"perk_{perk.code}", table.column(eligibility.column(i, "eligible"))
            )
    if suffix == ".csv":
        pacsv.write_csv(out_table, out)
    else:
        pq.write_table(out_table, out)
    return int(out_table.num_rows)


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
