"""Groups of residents read off their identity numbers (GB 11643-1999), over columns of ids.

A resident id says where it was issued (digits 1-6: the county-level region code, the
*district*), the birth date (digits 7-14) and the sex (digit 17: odd for men, even for women).
The fairness audit groups residents by these; the ids were validated when their records came
in, so nothing here checks them again. Polars expressions: a city's ids at once, no loop.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

# Age bands at the audit's date: (label, lowest age); each runs to the next band's lowest age.
AGE_BANDS: tuple[tuple[str, int], ...] = (
    ("under 18", 0),
    ("18-24", 18),
    ("25-34", 25),
    ("35-44", 35),
    ("45-54", 45),
    ("55-64", 55),
    ("65-74", 65),
    ("75 and over", 75),
)
DIMENSIONS: tuple[str, ...] = ("district", "sex", "age_band")  # read off the id


def district(ids: pl.Expr) -> pl.Expr:
    """The region code of the issuing county or district (the first six digits)."""
    return ids.str.slice(0, 6)


def sex(ids: pl.Expr) -> pl.Expr:
    """``male`` when the 17th digit is odd, else ``female``."""
    odd = ids.str.slice(16, 1).cast(pl.Int8) % 2 == 1
    return pl.when(odd).then(pl.lit("male")).otherwise(pl.lit("female"))


def age(ids: pl.Expr, at: dt.date) -> pl.Expr:
    """Age in whole years at ``at`` (a birthday on 29 February is reached on 1 March)."""
    year = ids.str.slice(6, 4).cast(pl.Int32)
    month_day = ids.str.slice(10, 4).cast(pl.Int32)
    before_birthday = month_day > at.month * 100 + at.day
    return pl.lit(at.year, pl.Int32) - year - before_birthday.cast(pl.Int32)


def age_band(ids: pl.Expr, at: dt.date) -> pl.Expr:
    """The label of :data:`AGE_BANDS` the resident's age at ``at`` falls in."""
    years = age(ids, at)
    label = pl.lit(AGE_BANDS[0][0])
    for name, low in AGE_BANDS[1:]:
        label = pl.when(years >= low).then(pl.lit(name)).otherwise(label)
    return label


def id_groups(ids: pl.Expr, at: dt.date) -> list[pl.Expr]:
    """One expression per dimension of :data:`DIMENSIONS`, named after it."""
    return [district(ids).alias("district"), sex(ids).alias("sex"), age_band(ids, at).alias("age_band")]
