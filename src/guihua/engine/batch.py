"""Running engine expressions in-process on DuckDB over Arrow tables.

Ingestion matches each chunk of a submission here (:class:`BatchMatcher`);
whole-population work runs any engine query over Parquet copies of the store's
tables (:func:`run_on_parquet`, through :mod:`guihua.engine.backends`), and the
engine's own tests over Arrow tables (:func:`run_on_arrow`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from guihua.core.catalog import Catalog
from guihua.engine.compiled import Query, Shape, compiled_sql
from guihua.engine.lazy_ibis import ibis
from guihua.engine.match import match_sql
from guihua.engine.sqlcache import cached_sql
from guihua.engine.tables import OBJECTIONS_SCHEMA, RECORDS_SCHEMA, Overlay


class BatchMatcher:
    """Matches Arrow batches against one catalog on an in-process DuckDB.

    The SQL is compiled once per batch shape and reused for every chunk.
    """

    def __init__(self, catalog: Catalog, metrics: frozenset[str] | None = None) -> None:
        self.catalog = catalog
        self.metrics = metrics  # a department's batch holds only its own metrics
        self._db = _duckdb().cursor()  # a cursor of one in-process database: cheap per submission

    def match(self, batch: pa.Table) -> pa.Table:
        schema = ibis.Schema.from_pyarrow(batch.schema)
        only = ",".join(sorted(self.metrics)) if self.metrics is not None else "*"
        key = ("match", self.catalog.digest, "duckdb", only, repr(list(schema.items())))
        sql = cached_sql(key, lambda: match_sql(self.catalog, schema, metrics=self.metrics))
        self._db.register("batch", batch)
        try:
            out = self._db.sql(sql).to_arrow_table()
        finally:
            self._db.unregister("batch")
        return _dates_as_dates(out)

    def close(self) -> None:
        self._db.close()


def _dates_as_dates(table: pa.Table) -> pa.Table:
    """DuckDB turns DATE + INTERVAL into TIMESTAMP (Ibis believes it stays a date): cast back."""
    for name in ("start_date", "end_date"):
        i = table.schema.get_field_index(name)
        if i >= 0 and pa.types.is_timestamp(table.schema.field(i).type):
            table = table.set_column(i, name, table.column(i).cast(pa.date32()))
    return table


@cache
def _duckdb() -> Any:
    """One in-process DuckDB per process (connecting costs ~20 ms; a cursor almost nothing)."""
    import duckdb

    return duckdb.connect()


def run_on_arrow(
    query: Query, records: pa.Table, objections: pa.Table, catalog: Catalog, at: dt.date
) -> pa.Table:
    """``query`` on DuckDB over Arrow tables shaped like the store's (missing columns are null).

    The query is compiled once per catalog (:func:`guihua.engine.compiled.compiled_sql`, DuckDB's
    dialect) and run with the date as a parameter, as the store runs its own.
    """
    sql = _duckdb_parameters(compiled_sql(query, catalog, "duckdb", Shape()))
    db = _duckdb().cursor()
    try:
        db.register("records", _conform(records, RECORDS_SCHEMA))
        db.register("objections", _conform(objections, OBJECTIONS_SCHEMA))
        return db.sql(sql, params={"at": at}).to_arrow_table()
    finally:
        db.close()


def run_on_parquet(
    query: Query,
    records: Path | Overlay,
    objections: Path,
    catalog: Catalog,
    at: dt.date,
    work_dir: Path | None = None,
    out: Path | None = None,
) -> pa.Table | None:
    """``query`` on DuckDB over Parquet files (or folders of them) shaped like the store's tables.

    Columns the files lack are null; DuckDB reads only the columns and row groups the query needs
    and spills to ``work_dir`` (default: DuckDB's own) past its memory limit, so a whole city is
    never held in memory. A connection of its own, with :data:`DUCKDB_MEMORY_LIMIT`. With
    ``out`` the answer is written there as Parquet (streamed: a city's answer is never held
    either) and None is returned.
    """
    import duckdb

    sql = _duckdb_parameters(compiled_sql(query, catalog, "duckdb", Shape()))
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": os.environ.get("GUIHUA_DUCKDB_MEMORY_LIMIT", DUCKDB_MEMORY_LIMIT),
        "preserve_insertion_order": False,  # no order is promised: less memory
    }
    if work_dir is not None:
        config["temp_directory"] = str(work_dir / "duckdb-spill")
    db = duckdb.connect(config=config)
    try:
        db.execute(records_view(records))
        db.execute(_parquet_view("objections", objections, OBJECTIONS_SCHEMA))
        answer = db.sql(sql, params={"at": at})
        if out is None:
            return answer.to_arrow_table()
        answer.write_parquet(str(out))
        return None
    finally:
        db.close()


DUCKDB_MEMORY_LIMIT = "4GB"  # GUIHUA_DUCKDB_MEMORY_LIMIT overrides; past it DuckDB spills to disk
_DUCKDB_TYPES = {
    "int64": "BIGINT",
    "int32": "INTEGER",
    "string": "VARCHAR",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}


def parquet_files(path: Path) -> str:
    """A Parquet file, or every Parquet file under a folder, as one glob."""
    return str(path / "**" / "*.parquet") if path.is_dir() else str(path)


def parquet_columns(path: Path) -> set[str]:
    import pyarrow.dataset as ds

    return set(ds.dataset(str(path), format="parquet").schema.names)


def records_view(records: Path | Overlay) -> str:
    """The ``records`` view over Parquet, or over an :class:`~guihua.engine.tables.Overlay` of two."""
    if isinstance(records, Path):
        return _parquet_view("records", records, RECORDS_SCHEMA)
    replaced = ", ".join(_quoted(m) for m in sorted(records.metrics))
    stored = _parquet_select(records.stored, RECORDS_SCHEMA)
    return (
        f"CREATE TEMP VIEW records AS {stored} WHERE metric NOT IN ({replaced}) "
        f"UNION ALL {_parquet_select(records.rematched, RECORDS_SCHEMA)}"
    )


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _parquet_view(name: str, path: Path, schema: dict[str, str]) -> str:
    """A view named like the engine's table over Parquet: every column typed, absent ones null."""
    return f"CREATE TEMP VIEW {name} AS {_parquet_select(path, schema)}"


def _parquet_select(path: Path, schema: dict[str, str]) -> str:
    present = parquet_columns(path)
    columns = ", ".join(
        f'CAST("{c}" AS {_DUCKDB_TYPES[t]}) AS "{c}"'
        if c in present
        else f'CAST(NULL AS {_DUCKDB_TYPES[t]}) AS "{c}"'
        for c, t in schema.items()
    )
    return f"SELECT {columns} FROM read_parquet({_quoted(parquet_files(path))})"


def _duckdb_parameters(sql: str) -> str:
    """SQLAlchemy ``text()`` placeholders (``:at``; a literal colon is ``\\:``) as DuckDB's (``$at``)."""
    return re.sub(r"(?<!\\):(\w+)", r"$\1", sql).replace("\\:", ":")


def _conform(table: pa.Table, schema: dict[str, str]) -> pa.Table:
    """``table`` with exactly the engine's columns and types (absent ones all null)."""
    target = ibis.schema(schema).to_pyarrow()
    columns = [
        table.column(f.name).cast(f.type)
        if f.name in table.column_names
        else pa.nulls(table.num_rows, f.type)
        for f in target
    ]
    return pa.Table.from_arrays(columns, schema=target)
