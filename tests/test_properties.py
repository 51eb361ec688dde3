"""Hypothesis properties of the whole pipeline (files -> ingest -> engine), against the oracle.

- the engine agrees with the naive reading of the spec (tests/oracle.py);
- scores do not depend on submission order or on how records are split into files;
- resubmitting a file changes nothing;
- a correction equals submitting the corrected record alone;
- incremental ingestion equals recomputing everything (a full re-match).
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
from guihua.usecases import catalogs, ingest, scores
from guihua.usecases.rematch import rematch_all
from tests.conftest import DATA
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
]

dates = st.dates(min_value=dt.date(2018, 6, 1), max_value=dt.date(2021, 12, 31))
volunteer = st.builds(
    lambda s, d, h: ("volunteer_service", s, d, {"hours": h, "organisation": "Red Cross"}),
    st.sampled_from(SUBJECTS),
    dates,
    st.sampled_from([0.5, 1.0, 3.0, 10.0, 12.5]),
)
traffic = st.builds(
    lambda s, d, o, p: (
        "traffic_offence",
        s,
        d,
        {"offence": o, "fine": 100, "paid": p, "when_paid": d},
    ),
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
record_lists = st.lists(st.one_of(volunteer, traffic, loan), min_size=1, max_size=25)

_TEMPLATE: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def _template_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A migrated store holding the mini catalog, copied for every example (fast)."""
    path = tmp_path_factory.mktemp("template") / "tpl.db"
    tpl = open_store(str(path))
    catalogs.load_catalog(tpl, CATALOG_TEXT)
    tpl.dispose()
    _TEMPLATE.append(path)
    yield
    _TEMPLATE.clear()


@contextmanager
def fresh_store() -> Iterator[Store]:
    """An empty SQLite store with the mini catalog."""
    folder = Path(tempfile.mkdtemp(prefix="guihua-prop-"))
    shutil.copy(_TEMPLATE[0], folder / "s.db")
    store = open_store(str(folder / "s.db"))
    try:
        yield store
    finally:
        store.dispose()
        shutil.rmtree(folder, ignore_errors=True)


def as_rows(items: list[tuple[str, str, dt.date, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [record(f"{m[:3]}-{i}", s, m, d, **f) for i, (m, s, d, f) in enumerate(items)]


def submit(store: Store, rows: list[dict[str, Any]], folder: Path, tag: str) -> None:
    by_dept: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_dept.setdefault(DEPT_OF[r["metric"]], []).append(r)
    for dept, part in by_dept.items():
        result = ingest.ingest_file(store, jsonl(folder / f"{tag}-{dept}.jsonl", part), dept)
        assert result.rejected == 0


def engine_scores(store: Store, at: dt.date) -> dict[str, tuple[int, bool]]:
    return {r["subject_id"]: (r["score"], r["defaulter"]) for r in scores.all_scores(store, at).to_pylist()}


def oracle_scores(rows: list[dict[str, Any]], at: dt.date) -> dict[str, tuple[int, bool]]:
    recs = [Rec(r["subject_id"], r["metric"], r["occurred_at"], r["fields"]) for r in rows]
    return {s: score(CATALOG, recs, s, at) for s in {r.subject_id for r in recs}}


SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(record_lists)
def test_engine_agrees_with_the_spec_oracle(items) -> None:
    rows = as_rows(items)
    with fresh_store() as store, tempfile.TemporaryDirectory() as tmp:
        submit(store, rows, Path(tmp), "all")
        for at in PROBES:
            assert engine_scores(store, at) == oracle_scores(rows, at), at


@SETTINGS
@given(record_lists, st.randoms(use_true_random=False), st.integers(1, 4))
def test_order_and_batching_do_not_matter_and_resubmission_changes_nothing(
    items, rnd: random.Random, parts: int
) -> None:
    rows = as_rows(items)
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    with fresh_store() as one, fresh_store() as many, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        submit(one, rows, folder, "one")
        for k in range(parts):
            submit(many, shuffled[k::parts], folder, f"part{k}")
        before = {at: engine_scores(one, at) for at in PROBES}
        assert {at: engine_scores(many, at) for at in PROBES} == before
        submit(one, rows, folder, "again")  # the same content again: all duplicates
        with one.begin() as conn:
            n = conn.exec_driver_sql("SELECT count(*) FROM records").scalar()
        assert n == len(rows)
        assert {at: engine_scores(one, at) for at in PROBES} == before


@SETTINGS
@given(record_lists, st.data())
def test_a_correction_equals_the_corrected_record_alone(items, data) -> None:
    rows = as_rows(items)
    i = data.draw(st.integers(0, len(rows) - 1))
    replacement = data.draw(
        st.one_of(volunteer, traffic, loan).filter(lambda x: DEPT_OF[x[0]] == DEPT_OF[rows[i]["metric"]])
    )
    m, s, d, f = replacement
    corrected = record(rows[i]["source_id"], s, m, d, **f)
    final = [*rows[:i], corrected, *rows[i + 1 :]]
    with fresh_store() as a, fresh_store() as b, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        submit(a, rows, folder, "orig")
        submit(a, [corrected], folder, "fix")
        submit(b, final, folder, "final")
        for at in PROBES:
            assert engine_scores(a, at) == engine_scores(b, at) == oracle_scores(final, at)


@SETTINGS
@given(record_lists, st.integers(2, 5))
def test_incremental_equals_full_recompute(items, parts: int) -> None:
    rows = as_rows(items)
    with fresh_store() as store, tempfile.TemporaryDirectory() as tmp:
        for k in range(parts):
            submit(store, rows[k::parts], Path(tmp), f"batch{k}")
        incremental = {at: engine_scores(store, at) for at in PROBES}
        with store.begin() as conn:
            rematch_all(conn, CATALOG)
        assert {at: engine_scores(store, at) for at in PROBES} == incremental
        assert incremental == {at: oracle_scores(rows, at) for at in PROBES}
