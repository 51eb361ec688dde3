"""Groups read off resident ids, in columns: district, sex, age band at a date."""

from __future__ import annotations

import datetime as dt

import polars as pl

from guihua.core.id_groups import age, id_groups
from tests.helpers import subject


def test_district_sex_and_age_band_from_the_id() -> None:
    ids = [
        subject(1, "19850312", "320508"),
        subject(2, "20100630", "110105"),
        subject(3, "19500101", "320505"),
    ]
    df = pl.DataFrame({"id": ids}).select(id_groups(pl.col("id"), dt.date(2026, 6, 30)))
    assert df.to_dicts() == [
        {"district": "320508", "sex": "male", "age_band": "35-44"},
        {"district": "110105", "sex": "female", "age_band": "under 18"},
        {"district": "320505", "sex": "male", "age_band": "75 and over"},
    ]


def test_age_counts_whole_years_birthday_included() -> None:
    ids = [subject(1, "20080630"), subject(2, "20080701"), subject(3, "20080229")]
    ages = pl.DataFrame({"id": ids}).select(age(pl.col("id"), dt.date(2026, 6, 30))).to_series().to_list()
    assert ages == [18, 17, 18]
    leap = pl.DataFrame({"id": [subject(3, "20080229")]})
    on = [leap.select(age(pl.col("id"), day)).item() for day in (dt.date(2026, 2, 28), dt.date(2026, 3, 1))]
    assert on == [17, 18]  # a 29 February birthday is reached on 1 March
