"""Which backend runs a whole-population query: DuckDB in-process, Spark, or the store's own SQL.

Every backend runs the same engine query (an Ibis expression of :mod:`guihua.engine`) compiled
for its dialect; none has a rule of its own. The batch engines read the engine's tables in
columnar form (:class:`Columnar`: Parquet files or folders, or Arrow tables), never rows one by
one. The store's own SQL (``sql``) runs inside the store (:mod:`guihua.store.engine_queries`);
its answer is shaped here too (:func:`shape_scores`) so that every engine answers the same table.

    source = Columnar(Path("work/records.parquet"), Path("work/objections.parquet"))
    table = scores_on("duckdb", source, catalog, dt.date(2026, 6, 30), perks=True)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from guihua.core.catalog import Catalog
from guihua.engine import eligibility
from guihua.engine.compiled import Query, Shape, compiled_sql
from guihua.engine.scoring import scores
from guihua.engine.tables import Overlay

ENGINES: tuple[str, ...] = ("duckdb", "sql", "spark")
COLUMNAR: tuple[str, ...] = ("duckdb", "spark")  # the engines that read a Columnar source

# The records' columns that scores, defaulters and perks read (engine/counting, cases,
# adjustments, scoring); the rest (the fields, ids, versions, days received) may be left out of
# a columnar copy made for scoring and are null there. The parity test
# (tests/engine/test_engine_parity.py) scores such a copy against the store's own SQL.
SCORING_COLUMNS: tuple[str, ...] = (
    "department",
    "source_id",
    "is_current",
    "retracted_at",
    "subject_id",
    "metric",
    "occurred_at",
    "rule_id",
    "points",
    "category",
    "start_date",
    "end_date",
    "start_year",
    "case_id",
    "action",
)


@dataclass(frozen=True)
class Columnar:
    """The engine's two tables in columnar form, shaped like :mod:`guihua.engine.tables`.

    Each is a Parquet file, a folder of Parquet files (a dataset), or an Arrow table; any
    subset of the table's columns (absent ones are null). The records may also be an
    :class:`~guihua.engine.tables.Overlay` (a simulation's: the stored records with some
    metrics' records matched again). For Spark on a cluster a path must be one every executor
    reads at the same place (shared storage).
    """

    records: Path | pa.Table | Overlay
    objections: Path | pa.Table


def run_on(
    engine: str,
    query: Query,
    source: Columnar,
    catalog: Catalog,
    at: dt.date,
    *,
    spark_master: str | None = None,
    work_dir: Path | None = None,
) -> pa.Table:
    """Any engine query at ``at`` on a batch engine (``duckdb`` or ``spark``) over ``source``."""
    if engine == "duckdb":
        from guihua.engine import batch

        if isinstance(source.records, pa.Table) and isinstance(source.objections, pa.Table):
            return batch.run_on_arrow(query, source.records, source.objections, catalog, at)
        if not isinstance(source.records, pa.Table) and isinstance(source.objections, Path):
            answer = batch.run_on_parquet(query, source.records, source.objections, catalog, at, work_dir)
            assert answer is not None
            return answer
        raise ValueError("DuckDB reads both tables as Parquet or both as Arrow")
    if engine == "spark":
        from guihua.engine import spark

        sql = spark_sql(compiled_sql(query, catalog, "pyspark", Shape()))
        return spark.run_sql(sql, source.records, source.objections, at, spark_master)
    if engine == "sql":
        raise ValueError("the store's own SQL runs in the store (guihua.store.engine_queries.run_query)")
    raise ValueError(f"unknown engine {engine!r}: one of {', '.join(ENGINES)}")


def write_on(
    engine: str,
    query: Query,
    source: Columnar,
    catalog: Catalog,
    at: dt.date,
    out: Path,
    *,
    spark_master: str | None = None,
    work_dir: Path | None = None,
) -> None:
    """:func:`run_on`, the answer written to ``out`` as Parquet (DuckDB streams it: never held whole)."""
    records, objections = source.records, source.objections
    if engine == "duckdb" and not isinstance(records, pa.Table) and isinstance(objections, Path):
        from guihua.engine import batch

        batch.run_on_parquet(query, records, objections, catalog, at, work_dir, out=out)
        return
    import pyarrow.parquet as pq

    answer = run_on(engine, query, source, catalog, at, spark_master=spark_master, work_dir=work_dir)
    pq.write_table(answer, out)


def scores_on(
    engine: str,
    source: Columnar,
    catalog: Catalog,
    at: dt.date,
    *,
    perks: bool = False,
    spark_master: str | None = None,
    work_dir: Path | None = None,
) -> pa.Table:
    """Every subject with a counting record at ``at``: subject_id, score, defaulter (and perks).

    With ``perks`` every perk's columns follow (:mod:`guihua.engine.eligibility`:
    ``perk{i}_low``, ``perk{i}_listed``, ``perk{i}_eligible``, ``i`` the perk's place in the
    catalog). Sorted by subject, typed as :func:`shape_scores` says, the same on every engine.
    """
    query = eligibility.everyone_perks if perks else scores
    table = run_on(engine, query, source, catalog, at, spark_master=spark_master, work_dir=work_dir)
    return shape_scores(table, catalog, perks)


def score_columns(catalog: Catalog, perks: bool) -> list[str]:
    """The columns :func:`scores_on` answers, in order."""
    names = ["subject_id", "score", "defaulter"]
    if perks:
        for i in range(len(catalog.perks)):
            names += [eligibility.column(i, what) for what in (*eligibility.REASONS, "eligible")]
    return names


def shape_scores(table: pa.Table, catalog: Catalog, perks: bool) -> pa.Table:
    """A backend's answer as every engine gives it: string id, int64 score, booleans, by subject.

    (SQLite answers booleans as 0/1, DuckDB a score summed as a 128-bit integer, Spark its own
    types: the values are the same, the types made so here.)
    """
    columns, fields = [], []
    for name in score_columns(catalog, perks):
        kind = pa.string() if name == "subject_id" else pa.int64() if name == "score" else pa.bool_()
        column = table.column(name) if table.num_rows else pa.chunked_array([], kind)
        columns.append(pc.cast(column, kind))
        fields.append(pa.field(name, kind))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields)).sort_by("subject_id")


def spark_sql(sql: str) -> str:
    """Compiled text (SQLAlchemy ``text()`` form) as Spark SQL: ``:at`` stays Spark's named parameter."""
    return sql.replace("\\:", ":")
