"""What-if simulation (spec section 9): every resident re-scored under a proposed catalog, nothing stored.

A simulation at ``t`` gives, for every resident with a current record, exactly the score,
defaulter flag and perks that loading the proposed catalog and asking at ``t`` would give, and
changes nothing that is stored. It does what ``catalog load`` does to the records (re-matches
every current record with the same matcher, :mod:`guihua.usecases.population`) in a scratch
columnar copy instead of in the store, then runs the engine's own queries on DuckDB over that
copy. The store is read through a read-only connection (SQLite ``mode=ro``, a PostgreSQL
read-only transaction) in one snapshot; the one thing a simulation adds to the store is its
audit entry, written afterwards by :func:`simulate` (what was simulated, by whom, how many
residents change; never a resident's id).

The answer (:class:`Simulation`): how many residents change and by how much (winners and
losers in buckets), who crosses a threshold (falls below base, becomes or stops being a
defaulter, gains or loses each perk), which rules and categories cause it (points at the date
by rule before and after; each category's capped contribution), what the catalog changes, the
same by group, the fairness audit before and after (:mod:`guihua.usecases.fairness`), score
histograms, and one row per resident who changes (``--changes``).

The baseline is the active catalog (its stored match), or another proposal (``--baseline``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from guihua.core import fairness_stats
from guihua.core.catalog import Catalog
from guihua.core.catalog_parsing import parse_catalog
from guihua.core.errors import CannotWrite, CatalogRefused, InvalidInput
from guihua.core.policy import SUPPRESS_BELOW, Actor
from guihua.engine import eligibility, impact
from guihua.engine.impact import CHANGE_BUCKETS, perk_column
from guihua.engine.scoring import HISTOGRAM_BIN
from guihua.engine.tables import Overlay
from guihua.store.catalog_queries import active_catalog
from guihua.store.database import Store, open_store
from guihua.usecases import audit, fairness
from guihua.usecases.population import Copy, DuckRunner, columnar_copy
from guihua.usecases.scores import scheme_day

ENGINES: tuple[str, ...] = ("duckdb", "sql", "spark")  # guihua.engine.backends.ENGINES
CHANGES_FORMATS: tuple[str, ...] = (".csv", ".parquet")


@dataclass(frozen=True)
class Simulation:
    """A simulation's answer: ``summary`` is the ``--json`` object, ``changes`` the residents who change.

    ``outcomes``: every resident before and after (:func:`guihua.engine.impact.outcomes_schema`;
    perk ``j`` is ``perks[j]``), for whoever checks a simulation against a loaded catalog. Both
    tables are kept only when asked for; the command line streams the changes to their file.
    """

    summary: dict[str, Any]
    changes: pa.Table | None  # None unless asked for (``keep_tables``): a city's may be millions
    outcomes: pa.Table | None
    perks: list[str]


def check_engine(engine: str, spark_master: str | None = None) -> None:
    """DuckDB, the store's own SQL or Spark; a Spark master only with Spark."""
    if engine not in ENGINES:
        raise InvalidInput(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    if spark_master is not None and engine != "spark":
        raise InvalidInput("--spark-master goes with --engine spark")


def check_changes_path(path: Path) -> None:
    """Refused before anything is computed: a .csv or .parquet file in a folder that exists."""
    if path.suffix.lower() not in CHANGES_FORMATS:
        raise InvalidInput(f"cannot write {path.name}: --changes takes a .csv or .parquet file name")
    if not path.parent.exists():
        raise CannotWrite(f"cannot write {path}: folder {path.parent} does not exist")


def parse_proposal(text: str, label: str | None = None) -> Catalog:
    """A proposed catalog, refused exactly as ``catalog load`` refuses it (every problem listed).

    ``label`` prefixes each problem (the baseline's, so that two files' problems are told apart).
    """
    try:
        return parse_catalog(text)
    except CatalogRefused as refused:
        if label is None:
            raise
        raise CatalogRefused([f"{label}: {p}" for p in refused.problems]) from None


def simulate(
    store: Store,
    proposal_text: str,
    *,
    baseline_text: str | None = None,
    at: dt.date | None = None,
    actor: Actor | None = None,
    engine: str = "duckdb",
    spark_master: str | None = None,
    work_dir: Path | None = None,
    public: bool = False,
    changes_out: Path | None = None,
    keep_tables: bool = True,
) -> Simulation:
    """Re-score everyone under the proposal (against the active catalog, or ``baseline_text``).

    The computation reads the store through a read-only twin of ``store``; the run is then
    audited in ``store`` (the proposal's digest, the baseline, the date, how many change).
    ``changes_out``: also write the residents who change there (.csv or .parquet).
    ``keep_tables``: answer the outcomes and changes as tables too (False for a whole city).
    """
    actor = actor or audit.cli_actor()
    fairness.check_auditor(actor, "a simulation")
    check_engine(engine, spark_master)
    if changes_out is not None:
        check_changes_path(changes_out)
    proposal = parse_proposal(proposal_text)
    baseline = parse_proposal(baseline_text, "--baseline") if baseline_text is not None else None
    reader = store if store.read_only else read_only_twin(store)
    try:
        result = compute(
            reader,
            proposal,
            baseline,
            at,
            public=public,
            engine=engine,
            spark_master=spark_master,
            work_dir=work_dir,
            changes_out=changes_out,
            keep_tables=keep_tables,
        )
    finally:
        if reader is not store:
            reader.dispose()
    s = result.summary
    audit.record(
        store,
        actor,
        "scores.simulate",
        detail=(
            f"proposal {proposal.digest[:12]} ({proposal.scheme.name}) against "
            f"{_baseline_words(s['baseline'])} at {s['at']} on {engine}: {s['subjects']} residents, "
            f"{s['changed']} change" + (f"; changes written to {changes_out.name}" if changes_out else "")
        ),
    )
    return result


def read_only_twin(store: Store) -> Store:
    """The same store opened again read-only (SQLite ``mode=ro``; PostgreSQL read-only transactions)."""
    return open_store(store.engine.url.render_as_string(hide_password=False), read_only=True)


def _baseline_words(b: dict[str, Any]) -> str:
    if b["kind"] == "active":
        version = b["catalog_version"]
        return f"active catalog version {version}" if version is not None else "the packaged default"
    return f"baseline {b['digest'][:12]}"


def compute(
    reader: Store,
    proposal: Catalog,
    baseline: Catalog | None = None,
    at: dt.date | None = None,
    public: bool = False,
    engine: str = "duckdb",
    spark_master: str | None = None,
    work_dir: Path | None = None,
    changes_out: Path | None = None,
    keep_tables: bool = True,
) -> Simulation:
    """The simulation itself, reading ``reader`` only (open it read-only: nothing is written).

    ``engine`` runs the engine's queries over the records (duckdb, sql: the store itself, or
    spark); their answers, the outcomes (one row per resident) and their aggregation stay in
    files and on DuckDB.
    ``changes_out`` receives the residents who change (.csv or .parquet).
    """
    with reader.begin() as conn:
        active = active_catalog(conn)
    day = scheme_day(active, at)
    before_catalog = baseline or active.catalog
    catalogs = (before_catalog, proposal)
    protected = fairness.protected_metrics(*catalogs)
    dims = fairness.dimensions(*catalogs)
    sides: dict[str, Catalog | None] = {"before": baseline, "after": proposal}  # None: as stored
    in_store = engine == "sql"
    with columnar_copy(reader, sides, set(protected), work_dir=work_dir, in_store=in_store) as copy:
        runner = DuckRunner(copy, engine, spark_master)
        try:
            found = {
                side: {
                    "scores": runner.query(side, eligibility.everyone_perks, catalog, day),
                    "rules": runner.query(side, impact.rule_points, catalog, day),
                    "categories": runner.query(side, impact.category_points, catalog, day),
                }
                for side, catalog in zip(impact.SIDES, catalogs, strict=True)
            }
            latest = [
                runner.query(side, impact.protected_latest, catalog, day)
                for side, catalog in zip(impact.SIDES, catalogs, strict=True)
                if side == "after" or protected_differ(copy, catalogs)
            ]
            groups = fairness.protected_groups(latest, catalogs, protected)
            table = runner.scratch("outcomes.parquet")
            _, perks = fairness.outcomes(
                found["before"]["scores"],
                before_catalog,
                found["after"]["scores"],
                proposal,
                groups,
                dims,
                day,
                table,
            )
            bases = (before_catalog.scheme.base, proposal.scheme.base)
            counts = fairness.group_counts(runner, table, len(perks), len(dims), bases)
            shape = (str(len(perks)), str(len(dims)))  # the outcomes table's columns
            buckets = runner.over(
                ("change_buckets", *shape),
                lambda: impact.change_buckets(_outcomes(perks, dims)),
                outcomes=table,
            )
            bins = runner.over(
                ("score_bins", *shape), lambda: impact.score_bins(_outcomes(perks, dims)), outcomes=table
            )
            rules = {side: pq.read_table(found[side]["rules"]) for side in impact.SIDES}
            categories = {side: pq.read_table(found[side]["categories"]) for side in impact.SIDES}
            changes = changed_residents(pl.scan_parquet(table), perks)
            if changes_out is not None:
                write_changes(changes, changes_out)
            kept = (None, None)
            if keep_tables:
                kept = (changes.collect().to_arrow(), pq.read_table(table).sort_by("subject_id"))
        finally:
            runner.close()
    summary = _summary(day, active.version, proposal, baseline, before_catalog, perks, dims, counts, public)
    summary["engine"] = engine  # (in its place: the key comes second)
    summary["records"] = copy.records
    summary["buckets"] = _buckets(buckets)
    summary["histogram"] = _histogram(bins)
    summary["rules"] = _rules(rules["before"], rules["after"], before_catalog, proposal)
    summary["categories"] = _categories(categories["before"], categories["after"])
    summary["catalog_changes"] = catalog_changes(before_catalog, proposal)
    return Simulation(summary, kept[0], kept[1], perks)


def protected_differ(copy: Copy, catalogs: tuple[Catalog, Catalog]) -> bool:
    """Whether the two sides may find other protected records (else one side's query is enough).

    Protected metrics have no rules; their records differ between sides only when the catalogs
    mark other metrics protected or one side matches a protected metric's records again.
    """
    before, after = ([m.code for m in c.metrics if m.protected] for c in catalogs)
    again = set().union(*(s.metrics for s in copy.sides.values() if isinstance(s, Overlay)))
    return before != after or bool(again.intersection(before))


def _outcomes(perks: list[str], dims: list[str]) -> Any:
    return impact.outcomes_table(len(perks), len(dims))


# --------------------------------------------------------------------------- the summary


def _summary(
    day: dt.date,
    version: int | None,
    proposal: Catalog,
    baseline: Catalog | None,
    before: Catalog,
    perks: list[str],
    dims: list[str],
    counts: list[dict[str, Any]],
    public: bool,
) -> dict[str, Any]:
    everyone = next(c for c in counts if c["dimension"] == -1)
    n = int(everyone["subjects"])
    fair = {
        side: fairness.published(fairness.audit_rows(counts, dims, perks, c.scheme.base, side), public)
        for side, c in zip(impact.SIDES, (before, proposal), strict=True)
    }
    return {
        "at": day.isoformat(),
        "engine": None,  # set by compute
        "proposal": {"name": proposal.scheme.name, "digest": proposal.digest},
        "baseline": {
            "kind": "active" if baseline is None else "file",
            "catalog_version": version if baseline is None else None,
            "name": before.scheme.name,
            "digest": before.digest,
        },
        "base_before": before.scheme.base,
        "base_after": proposal.scheme.base,
        "subjects": n,
        "changed": int(everyone["changed"]),
        "score_changed": int(everyone["gainers"]) + int(everyone["losers"]),
        "gainers": int(everyone["gainers"]),
        "losers": int(everyone["losers"]),
        "mean_score_before": _mean(everyone["score_sum_before"], n),
        "mean_score_after": _mean(everyone["score_sum_after"], n),
        "mean_change": _mean(int(everyone["score_sum_after"]) - int(everyone["score_sum_before"]), n, 3),
        "crossings": {
            k: int(everyone[k])
            for k in ("falls_below_base", "rises_to_base", "becomes_defaulter", "stops_defaulter")
        },
        "defaulters_before": int(everyone["defaulters_before"]),
        "defaulters_after": int(everyone["defaulters_after"]),
        "perks": {
            code: {
                "gained": int(everyone[f"gained{j}"]),
                "lost": int(everyone[f"lost{j}"]),
                "eligible_before": int(everyone[f"eligible{j}_before"]),
                "eligible_after": int(everyone[f"eligible{j}_after"]),
            }
            for j, code in enumerate(perks)
        },
        "dimensions": dims,
        "by_group": fairness.published(_by_group(counts, dims, perks), public),
        "fairness": {side: rows for side, rows in fair.items()},
        "flags": {side: fairness.flags(rows) for side, rows in fair.items()},
        "public": public,
        "suppressed_below": SUPPRESS_BELOW,
        "min_flag_subjects": fairness_stats.MIN_FLAG_SUBJECTS,
        "four_fifths": fairness_stats.FOUR_FIFTHS,
    }


def _mean(total: Any, n: int, digits: int = 2) -> float | None:
    return round(int(total) / n, digits) if n else None


def _by_group(counts: list[dict[str, Any]], dims: list[str], perks: list[str]) -> list[dict[str, Any]]:
    """Winners, losers and crossings per group of each dimension."""
    rows = []
    for k, dimension in enumerate(dims):
        mine = sorted(
            (c for c in counts if c["dimension"] == k),
            key=lambda c: fairness.group_order(dimension, str(c["group"])),
        )
        for c in mine:
            n = int(c["subjects"])
            rows.append(
                {
                    "dimension": dimension,
                    "group": str(c["group"]),
                    "subjects": n,
                    "small": fairness_stats.small(n),
                    "changed": int(c["changed"]),
                    "gainers": int(c["gainers"]),
                    "losers": int(c["losers"]),
                    "mean_before": _mean(c["score_sum_before"], n),
                    "mean_after": _mean(c["score_sum_after"], n),
                    "mean_change": _mean(int(c["score_sum_after"]) - int(c["score_sum_before"]), n, 3),
                    "falls_below_base": int(c["falls_below_base"]),
                    "rises_to_base": int(c["rises_to_base"]),
                    "becomes_defaulter": int(c["becomes_defaulter"]),
                    "stops_defaulter": int(c["stops_defaulter"]),
                    "perks": {
                        code: {"gained": int(c[f"gained{j}"]), "lost": int(c[f"lost{j}"])}
                        for j, code in enumerate(perks)
                    },
                }
            )
    return rows


def _buckets(table: pa.Table) -> list[dict[str, Any]]:
    found = {int(r["bucket"]): int(r["subjects"]) for r in table.to_pylist() if r["bucket"] is not None}
    return [
        {"label": label, "min": low, "max": high, "subjects": found.get(i, 0)}
        for i, (label, low, high) in enumerate(CHANGE_BUCKETS)
    ]


def _histogram(table: pa.Table) -> dict[str, list[dict[str, int]]]:
    out: dict[str, list[dict[str, int]]] = {side: [] for side in impact.SIDES}
    for r in table.to_pylist():
        low = int(r["low"])
        out[str(r["side"])].append({"from": low, "to": low + HISTOGRAM_BIN, "count": int(r["count"])})
    return out


def _rules(before: pa.Table, after: pa.Table, b: Catalog, a: Catalog) -> list[dict[str, Any]]:
    """Points at the date by rule (before caps), before and after, with how each rule changed."""
    rows: dict[str, dict[str, Any]] = {}
    for side, table in (("before", before), ("after", after)):
        for r in table.to_pylist():
            row = rows.setdefault(
                str(r["rule_id"]), {"rule_id": str(r["rule_id"]), "category": r["category"]}
            )
            row |= {
                f"records_{side}": int(r["records"]),
                f"subjects_{side}": int(r["subjects"]),
                f"points_{side}": int(r["points"]),
            }
    for catalog in (a, b):  # rules that give no points at the date are listed too
        for rule in catalog.rules:
            metric = catalog.metric_by_code.get(rule.metric)
            rows.setdefault(rule.id, {"rule_id": rule.id, "category": metric.category if metric else None})
    out = []
    for rid, row in rows.items():
        for side in impact.SIDES:
            for what in ("records", "subjects", "points"):
                row.setdefault(f"{what}_{side}", 0)
        old, new = b.rule_by_id.get(rid), a.rule_by_id.get(rid)
        row["change"] = row["points_after"] - row["points_before"]
        row["rule"] = (
            "added" if old is None else "removed" if new is None else "changed" if old != new else "unchanged"
        )
        out.append(row)
    return sorted(out, key=lambda r: (-abs(r["change"]), r["rule"] == "unchanged", r["rule_id"]))


def _categories(before: pa.Table, after: pa.Table) -> list[dict[str, Any]]:
    """Each category's capped contribution at the date, before and after (and points before caps)."""
    rows: dict[str, dict[str, Any]] = {}
    for side, table in (("before", before), ("after", after)):
        for r in table.to_pylist():
            row = rows.setdefault(str(r["category"]), {"category": str(r["category"])})
            row |= {
                f"subjects_{side}": int(r["subjects"]),
                f"gain_{side}": int(r["gain"]),
                f"loss_{side}": int(r["loss"]),
                f"points_{side}": int(r["points"]),
            }
    for row in rows.values():
        for side in impact.SIDES:
            for what in ("subjects", "gain", "loss", "points"):
                row.setdefault(f"{what}_{side}", 0)
        row["change"] = row["points_after"] - row["points_before"]
    return sorted(rows.values(), key=lambda r: (-abs(r["change"]), r["category"]))


def catalog_changes(before: Catalog, after: Catalog) -> dict[str, Any]:
    """What the proposal changes in the catalog: the scheme's settings, and each list by its key."""

    def diff(old: list[Any], new: list[Any], key: str) -> dict[str, list[str]]:
        b, a = {getattr(x, key): x for x in old}, {getattr(x, key): x for x in new}
        return {
            "added": [k for k in a if k not in b],
            "removed": [k for k in b if k not in a],
            "changed": [k for k in a if k in b and a[k] != b[k]],
        }

    scheme = [
        name
        for name in type(before.scheme).model_fields
        if getattr(before.scheme, name) != getattr(after.scheme, name)
    ]
    return {
        "scheme": scheme,
        "categories": diff(before.categories, after.categories, "code"),
        "metrics": diff(before.metrics, after.metrics, "code"),
        "departments": diff(before.departments, after.departments, "code"),
        "rules": diff(before.rules, after.rules, "id"),
        "perks": diff(before.perks, after.perks, "code"),
        "rule_order_changed": [r.id for r in before.rules if r.id in after.rule_by_id]
        != [r.id for r in after.rules if r.id in before.rule_by_id],
    }


# --------------------------------------------------------------------------- residents who change


def changed_residents(o: pl.LazyFrame, perks: list[str]) -> pl.LazyFrame:
    """One row per resident whose score, defaulter flag or any perk changes (by subject, as ``o``).

    ``perks_gained`` / ``perks_lost``: the perk codes, ``;``-separated (empty when none).
    """
    gained = [
        pl.when(pl.col(perk_column("after", j)) & ~pl.col(perk_column("before", j))).then(pl.lit(code))
        for j, code in enumerate(perks)
    ]
    lost = [
        pl.when(pl.col(perk_column("before", j)) & ~pl.col(perk_column("after", j))).then(pl.lit(code))
        for j, code in enumerate(perks)
    ]

    def joined(parts: Sequence[pl.Expr]) -> pl.Expr:
        if not parts:
            return pl.lit("")
        return pl.concat_list(parts).list.drop_nulls().list.join(";")

    return (
        o.select(
            "subject_id",
            "score_before",
            "score_after",
            (pl.col("score_after") - pl.col("score_before")).alias("change"),
            "defaulter_before",
            "defaulter_after",
            joined(gained).alias("perks_gained"),
            joined(lost).alias("perks_lost"),
        )
        .filter(
            (pl.col("change") != 0)
            | (pl.col("defaulter_before") != pl.col("defaulter_after"))
            | (pl.col("perks_gained") != "")
            | (pl.col("perks_lost") != "")
        )
        .sort("subject_id")
    )


def write_changes(changes: pl.LazyFrame, out: Path) -> None:
    """The residents who change, as CSV or Parquet (by the file name), streamed to the file."""
    check_changes_path(out)
    try:
        if out.suffix.lower() == ".csv":
            changes.sink_csv(out)
        else:
            changes.sink_parquet(out)
    except OSError as exc:
        raise CannotWrite(f"cannot write {out}: {exc.strerror or exc}") from None
