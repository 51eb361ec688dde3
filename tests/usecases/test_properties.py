"""Hypothesis properties of the whole pipeline (files -> ingest -> engine), against the oracle, on both stores.

- the engine agrees with the naive reading of the spec (tests/oracle.py), late arrivals included;
- scores do not depend on submission order or on how records are split into files;
- resubmitting a file changes nothing;
- a correction equals submitting the corrected record alone;
- incremental ingestion equals recomputing everything (a full re-match);
- a record that arrives late is never punished before it arrived.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guihua.core.catalog_parsing import parse_catalog
from guihua.store.database import Store, open_store
from guihua.usecases import catalogs, scores, submissions
from guihua.usecases.rematch import rematch_all
from tests.conftest import DATA, _empty_pg
from tests.helpers import jsonl, record, subject
from tests.oracle import Rec, score

CATALOG_TEXT = (DATA / "mini.yaml").read_text()
CATALOG = parse_catalog(CATALOG_TEXT)
SUBJECTS = [subject(i) for i in range(1, 5)]
DEPT_OF = {"volunteer_service": "CIVIL", "traffic_offence": "TRAFFIC", "loan_default": "BANK"}
PROBES = [
    dt.date(2019, 6, 1),
    dt.date(2020, 1, 1),
    dt.date(2020, 7, 15),
    dt.date(2021, 3, 1),
    dt.date(2022, 1, 1),
    dt.date(2023, 1, 1),
]

dates = st.dates(min_value=dt.date(2018, 6, 1), max_value=dt.date(2021, 12, 31))
delays = st.sampled_from([0, 0, 0, 3, 30, 400])  # days between a record's date and its arrival
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
record_lists = st.lists(st.tuples(st.one_of(volunteer, traffic, loan), delays), min_size=1, max_size=25)

_TEMPLATE: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def _template_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A migrated SQLite store holding the mini catalog, copied for every example (fast)."""
    path = tmp_path_factory.mktemp("template") / "tpl.db"
    tpl = open_store(str(path))
    catalogs.load_catalog(tpl, CATALOG_TEXT)
    tpl.dispose()
    _TEMPLATE.append(path)
    yield
    _TEMPLATE.clear()


@contextmanager
def fresh_store(kind: str, request: pytest.FixtureRequest) -> Iterator[Store]:
    """An empty store of ``kind`` with the mini catalog (PostgreSQL: the session's scratch database)."""
    if kind == "postgres":
        store = _empty_pg(request.getfixturevalue("pg_url"))
        catalogs.load_catalog(store, CATALOG_TEXT)
        try:
            yield store
        finally:
            store.dispose()
        return
    folder = Path(tempfile.mkdtemp(prefix="guihua-prop-"))
    shutil.copy(_TEMPLATE[0], folder / "s.db")
    store = open_store(str(folder / "s.db"))
    try:
        yield store
    finally:
        store.dispose()
        shutil.rmtree(folder, ignore_errors=True)


Row = dict[str, Any]


def as_rows(items: list[tuple[tuple[str, str, dt.date, dict[str, Any]], int]]) -> list[Row]:
    """Rows with unique keys, each with the day it is received (its date plus a delay)."""
    rows = []
    for i, ((m, s, d, f), delay) in enumerate(items):
        row = record(f"{m[:3]}-{i}", s, m, d, **f)
        row["received_on"] = d + dt.timedelta(days=delay)
        rows.append(row)
    return rows


def submit(store: Store, rows: list[Row], folder: Path, tag: str) -> None:
    """One file per (department, day received), sent on that day, in the order the rows come."""
    files: dict[tuple[str, dt.date], list[Row]] = {}
    for r in rows:
        files.setdefault((DEPT_OF[r["metric"]], r["received_on"]), []).append(r)
    for (dept, day), part in files.items():
        body = [{k: v for k, v in r.items() if k != "received_on"} for r in part]
        path = jsonl(folder / f"{tag}-{dept}-{day}.jsonl", body)
        result = submissions.ingest_file(store, path, dept, as_of=day)
        assert result.rejected == 0


def engine_scores(store: Store, at: dt.date) -> dict[str, tuple[int, bool]]:
    return {r["subject_id"]: (r["score"], r["defaulter"]) for r in scores.all_scores(store, at).to_pylist()}


def oracle_scores(rows: list[Row], at: dt.date) -> dict[str, tuple[int, bool]]:
    recs = [Rec(r["subject_id"], r["metric"], r["occurred_at"], r["fields"], r["received_on"]) for r in rows]
    return {s: score(CATALOG, recs, s, at) for s in {r.subject_id for r in recs}}


SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
KINDS = pytest.mark.parametrize("kind", ["sqlite", "postgres"])


@KINDS
@SETTINGS
@given(record_lists)
def test_engine_agrees_with_the_spec_oracle(kind, request, items) -> None:
    rows = as_rows(items)
    with fresh_store(kind, request) as store, tempfile.TemporaryDirectory() as tmp:
        submit(store, rows, Path(tmp), "all")
        for at in PROBES:
            assert engine_scores(store, at) == oracle_scores(rows, at), at


@KINDS
@SETTINGS
@given(record_lists, st.randoms(use_true_random=False), st.integers(1, 4))
def test_order_and_batching_do_not_matter_and_resubmission_changes_nothing(
    kind, request, items, rnd: random.Random, parts: int
) -> None:
    rows = as_rows(items)
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    with fresh_store(kind, request) as one, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        submit(one, rows, folder, "one")
        before = {at: engine_scores(one, at) for at in PROBES}
        submit(one, rows, folder, "again")  # the same content again, the same days: all duplicates
        with one.begin() as conn:
            n = conn.exec_driver_sql("SELECT count(*) FROM records").scalar()
        assert n == len(rows)
        assert {at: engine_scores(one, at) for at in PROBES} == before
    with fresh_store(kind, request) as many, tempfile.TemporaryDirectory() as tmp:
        for k in range(parts):
            submit(many, shuffled[k::parts], Path(tmp), f"part{k}")
        assert {at: engine_scores(many, at) for at in PROBES} == before


@KINDS
@SETTINGS
@given(record_lists, st.data())
def test_a_correction_equals_the_corrected_record_alone(kind, request, items, data) -> None:
    rows = as_rows(items)
    i = data.draw(st.integers(0, len(rows) - 1))
    replacement = data.draw(
        st.one_of(volunteer, traffic, loan).filter(lambda x: DEPT_OF[x[0]] == DEPT_OF[rows[i]["metric"]])
    )
    m, s, d, f = replacement
    corrected = record(rows[i]["source_id"], s, m, d, **f)
    corrected["received_on"] = max(d, rows[i]["received_on"]) + dt.timedelta(days=1)
    final = [*rows[:i], corrected, *rows[i + 1 :]]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with fresh_store(kind, request) as a:
            submit(a, rows, folder, "orig")
            submit(a, [corrected], folder, "fix")
            got = {at: engine_scores(a, at) for at in PROBES}
        with fresh_store(kind, request) as b:
            submit(b, final, folder, "final")
            assert {at: engine_scores(b, at) for at in PROBES} == got
        assert got == {at: oracle_scores(final, at) for at in PROBES}


@KINDS
@SETTINGS
@given(record_lists, st.integers(2, 5))
def test_incremental_equals_full_recompute(kind, request, items, parts: int) -> None:
    rows = as_rows(items)
    with fresh_store(kind, request) as store, tempfile.TemporaryDirectory() as tmp:
        for k in range(parts):
            submit(store, rows[k::parts], Path(tmp), f"batch{k}")
        incremental = {at: engine_scores(store, at) for at in PROBES}
        with store.begin() as conn:
            rematch_all(conn, CATALOG)
        assert {at: engine_scores(store, at) for at in PROBES} == incremental
        assert incremental == {at: oracle_scores(rows, at) for at in PROBES}


@KINDS
@SETTINGS
@given(record_lists)
def test_a_late_record_is_never_punished_before_it_arrived(kind, request, items) -> None:
    """Before the day a record arrived, it cannot have lowered a score (a reward, or a resolution that
    ends a penalty, may count from its date: spec section 4)."""
    rows = as_rows(items)
    late = [r for r in rows if r["received_on"] > r["occurred_at"]][:3]
    with fresh_store(kind, request) as store, tempfile.TemporaryDirectory() as tmp:
        submit(store, rows, Path(tmp), "all")
        for r in late:
            day, sid = r["received_on"] - dt.timedelta(days=1), r["subject_id"]
            without = oracle_scores([x for x in rows if x is not r], day).get(sid, (100, False))
            assert scores.subject_score(store, sid, day).score >= without[0]
