"""Running engine expressions: on DuckDB over Arrow batches, or on the store's SQL."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from sqlalchemy import Connection

from guihua.core.catalog import Catalog
from guihua.engine.match import match_sql


class BatchMatcher:
    """Matches Arrow batches against one catalog on an in-process DuckDB.

    The SQL is compiled once per batch shape and reused for every chunk.
    """

    def __init__(self, catalog: Catalog) -> None:
        import duckdb

        self.catalog = catalog
        self._db = duckdb.connect()
        self._db.execute("SET threads TO 2")
        self._compiled: dict[pa.Schema, str] = {}

    def match(self, batch: pa.Table) -> pa.Table:
        sql = self._compiled.get(batch.schema)
        if sql is None:
            schema = ibis.Schema.from_pyarrow(batch.schema)
            sql = self._compiled[batch.schema] = match_sql(self.catalog, schema)
        self._db.register("batch", batch)
        try:
            return self._db.sql(sql).to_arrow_table()
        finally:
            self._db.unregister("batch")

    def close(self) -> None:
        self._db.close()


def run_on_store(conn: Connection, expr: ir.Table, dialect: str) -> pa.Table:
    """Compile an expression over the store's tables to its SQL and fetch the rows as Arrow."""
    sql = str(ibis.to_sql(expr, dialect=dialect))
    result = conn.exec_driver_sql(sql)
    names = list(result.keys())
    rows = result.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pa.table({n: pa.array(list(c)) for n, c in zip(names, columns, strict=True)})
