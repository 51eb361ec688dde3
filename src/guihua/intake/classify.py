"""What each valid row of a submission does (spec section 3): new, duplicate, correction or superseded.

A submission is applied as a whole. When a key occurs in it more than once,
its last valid occurrence is what was submitted; earlier ones are
``superseded`` (reported, never stored). The occurrence that stands is
compared with the key's stored current version, after parsing values to their
types: none stored is ``accepted``, the same content a ``duplicate`` (nothing
changes), other content a ``correction`` (a new version). Pure column work.
"""

from __future__ import annotations

import polars as pl

from guihua.intake.chunks import LINE

CONTENT: tuple[str, ...] = ("subject_id", "metric", "occurred_at", "fields")
OUTCOMES: tuple[str, ...] = ("accepted", "duplicate", "corrected", "superseded")


def last_per_key(valid: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the last occurrence of each key, the earlier occurrences it supersedes), each in line order."""
    if valid.get_column("source_id").n_unique() == valid.height:
        return valid, valid.clear()
    last = pl.col(LINE) == pl.col(LINE).max().over("source_id")
    return valid.filter(last), valid.filter(~last)


def _content(prefix: str = "") -> pl.Expr:
    return pl.concat_str([pl.col(f"{prefix}{c}").cast(pl.String) for c in CONTENT], separator="\x1f")


def compare(kept: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """``kept`` (one row per key) with ``outcome``, ``version``, ``is_current`` and ``__stored_id``.

    ``stored`` holds the current version of the keys that have one
    (``source_id``, ``id``, ``version`` and the content columns).
    """
    if stored.height == 0:
        return kept.with_columns(
            outcome=pl.lit("accepted"),
            __stored_id=pl.lit(None, pl.Int64),
            version=pl.lit(1, pl.Int32),
            is_current=pl.lit(True),
        )
    theirs = stored.select(
        "source_id",
        pl.col("id").alias("__stored_id"),
        pl.col("version").alias("__stored_version"),
        _content().alias("__stored_content"),
    )
    df = kept.with_columns(_content().alias("__content")).join(theirs, on="source_id", how="left")
    outcome = (
        pl.when(pl.col("__stored_content").is_null())
        .then(pl.lit("accepted"))
        .when(pl.col("__stored_content") == pl.col("__content"))
        .then(pl.lit("duplicate"))
        .otherwise(pl.lit("corrected"))
    )
    df = df.with_columns(
        outcome.alias("outcome"),
        (pl.col("__stored_version").fill_null(0) + 1).cast(pl.Int32).alias("version"),
        is_current=pl.lit(True),
    )
    return df.drop("__content", "__stored_content", "__stored_version")
