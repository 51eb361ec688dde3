"""The whole population in columns: the store's records matched under a catalog, scored on DuckDB.

The batch side of the scheme (a what-if simulation, the fairness audit) scores every resident
at once, possibly under a catalog that is not loaded. It reads the records from the store in
Arrow batches in one read transaction (a consistent snapshot; the store may be opened
read-only; :func:`guihua.store.export_queries.record_batches`, as ``export scores`` does),
re-matches each batch of current records under each catalog asked for with the matcher
ingestion and ``catalog load`` use (:class:`guihua.engine.batch.BatchMatcher` on the typed
fields of :func:`guihua.usecases.rematch.typed_fields`), and appends it to one Parquet copy per
catalog in a scratch folder. The engine's own queries then run over those copies on a batch
engine (:func:`guihua.engine.backends.run_on`): no rule is written twice, and no step holds more
than one batch of records in Python.

A *side* is one such copy: ``stored`` keeps the match stored beside each record (the active
catalog's, since loading a catalog re-matches every record), any other name is re-matched.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from guihua.core.catalog import Catalog
from guihua.core.errors import InvalidInput
from guihua.engine.batch import BatchMatcher
from guihua.engine.compiled import Query
from guihua.engine.lazy_ibis import ibis
from guihua.engine.sqlcache import cached_sql
from guihua.engine.tables import OBJECTIONS_SCHEMA, RECORDS_SCHEMA
from guihua.store import export_queries, record_mirror, schema
from guihua.store.catalog_queries import active_catalog
from guihua.store.database import Store
from guihua.usecases.rematch import typed_fields

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from sqlalchemy import Connection

DUCKDB_MEMORY_LIMIT = "4GB"  # GUIHUA_DUCKDB_MEMORY_LIMIT overrides (as for the batch engines)


@dataclass
class Copy:
    """The scratch Parquet copies of the current records, one per side, and the objections."""

    folder: Path
    sides: dict[str, Path] = field(default_factory=dict)
    objections: pa.Table | None = None
    objections_file: Path | None = None  # the same as Parquet, for engines that read files
    records: int = 0


def _rematched(df: pl.DataFrame, matcher: BatchMatcher) -> pl.DataFrame:
    """``df`` with the derived columns of its records' match under ``matcher``'s catalog.

    Only the records of ``matcher.metrics`` (all, when None) are matched again; the others keep
    the match stored with them.
    """
    if matcher.metrics is not None:
        again = pl.col("metric").is_in(sorted(matcher.metrics))
        todo = df.filter(again)
        if todo.is_empty():
            return df
        return pl.concat([df.filter(~again), _rematched_all(todo, matcher)])
    return _rematched_all(df, matcher)


def _rematched_all(df: pl.DataFrame, matcher: BatchMatcher) -> pl.DataFrame:
    source = df.select("id", "metric", "occurred_at", "received_on", "fields")
    matched = pl.from_arrow(matcher.match(typed_fields(source, matcher.catalog).to_arrow()))
    assert isinstance(matched, pl.DataFrame)
    derived = matched.select("id", *schema.DERIVED_COLUMNS)
    out = df.drop(schema.DERIVED_COLUMNS).join(derived, on="id", how="left", maintain_order="left")
    return out.select(df.columns).cast(dict(df.schema))  # type: ignore[arg-type]


def rematched_metrics(stored: Catalog, other: Catalog) -> frozenset[str]:
    """The metrics whose records ``other`` matches otherwise than ``stored`` does.

    A record's match reads only its metric's definition and that metric's rules, in their
    order (:mod:`guihua.engine.match`); where both are the same, the match stored with the
    record (the active catalog's: loading a catalog re-matches every record) is ``other``'s.
    """

    def rules(c: Catalog, code: str) -> list[Any]:
        return [r for r in c.rules if r.metric == code]

    codes = set(stored.metric_by_code) | set(other.metric_by_code)
    return frozenset(
        code
        for code in codes
        if stored.metric_by_code.get(code) != other.metric_by_code.get(code)
        or rules(stored, code) != rules(other, code)
    )


def _record_batches(conn: Connection, mirrored: Path | None) -> Iterator[pa.RecordBatch]:
    """Every record version, from the store's columnar copy when it is current (much faster)."""
    if mirrored is None:
        yield from export_queries.record_batches(conn, "records", list(RECORDS_SCHEMA))
        return
    import pyarrow.dataset as ds

    target = export_queries.arrow_schema("records", list(RECORDS_SCHEMA))
    for batch in ds.dataset(str(mirrored), format="parquet").to_batches(batch_size=export_queries.BATCH_ROWS):
        yield batch.cast(target)


@contextmanager
def columnar_copy(
    store: Store,
    catalogs: dict[str, Catalog | None],
    keep_fields: set[str],
    work_dir: Path | None = None,
) -> Iterator[Copy]:
    """Parquet copies of every current record under each catalog of ``catalogs`` (None: as stored).

    ``fields`` is kept only for records of the metrics in ``keep_fields`` (the protected ones,
    which the fairness audit reads); no scoring rule reads it once a record is matched. The
    copies live in a scratch folder (in ``work_dir``, default the system's temporary folder) that
    is removed when the block ends.
    """
    if work_dir is not None and not work_dir.is_dir():
        raise InvalidInput(f"cannot use --work-dir {work_dir}: no such folder")
    with (
        tempfile.TemporaryDirectory(prefix="guihua-population-", dir=work_dir) as folder,
        ExitStack() as held,
    ):
        copy = Copy(Path(folder))
        with store.begin() as conn:
            export_queries.snapshot(conn)  # first: PostgreSQL's snapshot is taken at it
            mirrored = held.enter_context(record_mirror.if_current(conn))
            stored = active_catalog(conn).catalog
            _copy_objections(conn, copy)
            copy.sides = _copy_sides(conn, copy, catalogs, stored, keep_fields, mirrored)
        yield copy


def _copy_objections(conn: Connection, copy: Copy) -> None:
    objections = export_queries.record_batches(conn, "objections", list(OBJECTIONS_SCHEMA))
    copy.objections = pa.Table.from_batches(
        list(objections), schema=export_queries.arrow_schema("objections", list(OBJECTIONS_SCHEMA))
    )
    copy.objections_file = copy.folder / "objections.parquet"
    pq.write_table(copy.objections, copy.objections_file)


def _copy_sides(
    conn: Connection,
    copy: Copy,
    catalogs: dict[str, Catalog | None],
    stored: Catalog,
    keep_fields: set[str],
    mirrored: Path | None,
) -> dict[str, Path]:
    """One Parquet copy per side; a side as stored reads the store's columnar copy itself, if current.

    (The columnar copy carries every record's fields; the engine's queries read the fields of
    the protected metrics only, as from a side's own copy.)
    """
    target = export_queries.arrow_schema("records", list(RECORDS_SCHEMA))
    matchers = {
        name: BatchMatcher(c, rematched_metrics(stored, c)) for name, c in catalogs.items() if c is not None
    }
    sides = {name: copy.folder / f"{name}.parquet" for name in catalogs}
    if mirrored is not None:
        sides.update({name: mirrored for name, c in catalogs.items() if c is None})
    writers = {name: pq.ParquetWriter(path, target) for name, path in sides.items() if path != mirrored}
    try:
        for batch in _record_batches(conn, mirrored):
            df = pl.from_arrow(batch)
            assert isinstance(df, pl.DataFrame)
            df = df.filter(pl.col("is_current"))  # no rule reads another version
            copy.records += df.height
            for name, writer in writers.items():
                side = _rematched(df, matchers[name]) if name in matchers else df
                side = side.with_columns(
                    pl.when(pl.col("metric").is_in(sorted(keep_fields))).then(pl.col("fields"))
                )
                writer.write_table(side.to_arrow().cast(target))
    finally:
        for w in writers.values():
            w.close()
        for m in matchers.values():
            m.close()
    return sides


class DuckRunner:
    """Engine queries over a :class:`Copy` on a batch engine; aggregations over Arrow on DuckDB.

    Engine queries go through :func:`guihua.engine.backends.run_on` (DuckDB over the Parquet
    copies, or Spark: the same compiled query either way); aggregations of their (small)
    answers run on one in-process DuckDB.
    """

    def __init__(self, copy: Copy, engine: str = "duckdb", spark_master: str | None = None) -> None:
        import duckdb

        self.copy, self.engine, self.spark_master = copy, engine, spark_master
        self.db = duckdb.connect(
            config={
                "memory_limit": os.environ.get("GUIHUA_DUCKDB_MEMORY_LIMIT", DUCKDB_MEMORY_LIMIT),
                "temp_directory": str(copy.folder / "duckdb-spill"),  # past the limit: spill beside the copy
            }
        )

    def query(self, side: str, query: Query, catalog: Catalog, at: dt.date) -> pa.Table:
        """An engine query at ``at`` over ``side``'s copy of the records (and the objections)."""
        from guihua.engine import backends

        assert self.copy.objections_file is not None
        source = backends.Columnar(self.copy.sides[side], self.copy.objections_file)
        return backends.run_on(
            self.engine, query, source, catalog, at, spark_master=self.spark_master, work_dir=self.copy.folder
        )

    def over(self, key: tuple[str, ...], build: Callable[[], ir.Table], **tables: pa.Table) -> pa.Table:
        """An expression over Arrow tables bound by name (compiled once per ``key``, cached)."""
        sql = cached_sql(("population", *key), lambda: str(ibis.to_sql(build(), dialect="duckdb")))
        for name, table in tables.items():
            self.db.register(name, table)
        try:
            result: pa.Table = self.db.sql(sql).to_arrow_table()
        finally:
            for name in tables:
                self.db.unregister(name)
        return result

    def close(self) -> None:
        self.db.close()
