"""The fairness audit: who the scheme favours, by district, sex, age band and each protected attribute.

For each dimension and each of its groups: residents, mean score, the share below base, the
defaulters, and each perk's eligibility rate with its Wilson 95% interval and its ratio to the
most favoured group (the four-fifths rule, flagged only when the numbers support it:
:mod:`guihua.core.fairness_stats` says exactly when). The district, sex and age band come from
the resident's id (:mod:`guihua.core.id_groups`); a protected metric's group is the value of the
resident's latest record of it (``unknown`` when none). Protected metrics are read here and
nowhere else: the catalog refuses any rule that would score them.

Scores are the engine's, over a columnar copy of the store's records on DuckDB
(:mod:`guihua.usecases.population`); the grouping is one aggregation over one row per resident
(:mod:`guihua.engine.impact`). A simulation carries the same section, before and after.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from guihua.core import fairness_stats
from guihua.core.catalog import Catalog
from guihua.core.errors import Forbidden
from guihua.core.id_groups import AGE_BANDS, DIMENSIONS, id_groups
from guihua.core.policy import SUPPRESS_BELOW, Actor
from guihua.engine import eligibility, impact
from guihua.engine.impact import dimension_column, perk_column
from guihua.store.catalog_queries import active_catalog
from guihua.store.database import Store
from guihua.usecases import audit
from guihua.usecases.population import DuckRunner, columnar_copy
from guihua.usecases.scores import scheme_day

AUDITORS: tuple[str, ...] = ("admin", "auditor")  # whole-population analysis: the centre's analysts


def check_auditor(actor: Actor, what: str) -> None:
    """Simulations and fairness audits read every resident's score: analysts and auditors only."""
    if actor.role not in AUDITORS:
        raise Forbidden(f"role {actor.role} may not run {what}: only {' and '.join(AUDITORS)} accounts")


def protected_metrics(*catalogs: Catalog) -> list[str]:
    """The protected metrics of any of ``catalogs``, in catalog order (a fairness dimension each)."""
    seen: list[str] = []
    for c in catalogs:
        seen += [m.code for m in c.metrics if m.protected and m.code not in seen]
    return seen


def dimensions(*catalogs: Catalog) -> list[str]:
    return [*DIMENSIONS, *protected_metrics(*catalogs)]


def perk_codes(after: Catalog, before: Catalog) -> list[str]:
    """Perks of either catalog: the ``after`` catalog's in its order, then those it dropped."""
    codes = [p.code for p in after.perks]
    return codes + [p.code for p in before.perks if p.code not in codes]


# --------------------------------------------------------------------------- one row per resident


def _side(scored: Path, catalog: Catalog, perks: Sequence[str], side: str) -> pl.LazyFrame:
    df = pl.scan_parquet(scored)
    index = {p.code: i for i, p in enumerate(catalog.perks)}
    columns = [
        pl.col("subject_id").cast(pl.String),
        pl.col("score").cast(pl.Int64).alias(f"score_{side}"),
        pl.col("defaulter").cast(pl.Boolean).alias(f"defaulter_{side}"),
    ]
    for j, code in enumerate(perks):
        eligible = (
            pl.col(eligibility.column(index[code], "eligible")).cast(pl.Boolean)
            if code in index
            else pl.lit(False)  # a perk this catalog does not have: nobody is eligible
        )
        columns.append(eligible.alias(perk_column(side, j)))
    return df.select(columns)


def protected_groups(
    latest: Sequence[Path], catalogs: Sequence[Catalog], metrics: Sequence[str]
) -> pl.LazyFrame:
    """subject_id and one column per protected metric: the value of the resident's latest record.

    ``latest``: :func:`guihua.engine.impact.protected_latest` answers (one per side; the same
    record found on both sides counts once). A metric with one field is grouped by that field's
    value; one with several by ``field=value`` pairs in the order declared.
    """
    df = pl.concat([pl.scan_parquet(p) for p in latest])
    if len(latest) > 1:
        df = df.unique(["subject_id", "metric", "fields"])
    declared: dict[str, list[str]] = {}
    for c in catalogs:
        for m in c.metrics:
            declared.setdefault(m.code, list(m.fields))
    out = df.select(pl.col("subject_id").cast(pl.String)).unique()
    for code in metrics:
        names = declared.get(code, [])
        values = [pl.col("fields").str.json_path_match(f"$.{n}") for n in names]
        if len(values) == 1:
            value = values[0]
        else:
            value = pl.concat_str(
                [pl.lit(f"{n}=") + v.fill_null("") for n, v in zip(names, values, strict=True)],
                separator=", ",
            )
        mine = df.filter(pl.col("metric") == code).select(
            pl.col("subject_id").cast(pl.String), value.alias(_metric_column(code))
        )
        out = out.join(mine, on="subject_id", how="left")
    return out


def _metric_column(code: str) -> str:
    """A protected metric's group column (never the name of a dimension read off the id)."""
    return f"metric:{code}"


def outcomes(
    before: Path,
    before_catalog: Catalog,
    after: Path,
    after_catalog: Catalog,
    groups: pl.LazyFrame,
    dims: Sequence[str],
    at: dt.date,
    out: Path,
) -> tuple[int, list[str]]:
    """The outcomes table of :mod:`guihua.engine.impact` to ``out``: each resident before and after.

    ``before`` and ``after`` are :func:`guihua.engine.eligibility.everyone_perks` answers; both
    hold the same residents (everyone with a current record, whatever the catalog), so a resident
    missing from one is an error, not a default. Streamed file to file (Polars' streaming engine),
    in no particular order: a city's outcomes are never held whole. Returns the residents and
    the perk codes by position.
    """
    perks = perk_codes(after_catalog, before_catalog)
    b = _side(before, before_catalog, perks, "before")
    a = _side(after, after_catalog, perks, "after")
    joined = b.join(a, on="subject_id", how="inner").with_columns(id_groups(pl.col("subject_id"), at))
    if len(groups.collect_schema()) > 1:
        joined = joined.join(groups, on="subject_id", how="left")
    present = set(joined.collect_schema().names())
    sources = [d if k < len(DIMENSIONS) else _metric_column(d) for k, d in enumerate(dims)]
    dim_columns = [_group(c, present).alias(dimension_column(k)) for k, c in enumerate(sources)]
    names = list(impact.outcomes_schema(len(perks), len(dims)))
    joined.with_columns(dim_columns).select(names).sink_parquet(out)  # in no order: sort what is shown
    residents = {_rows(p) for p in (before, after, out)}
    if len(residents) != 1:
        raise AssertionError("the two sides of a comparison hold different residents")
    return residents.pop(), perks


def _group(column: str, present: set[str]) -> pl.Expr:
    return (pl.col(column) if column in present else pl.lit(None, pl.String)).fill_null("unknown")


def _rows(parquet: Path) -> int:
    return int(pq.ParquetFile(parquet).metadata.num_rows)


def group_counts(
    runner: DuckRunner, table: Path, perks: int, dims: int, bases: tuple[int, int]
) -> list[dict[str, Any]]:
    """:func:`guihua.engine.impact.group_counts` on DuckDB: one row of counts per group (and everyone)."""
    key = ("group_counts", str(perks), str(dims), str(bases))
    counts = runner.over(
        key,
        lambda: impact.group_counts(impact.outcomes_table(perks, dims), perks, dims, bases),
        outcomes=table,
    )
    rows: list[dict[str, Any]] = counts.to_pylist()
    return rows


# --------------------------------------------------------------------------- rows of the report


def group_order(dimension: str, group: str) -> tuple[int, Any]:
    """How groups are listed: age bands youngest first, others by name, ``unknown`` last."""
    if group == "unknown":
        return (2, "")
    if dimension == "age_band":
        return (0, [label for label, _ in AGE_BANDS].index(group) if group in dict(AGE_BANDS) else 99)
    return (1, group)


def audit_rows(
    counts: list[dict[str, Any]], dims: Sequence[str], perks: Sequence[str], base: int, side: str
) -> list[dict[str, Any]]:
    """The fairness rows of one side: per dimension and group, the figures and each perk's disparity."""
    rows: list[dict[str, Any]] = []
    for k, dimension in enumerate(dims):
        mine = [c for c in counts if c["dimension"] == k]
        mine.sort(key=lambda c: group_order(dimension, str(c["group"])))
        part = [_audit_row(dimension, c, perks, side) for c in mine]
        fairness_stats.perk_disparities(part, perks)
        rows += part
    return rows


def _audit_row(dimension: str, c: dict[str, Any], perks: Sequence[str], side: str) -> dict[str, Any]:
    n = int(c["subjects"])
    below, listed = int(c[f"below_base_{side}"]), int(c[f"defaulters_{side}"])
    return {
        "dimension": dimension,
        "group": str(c["group"]),
        "subjects": n,
        "small": fairness_stats.small(n),
        "mean_score": round(int(c[f"score_sum_{side}"]) / n, 2) if n else None,
        "below_base": round(below / n, 4) if n else None,
        "below_base_count": below,
        "defaulters": listed,
        "defaulter_rate": round(listed / n, 4) if n else None,
        "perks": {code: {"eligible": int(c[f"eligible{j}_{side}"])} for j, code in enumerate(perks)},
    }


def flags(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The flagged disparities of audit rows, one entry each (for a summary)."""
    return [
        {
            "dimension": r["dimension"],
            "group": r["group"],
            "perk": code,
            "subjects": r["subjects"],
            "rate": cell["rate"],
            "ratio": cell["ratio"],
            "ratio_interval": cell["ratio_interval"],
        }
        for r in rows
        if not r.get("suppressed")
        for code, cell in r["perks"].items()
        if cell.get("flagged")
    ]


def published(rows: list[dict[str, Any]], public: bool) -> list[dict[str, Any]]:
    """Rows as shown: for publication small cells are suppressed; for the operator, marked."""
    return fairness_stats.suppress(rows) if public else [{**r, "suppressed": False} for r in rows]


# --------------------------------------------------------------------------- the audit


def fairness_report(
    store: Store, at: dt.date | None = None, actor: Actor | None = None, public: bool = False
) -> dict[str, Any]:
    """The fairness audit of the active catalog at ``at`` (default today); the run is audited.

    ``public``: fit for publication (small cells and their complements suppressed); otherwise
    the operator's view, small cells shown and marked ``small``.
    """
    actor = actor or audit.cli_actor()
    check_auditor(actor, "a fairness audit")
    with store.begin() as conn:
        active = active_catalog(conn)
    catalog, day = active.catalog, scheme_day(active, at)
    dims = dimensions(catalog)
    with columnar_copy(store, {"stored": None}, set(protected_metrics(catalog))) as copy:
        runner = DuckRunner(copy)
        try:
            scored = runner.query("stored", eligibility.everyone_perks, catalog, day)
            latest = runner.query("stored", impact.protected_latest, catalog, day)
            groups = protected_groups([latest], [catalog], protected_metrics(catalog))
            table = runner.scratch("outcomes.parquet")
            residents, perks = outcomes(scored, catalog, scored, catalog, groups, dims, day, table)
            base = catalog.scheme.base
            counts = group_counts(runner, table, len(perks), len(dims), (base, base))
        finally:
            runner.close()
    rows = audit_rows(counts, dims, perks, catalog.scheme.base, "after")
    audit.record(
        store,
        actor,
        "fairness.report",
        detail=f"fairness audit at {day}: {residents} residents, catalog {catalog.digest[:12]}"
        + (", for publication" if public else ""),
    )
    shown = published(rows, public)
    return {
        "at": day.isoformat(),
        "scheme": catalog.scheme.name,
        "catalog_version": active.version,
        "catalog_digest": catalog.digest,
        "base": catalog.scheme.base,
        "subjects": residents,
        "dimensions": dims,
        "perks": perks,
        "public": public,
        "suppressed_below": SUPPRESS_BELOW,
        "min_flag_subjects": fairness_stats.MIN_FLAG_SUBJECTS,
        "four_fifths": fairness_stats.FOUR_FIFTHS,
        "rows": shown,
        "flags": flags(shown),
    }
