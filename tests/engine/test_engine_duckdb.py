"""The engine's Ibis expressions run directly on DuckDB, checked against the spec oracle.

No store and no ingestion take part: records are matched with the product's own
matcher (:class:`guihua.engine.batch.BatchMatcher`, as ``rematch_all`` does), put
into Arrow tables shaped like the store's, and every query runs through
:func:`guihua.engine.batch.run_on_arrow`. A failure here points at the engine's
expressions (spec sections 4-6, version 2), not at parsing, validation or storage.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guihua.core.catalog_parsing import parse_catalog
from guihua.engine.batch import BatchMatcher, run_on_arrow
from guihua.engine.compiled import Query
from guihua.engine.eligibility import column, everyone_perks
from guihua.engine.explanation import explanation
from guihua.engine.scoring import scores, subject_score
from guihua.engine.tables import OBJECTIONS_SCHEMA
from guihua.usecases.rematch import typed_fields
from tests.conftest import DATA
from tests.helpers import subject
from tests.oracle import Rec, score

CATALOG = parse_catalog((DATA / "mini.yaml").read_text())
BASE = CATALOG.scheme.base
SUBJECTS = [subject(i) for i in range(1, 5)]
DEPARTMENT_OF = {m: d.code for d in CATALOG.departments for m in d.metrics}
PROBES = [
    dt.date(2019, 6, 1),
    dt.date(2020, 1, 1),
    dt.date(2020, 7, 15),
    dt.date(2021, 3, 1),
    dt.date(2022, 1, 1),
    dt.date(2023, 1, 1),
]
D = dt.date.fromisoformat

# --------------------------------------------------------------------------- records of the mini catalog

dates = st.dates(min_value=dt.date(2018, 6, 1), max_value=dt.date(2021, 12, 31))
delays = st.sampled_from([0, 0, 3, 30, 400])  # days between a record's date and the day it is received
volunteer = st.builds(
    lambda s, d, h: ("volunteer_service", s, d, {"hours": h, "organisation": "Red Cross"}),
    st.sampled_from(SUBJECTS),
    dates,
    st.sampled_from([0.5, 1.0, 3.0, 10.0, 12.5]),
)
traffic = st.builds(
    lambda s, d, o, p: ("traffic_offence", s, d, {"offence": o, "fine": 100, "paid": p, "when_paid": d}),
    st.sampled_from(SUBJECTS),
    dates,
    st.sampled_from(["fail_to_yield", "speeding", "red_light", "other"]),
    st.booleans(),
)
loan = st.builds(
    lambda s, d, c, a: ("loan_default", s, d, {"case_id": c, "action": a, "amount": 1000.0}),
    st.sampled_from(SUBJECTS),
    dates,
    st.sampled_from(["C1", "C2"]),
    st.sampled_from(["list", "list", "resolve"]),
)


def _rec(item: tuple[tuple[str, str, dt.date, dict[str, Any]], int]) -> Rec:
    (metric, sid, day, fields), delay = item
    return Rec(sid, metric, day, fields, day + dt.timedelta(days=delay))


rec_lists = st.lists(st.tuples(st.one_of(volunteer, traffic, loan), delays), min_size=1, max_size=25).map(
    lambda items: [_rec(i) for i in items]
)

probe_sets = st.lists(st.sampled_from(PROBES), min_size=3, max_size=3, unique=True)

# Every engine query costs ~0.15 s to compile and run: the examples are budgeted for the file to take ~35 s.
SETTINGS = settings(max_examples=35, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEWER = settings(SETTINGS, max_examples=20)

pytestmark = pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")  # ibis on duckdb 2

# --------------------------------------------------------------------------- the engine on DuckDB


def _canonical(fields: dict[str, Any]) -> str:
    """The fields as the store keeps them: JSON with sorted keys, dates as YYYY-MM-DD."""
    plain = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in fields.items()}
    return json.dumps(plain, sort_keys=True, separators=(",", ":"))


def records_table(recs: list[Rec]) -> pa.Table:
    """``recs`` as the store's records table: matched with the product's matcher, all current."""
    df = pl.DataFrame(
        {
            "metric": [r.metric for r in recs],
            "occurred_at": [r.occurred_at for r in recs],
            "received_on": [r.received_on or r.occurred_at for r in recs],
            "fields": [_canonical(r.fields) for r in recs],
        },
        schema={"metric": pl.String, "occurred_at": pl.Date, "received_on": pl.Date, "fields": pl.String},
    )
    matcher = BatchMatcher(CATALOG)
    try:
        matched = pl.from_arrow(matcher.match(typed_fields(df, CATALOG).to_arrow()))
    finally:
        matcher.close()
    assert isinstance(matched, pl.DataFrame)
    n = len(recs)
    return matched.with_columns(
        id=pl.Series(range(1, n + 1), dtype=pl.Int64),
        department=pl.Series([DEPARTMENT_OF[r.metric] for r in recs], dtype=pl.String),
        source_id=pl.Series([f"s{i}" for i in range(1, n + 1)], dtype=pl.String),
        version=pl.lit(1, pl.Int32),
        is_current=pl.lit(True),
        subject_id=pl.Series([r.subject_id for r in recs], dtype=pl.String),
    ).to_arrow()


NO_OBJECTIONS = pa.table({name: pa.array([], pa.string()) for name in OBJECTIONS_SCHEMA})


def run(query: Query, records: pa.Table, at: dt.date) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = run_on_arrow(query, records, NO_OBJECTIONS, CATALOG, at).to_pylist()
    return rows


def engine_scores(records: pa.Table, at: dt.date) -> dict[str, tuple[int, bool]]:
    return {r["subject_id"]: (r["score"], r["defaulter"]) for r in run(scores, records, at)}


def oracle_scores(recs: list[Rec], at: dt.date) -> dict[str, tuple[int, bool]]:
    return {s: score(CATALOG, recs, s, at) for s in {r.subject_id for r in recs}}


def only(records: pa.Table, sid: str) -> pa.Table:
    return records.filter(pc.equal(records.column("subject_id"), sid))


# --------------------------------------------------------------------------- properties


@SETTINGS
@given(rec_lists, probe_sets)
def test_scores_on_duckdb_equal_the_oracle(recs: list[Rec], probes: list[dt.date]) -> None:
    records = records_table(recs)
    for at in probes:
        assert engine_scores(records, at) == oracle_scores(recs, at), at


@FEWER
@given(rec_lists, st.sampled_from(SUBJECTS), st.sampled_from(PROBES))
def test_subject_score_is_one_row_equal_to_scores(recs: list[Rec], sid: str, at: dt.date) -> None:
    records = records_table(recs)
    rows = run(subject_score, only(records, sid), at)
    assert len(rows) == 1
    got = (rows[0]["score"], rows[0]["defaulter"])
    assert got == engine_scores(records, at).get(sid, (BASE, False))
    assert got == score(CATALOG, recs, sid, at)


def test_subject_score_without_records_is_base_and_clean() -> None:
    assert run(subject_score, records_table([]), D("2021-01-01")) == [{"score": BASE, "defaulter": False}]


def spec_perks(value: int, defaulter: bool) -> dict[str, bool]:
    """Spec section 6, with the engine's reasons: below the minimum, listed where a clean record counts."""
    out: dict[str, bool] = {}
    for i, perk in enumerate(CATALOG.perks):
        low = value < perk.min_score
        listed = perk.clean_record_required and defaulter
        out |= {
            column(i, "low"): low,
            column(i, "listed"): listed,
            column(i, "eligible"): not low and not listed,
        }
    return out


def perk_columns(row: dict[str, Any]) -> dict[str, bool]:
    return {k: v for k, v in row.items() if k.startswith("perk")}


@FEWER
@given(rec_lists, st.sampled_from(PROBES))
def test_perk_eligibility_follows_section_6(recs: list[Rec], at: dt.date) -> None:
    rows = run(everyone_perks, records_table(recs), at)
    assert {r["subject_id"] for r in rows} == {r.subject_id for r in recs}
    for row in rows:
        value, defaulter = score(CATALOG, recs, row["subject_id"], at)
        assert perk_columns(row) == spec_perks(value, defaulter), row["subject_id"]


def test_a_defaulter_below_the_minimum_has_both_reasons() -> None:
    """A listed subject at 60 fails a clean-record perk (min 100) for both reasons, the other perk for one."""
    sid = SUBJECTS[0]
    listing = Rec(sid, "loan_default", D("2020-03-01"), {"case_id": "C1", "action": "list", "amount": 5000.0})
    (row,) = run(everyone_perks, records_table([listing]), D("2020-06-01"))
    assert (row["score"], row["defaulter"]) == (BASE - 40, True)
    clean = next(i for i, p in enumerate(CATALOG.perks) if p.clean_record_required)
    other = next(i for i, p in enumerate(CATALOG.perks) if not p.clean_record_required)
    assert CATALOG.perks[clean].min_score > BASE - 40
    assert perk_columns(row) == {
        column(clean, "low"): True,
        column(clean, "listed"): True,
        column(clean, "eligible"): False,
        column(other, "low"): True,
        column(other, "listed"): False,
        column(other, "eligible"): False,
    }


# --------------------------------------------------------------------------- hand-computed scenarios


def test_a_late_penalty_starts_notice_days_after_it_was_received() -> None:
    """TRF-YIELD (-3, notice 7, valid 365) occurred 2020-01-10, received 2021-03-01: 2021-03-08 to 2022-03-08."""
    sid = SUBJECTS[0]
    fields = {"offence": "fail_to_yield", "fine": 200, "paid": True, "when_paid": D("2020-01-10")}
    records = records_table([Rec(sid, "traffic_offence", D("2020-01-10"), fields, D("2021-03-01"))])
    expected = {
        "2020-01-17": 100,
        "2021-03-07": 100,
        "2021-03-08": 97,
        "2021-09-01": 97,
        "2022-03-07": 97,
        "2022-03-08": 100,
    }
    got = {day: run(subject_score, records, D(day))[0]["score"] for day in expected}
    assert got == expected
    statuses = {
        day: run(explanation, records, D(day))[0]["status"]
        for day in ("2021-03-07", "2021-03-08", "2022-03-08")
    }
    assert statuses == {"2021-03-07": "pending", "2021-03-08": "counting", "2022-03-08": "expired"}


def test_a_late_reward_counts_from_when_it_happened() -> None:
    """VOL-10H (+3, notice 0, valid 365) occurred 2020-05-01, received 2021-01-15: 2020-05-01 to 2021-05-01."""
    sid = SUBJECTS[1]
    fields = {"hours": 12.0, "organisation": "Red Cross"}
    records = records_table([Rec(sid, "volunteer_service", D("2020-05-01"), fields, D("2021-01-15"))])
    expected = {"2020-04-30": 100, "2020-05-01": 103, "2021-01-14": 103, "2021-04-30": 103, "2021-05-01": 100}
    got = {day: run(subject_score, records, D(day))[0]["score"] for day in expected}
    assert got == expected
