"""The whole population in columns: the store's records matched under a catalog, scored on DuckDB.

The batch side of the scheme (a what-if simulation, the fairness audit) scores every resident
at once, possibly under a catalog that is not loaded. It reads the records in one read
transaction (a consistent snapshot; the store may be opened read-only): the store's columnar
copy (:mod:`guihua.store.record_mirror`) when it is current, or else one Parquet copy streamed
from the store in Arrow batches (:func:`guihua.store.export_queries.record_batches`, as
``export scores`` does). Under another catalog only the records of the metrics it matches
otherwise (:func:`rematched_metrics`) are matched again, with the matcher ingestion and
``catalog load`` use (:class:`guihua.engine.batch.BatchMatcher` on the typed fields of
:func:`guihua.usecases.rematch.typed_fields`), and laid over the stored ones
(:class:`guihua.engine.tables.Overlay`). The engine's own queries then run over them on a batch
engine (:func:`guihua.engine.backends.write_on`), each answer a Parquet file: no rule is written
twice, and no step holds more than one batch of records, or a city's answers, in Python.

A *side* is what one catalog's engine queries read: ``stored`` keeps the match stored beside
each record (the active catalog's, since loading a catalog re-matches every record), any other
name is an overlay of re-matched records.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from guihua.core.catalog import Catalog
from guihua.core.errors import InvalidInput
from guihua.engine.batch import BatchMatcher
from guihua.engine.compiled import Query
from guihua.engine.lazy_ibis import ibis
from guihua.engine.match import match_terms
from guihua.engine.sqlcache import cached_sql
from guihua.engine.tables import OBJECTIONS_SCHEMA, RECORDS_SCHEMA, Overlay
from guihua.store import export_queries, record_mirror, schema
from guihua.store.catalog_queries import active_catalog
from guihua.store.database import Store
from guihua.usecases.rematch import typed_fields

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from sqlalchemy import Connection, RootTransaction

DUCKDB_MEMORY_LIMIT = "4GB"  # GUIHUA_DUCKDB_MEMORY_LIMIT overrides (as for the batch engines)


@dataclass
class Copy:
    """The records each side reads (the store's columnar copy, or an overlay of it), and the objections."""

    folder: Path
    sides: dict[str, Path | Overlay] = field(default_factory=dict)
    objections_file: Path | None = None  # Parquet: every engine reads files
    records: int = 0  # current records
    conn: Connection | None = None  # the store's own SQL runs the queries in this transaction


def _rematched_all(df: pl.DataFrame, matcher: BatchMatcher) -> pl.DataFrame:
    """``df`` with the derived columns of its records' match under ``matcher``'s catalog."""
    source = df.select("id", "metric", "occurred_at", "received_on", "fields")
    matched = pl.from_arrow(matcher.match(typed_fields(source, matcher.catalog).to_arrow()))
    assert isinstance(matched, pl.DataFrame)
    derived = matched.select("id", *schema.DERIVED_COLUMNS)
    out = df.drop(schema.DERIVED_COLUMNS).join(derived, on="id", how="left", maintain_order="left")
    return out.select(df.columns).cast(dict(df.schema))  # type: ignore[arg-type]


def rematched_metrics(stored: Catalog, other: Catalog) -> frozenset[str]:
    """The metrics whose records ``other`` matches otherwise than ``stored`` does.

    Where a metric's match terms (:func:`guihua.engine.match.match_terms`) are the same in both,
    the match stored with its records (the active catalog's: loading a catalog re-matches every
    record) is ``other``'s.
    """
    codes = set(stored.metric_by_code) | set(other.metric_by_code)
    return frozenset(code for code in codes if match_terms(stored, code) != match_terms(other, code))


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
    in_store: bool = False,
) -> Iterator[Copy]:
    """The records as each catalog of ``catalogs`` matches them (None: as stored), in columnar form.

    A side as stored reads the store's columnar copy itself when it is current (otherwise one
    Parquet copy of the records, made in a scratch folder); a side under another catalog is an
    :class:`~guihua.engine.tables.Overlay` of it, in which only the records of the metrics it
    matches otherwise are matched again. ``fields`` is read only for the metrics in
    ``keep_fields`` (the protected ones, which the fairness audit reads); no scoring rule reads
    it once a record is matched. The scratch folder (in ``work_dir``, default the system's
    temporary folder) is removed when the block ends.

    ``in_store``: for the store's own SQL (``--engine sql``), the records are read from the store
    and the read transaction stays open in :attr:`Copy.conn` for the engine's queries (which
    may write temporary tables; it is rolled back at the end).
    """
    if work_dir is not None and not work_dir.is_dir():
        raise InvalidInput(f"cannot use --work-dir {work_dir}: no such folder")
    with (
        tempfile.TemporaryDirectory(prefix="guihua-population-", dir=work_dir) as folder,
        ExitStack() as held,
    ):
        copy = Copy(Path(folder))
        conn = held.enter_context(store.engine.connect())
        transaction = conn.begin()
        held.callback(_end, transaction)  # it read, and wrote at most temporary tables
        export_queries.snapshot(conn, temporary=in_store)  # first: PostgreSQL's snapshot is taken at it
        mirrored = None if in_store else held.enter_context(record_mirror.if_current(conn))
        stored = active_catalog(conn).catalog
        _copy_objections(conn, copy)
        again = {name: rematched_metrics(stored, c) for name, c in catalogs.items() if c is not None}
        if mirrored is None:
            keep = keep_fields.union(*again.values())  # the fields re-matching reads, too
            mirrored = _copy_records(conn, copy.folder / "stored.parquet", keep)
        if in_store:
            copy.conn = conn
        else:
            _end(transaction)  # the rest reads the columnar copy, held by its lock
        copy.records = _current_records(mirrored)
        for name, c in catalogs.items():
            metrics = again.get(name, frozenset())
            if c is None or not metrics:
                copy.sides[name] = mirrored
                continue
            rematched = copy.folder / f"{name}-rematched.parquet"
            _rematch(mirrored, BatchMatcher(c, metrics), rematched, keep_fields)
            copy.sides[name] = Overlay(mirrored, rematched, metrics)
        yield copy


def _end(transaction: RootTransaction) -> None:
    """Roll back a transaction that only read (and wrote temporary tables), unless it ended already."""
    if transaction.is_active:
        transaction.rollback()


def _copy_objections(conn: Connection, copy: Copy) -> None:
    objections = export_queries.record_batches(conn, "objections", list(OBJECTIONS_SCHEMA))
    table = pa.Table.from_batches(
        list(objections), schema=export_queries.arrow_schema("objections", list(OBJECTIONS_SCHEMA))
    )
    copy.objections_file = copy.folder / "objections.parquet"
    pq.write_table(table, copy.objections_file)


def _copy_records(conn: Connection, out: Path, keep_fields: set[str]) -> Path:
    """The current records, read from the store (no columnar copy is current); ``keep_fields``' fields."""
    target = export_queries.arrow_schema("records", list(RECORDS_SCHEMA))
    with pq.ParquetWriter(out, target) as writer:
        for batch in _record_batches(conn, None):
            df = pl.from_arrow(batch)
            assert isinstance(df, pl.DataFrame)
            current = _only_fields(df.filter(pl.col("is_current")), keep_fields)
            writer.write_table(current.to_arrow().cast(target))
    return out


def _only_fields(df: pl.DataFrame, keep_fields: set[str]) -> pl.DataFrame:
    return df.with_columns(pl.when(pl.col("metric").is_in(sorted(keep_fields))).then(pl.col("fields")))


def _current_records(records: Path) -> int:
    import duckdb

    with duckdb.connect() as db:
        found = db.execute(f"SELECT count(*) FROM read_parquet({_glob(records)}) WHERE is_current").fetchone()
    return int(found[0]) if found else 0


def _glob(path: Path) -> str:
    from guihua.engine.batch import parquet_files

    return "'" + parquet_files(path).replace("'", "''") + "'"


def _rematch(records: Path, matcher: BatchMatcher, out: Path, keep_fields: set[str]) -> None:
    """The current records of ``matcher.metrics``, matched again under its catalog, to ``out``.

    Only those records are read (by their metric, from the columnar copy): for a proposal that
    changes one metric's rules that is a small share of a city's records.
    """
    import pyarrow.dataset as ds

    assert matcher.metrics is not None
    target = export_queries.arrow_schema("records", list(RECORDS_SCHEMA))
    wanted = ds.field("metric").isin(sorted(matcher.metrics))
    dataset = ds.dataset(str(records), format="parquet")
    try:
        with pq.ParquetWriter(out, target) as writer:
            for batch in dataset.to_batches(filter=wanted, batch_size=export_queries.BATCH_ROWS):
                df = pl.from_arrow(batch.cast(target))
                assert isinstance(df, pl.DataFrame)
                df = df.filter(pl.col("is_current"))  # no rule reads another version
                if df.height:
                    side = _only_fields(_rematched_all(df, matcher), keep_fields)
                    writer.write_table(side.to_arrow().cast(target))
    finally:
        matcher.close()


class DuckRunner:
    """Engine queries over a :class:`Copy` on a batch engine, their answers kept as Parquet files.

    Engine queries go through :func:`guihua.engine.backends.write_on` (DuckDB over the Parquet
    copies, or Spark: the same compiled query either way), each answer a file in the scratch
    folder; aggregations over those files run on one in-process DuckDB, which spills beside
    them past its memory limit. Nothing a city's size is held in Python.
    """

    def __init__(self, copy: Copy, engine: str = "duckdb", spark_master: str | None = None) -> None:
        import duckdb

        self.copy, self.engine, self.spark_master = copy, engine, spark_master
        self.db = duckdb.connect(
            config={
                "memory_limit": os.environ.get("GUIHUA_DUCKDB_MEMORY_LIMIT", DUCKDB_MEMORY_LIMIT),
                "temp_directory": str(copy.folder / "duckdb-spill"),  # past the limit: spill beside the copy
                "preserve_insertion_order": False,
            }
        )

    def query(self, side: str, query: Query, catalog: Catalog, at: dt.date) -> Path:
        """An engine query at ``at`` over ``side``'s records (and the objections): its answer's file."""
        from guihua.engine import backends

        assert self.copy.objections_file is not None
        out = self.copy.folder / f"{side}-{query.__name__}.parquet"
        if self.engine == "sql":
            self._in_store(self.copy.sides[side], query, catalog, at, out)
            return out
        source = backends.Columnar(self.copy.sides[side], self.copy.objections_file)
        backends.write_on(
            self.engine,
            query,
            source,
            catalog,
            at,
            out,
            spark_master=self.spark_master,
            work_dir=self.copy.folder,
        )
        return out

    def _in_store(
        self, records: Path | Overlay, query: Query, catalog: Catalog, at: dt.date, out: Path
    ) -> None:
        """The store's own SQL runs ``query``; a re-matched side is laid over its records for it."""
        from guihua.store import engine_queries

        conn = self.copy.conn
        assert conn is not None, "the store's own SQL needs columnar_copy(..., in_store=True)"
        with ExitStack() as overlaid:
            if isinstance(records, Overlay):
                rematched = pq.read_table(records.rematched)
                overlaid.enter_context(engine_queries.records_overlaid(conn, rematched, records.metrics))
            pq.write_table(engine_queries.run_query(conn, query, catalog, at), out)

    def over(self, key: tuple[str, ...], build: Callable[[], ir.Table], **tables: Path) -> pa.Table:
        """An expression (compiled once per ``key``, cached) over Parquet files bound by name."""
        sql = cached_sql(("population", *key), lambda: str(ibis.to_sql(build(), dialect="duckdb")))
        for name, path in tables.items():
            view = f'CREATE OR REPLACE TEMP VIEW "{name}" AS SELECT * FROM read_parquet({_glob(path)})'
            self.db.execute(view)
        result: pa.Table = self.db.sql(sql).to_arrow_table()
        return result

    def scratch(self, name: str) -> Path:
        """A file name in the scratch folder (removed with it)."""
        return self.copy.folder / name

    def close(self) -> None:
        self.db.close()
