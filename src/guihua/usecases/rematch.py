"""Re-matching stored records when a catalog is loaded.

Stored records keep their fields as canonical JSON; this turns them back into
the typed wide columns the engine's matcher reads, runs the same matcher that
ingestion uses, and rewrites the derived columns.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection

from guihua.core.catalog import Catalog
from guihua.engine.batch import BatchMatcher
from guihua.intake.validation import parse_value
from guihua.store import record_queries, schema

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


def _dates(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(
        pl.col(c).cast(pl.String).str.slice(0, 10).str.to_date() for c in ("occurred_at", "received_on")
    )


def rematch_all(conn: Connection, catalog: Catalog) -> int:
    """Recompute the derived columns of every current record under ``catalog``."""
    matcher = BatchMatcher(catalog)
    last_id, total = 0, 0
    try:
        with record_queries.derived_rewrite(conn, schema.DERIVED_COLUMNS) as write:
            while True:
                df = pl.from_arrow(record_queries.current_for_matching(conn, last_id, BATCH))
                assert isinstance(df, pl.DataFrame)
                if df.height == 0:
                    break
                matched = pl.from_arrow(matcher.match(typed_fields(_dates(df), catalog).to_arrow()))
                assert isinstance(matched, pl.DataFrame)
                write(matched.select("id", *schema.DERIVED_COLUMNS).to_arrow())
                last_id = int(df.get_column("id").max())  # type: ignore[arg-type]
                total += df.height
    finally:
        matcher.close()
    return total
