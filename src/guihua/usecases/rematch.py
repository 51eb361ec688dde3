"""Re-matching stored records when a catalog is loaded.

Stored records keep their fields as canonical JSON; this turns them back into
the typed wide columns the engine's matcher reads, runs the same matcher that
ingestion uses, and rewrites the derived columns.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection

from guihua.core.catalog import Catalog
from guihua.engine.runner import BatchMatcher
from guihua.ingest.validate import parse_value
from guihua.store import schema
from guihua.store.database import bulk_insert, fetch_arrow

BATCH = 200_000


def typed_fields(df: pl.DataFrame, catalog: Catalog) -> pl.DataFrame:
    """Wide typed field columns (and listing case/action) from the ``fields`` JSON column."""
    metric = pl.col("metric")
    cols = []
    for (name, ftype), column in catalog.field_columns.items():
        metrics = sorted(m.code for m in catalog.metrics if m.fields.get(name) == ftype)
        text = pl.col("fields").str.json_path_match(f"$.{name}")
        value, _ = parse_value(text, ftype)
        cols.append(pl.when(metric.is_in(metrics)).then(value).otherwise(None).alias(column))
    listing = metric.is_in(sorted(m.code for m in catalog.metrics if m.kind == "listing"))
    out = df.with_columns(cols)
    case_col = catalog.field_columns.get(("case_id", "string"))
    action_col = catalog.field_columns.get(("action", "string"))
    return out.with_columns(
        (pl.when(listing).then(pl.col(case_col)) if case_col else pl.lit(None, pl.String)).alias("case_id"),
        (pl.when(listing).then(pl.col(action_col)) if action_col else pl.lit(None, pl.String)).alias(
            "action"
        ),
    )


def rematch_all(conn: Connection, catalog: Catalog) -> int:
    """Recompute the derived columns of every current record under ``catalog``."""
    matcher = BatchMatcher(catalog)
    conn.exec_driver_sql(
        "CREATE TEMP TABLE IF NOT EXISTS rematch (id BIGINT PRIMARY KEY, rule_id TEXT, points INTEGER, "
        "category TEXT, start_date DATE, end_date DATE, start_year INTEGER, case_id TEXT, action TEXT)"
    )
    conn.exec_driver_sql("DELETE FROM rematch")
    last_id, total = 0, 0
    try:
        while True:
            table = fetch_arrow(
                conn,
                "SELECT id, metric, occurred_at, fields FROM records "
                "WHERE is_current AND id > :last ORDER BY id LIMIT :n",
                {"last": last_id, "n": BATCH},
            )
            if table.num_rows == 0:
                break
            df = pl.from_arrow(table)
            assert isinstance(df, pl.DataFrame)
            df = df.with_columns(pl.col("occurred_at").cast(pl.String).str.slice(0, 10).str.to_date())
            matched = pl.from_arrow(matcher.match(typed_fields(df, catalog).to_arrow()))
            assert isinstance(matched, pl.DataFrame)
            bulk_insert(conn, "rematch", matched.select("id", *schema.DERIVED_COLUMNS).to_arrow())
            last_id = int(df.get_column("id").max())  # type: ignore[arg-type]
            total += df.height
    finally:
        matcher.close()
    sets = ", ".join(f"{c} = rematch.{c}" for c in schema.DERIVED_COLUMNS)
    conn.exec_driver_sql(f"UPDATE records SET {sets} FROM rematch WHERE records.id = rematch.id")
    conn.exec_driver_sql("DELETE FROM rematch")
    return total
