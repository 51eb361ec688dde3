"""Every engine gives every resident the same score, defaulter flag and perks (issue 13, item 2).

Hypothesis draws a catalog (caps, points, validity and notice days, the clamp, perk thresholds),
records of three departments (late arrivals, listings and resolutions), corrections,
retractions and objections (decided or not, suspended past 30 days, upheld, revoked, corrected)
and dates. The same history is stored in a SQLite and a PostgreSQL store through the use cases,
and the whole population is scored on: the store's own SQL (SQLite, PostgreSQL), DuckDB over
each store's columnar copy, and Spark in local mode. Every table must be the same, to the point.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guihua.core.catalog_parsing import parse_catalog
from guihua.core.errors import GuihuaError
from guihua.engine import backends
from guihua.store import export_queries
from guihua.store.database import Store, open_store
from guihua.usecases import catalogs, objections, records, scores, submissions
from tests.conftest import DATA, TODAY, _empty_pg
from tests.helpers import jsonl, record, subject

MINI = yaml.safe_load((DATA / "mini.yaml").read_text())
SUBJECTS = [subject(i) for i in range(1, 5)]
DEPT_OF = {"volunteer_service": "CIVIL", "traffic_offence": "TRAFFIC", "loan_default": "BANK"}
Row = dict[str, Any]

pytestmark = pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning")

# --------------------------------------------------------------------------- what is drawn


@st.composite
def catalog_texts(draw: st.DrawFn) -> str:
    """The mini catalog with other caps, points, days, bounds and perk thresholds."""
    doc = copy.deepcopy(MINI)
    doc["scheme"]["min"] = draw(st.sampled_from([0, 80, 95]))
    doc["scheme"]["max"] = draw(st.sampled_from([200, 110, 104]))
    for cat in doc["categories"]:
        cat["max_gain_per_year"] = draw(st.sampled_from([None, 2, 5, 20]))
        cat["max_loss_per_year"] = draw(st.sampled_from([None, 3, 6, 40]))
    for rule in doc["rules"]:
        if rule["points"] > 0:
            rule["points"] = draw(st.integers(1, 10))
        else:
            rule["points"] = -draw(st.integers(1, 50))
        rule["valid_days"] = draw(st.sampled_from([None, 30, 180, 365]))
        rule["notice_days"] = draw(st.sampled_from([0, 7, 30]))
    for perk in doc["perks"]:
        perk["min_score"] = draw(st.integers(95, 110))
        perk["clean_record_required"] = draw(st.booleans())
    return yaml.safe_dump(doc, sort_keys=False)


dates = st.dates(min_value=dt.date(2018, 6, 1), max_value=dt.date(2021, 12, 31))
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
events = st.one_of(volunteer, traffic, loan)
BY_METRIC = {"volunteer_service": volunteer, "traffic_offence": traffic, "loan_default": loan}
delays = st.sampled_from([0, 0, 0, 3, 30, 400])  # days between a record's date and its arrival


@dataclass
class History:
    """What happens to the stores, each step on its day."""

    catalog: str
    steps: list[tuple[dt.date, int, str, Any]] = field(default_factory=list)
    probes: list[dt.date] = field(default_factory=list)


@st.composite
def histories(draw: st.DrawFn, max_records: int = 18) -> History:
    h = History(draw(catalog_texts()))
    items = draw(st.lists(st.tuples(events, delays), min_size=1, max_size=max_records))
    rows: list[Row] = []
    for i, ((m, s, d, f), delay) in enumerate(items):
        row = record(f"{m[:3]}-{i}", s, m, d, **f)
        row["received_on"] = d + dt.timedelta(days=delay)
        rows.append(row)
        h.steps.append((row["received_on"], 0, "ingest", row))
    for i in draw(st.lists(st.integers(0, len(rows) - 1), max_size=3)):  # corrections
        original = rows[i]
        m, s, d, f = draw(BY_METRIC[original["metric"]])  # a department corrects its own metric
        fixed = record(original["source_id"], s, m, d, **f)
        fixed["received_on"] = max(d, original["received_on"]) + dt.timedelta(days=draw(st.integers(1, 60)))
        h.steps.append((fixed["received_on"], 1, "ingest", fixed))
    for i in draw(st.lists(st.integers(0, len(rows) - 1), max_size=2, unique=True)):  # retractions
        day = rows[i]["received_on"] + dt.timedelta(days=draw(st.sampled_from([0, 5, 90])))
        h.steps.append((day, 2, "retract", rows[i]))
    for n, i in enumerate(draw(st.lists(st.integers(0, len(rows) - 1), min_size=1, max_size=3, unique=True))):
        filed = rows[i]["received_on"] + dt.timedelta(days=draw(st.sampled_from([0, 10, 40])))
        h.steps.append((filed, 3, "object", (n, rows[i])))
        decision = draw(st.sampled_from([None, "uphold", "revoke", "correct"]))
        if decision is not None:
            later = filed + dt.timedelta(days=draw(st.sampled_from([5, 29, 30, 45])))
            h.steps.append((later, 4, "decide", (n, decision, rows[i]["occurred_at"])))
    h.steps.sort(key=lambda step: (step[0], step[1]))
    probe_days = st.dates(min_value=dt.date(2018, 6, 1), max_value=dt.date(2023, 6, 30))
    h.probes = draw(st.lists(probe_days, min_size=2, max_size=2, unique=True))
    return h


# --------------------------------------------------------------------------- living it on a store


@contextmanager
def on_day(day: dt.date) -> Iterator[None]:
    os.environ["GUIHUA_TODAY"] = day.isoformat()
    try:
        yield
    finally:
        os.environ["GUIHUA_TODAY"] = TODAY


def live_through(store: Store, h: History, folder: Path) -> None:
    """Every step of ``h`` on its day; a step the use cases refuse (a retracted record objected to,
    a correction equal to the record) does not happen, on either store alike."""
    catalogs.load_catalog(store, h.catalog)
    filed: dict[int, int] = {}  # drawn objection -> its id in the store
    pending: list[Row] = []

    def flush(day: dt.date) -> None:
        by_dept: dict[str, list[Row]] = {}
        for r in pending:
            by_dept.setdefault(DEPT_OF[r["metric"]], []).append(r)
        for dept, part in by_dept.items():
            body = [{k: v for k, v in r.items() if k != "received_on"} for r in part]
            path = jsonl(folder / f"{dept}-{day}-{len(list(folder.iterdir()))}.jsonl", body)
            with on_day(day):
                submissions.ingest_file(store, path, dept, as_of=day)
        pending.clear()

    for i, (day, order, kind, what) in enumerate(h.steps):
        if kind == "ingest":
            pending.append(what)
            after = h.steps[i + 1] if i + 1 < len(h.steps) else None
            if after is None or after[:3] != (day, order, "ingest"):
                flush(day)
            continue
        with on_day(day), suppress(GuihuaError):
            if kind == "retract":
                records.retract(store, DEPT_OF[what["metric"]], what["source_id"])
            elif kind == "object":
                n, row = what
                current = _current_subject(store, DEPT_OF[row["metric"]], row["source_id"])
                o = objections.file(store, current, DEPT_OF[row["metric"]], row["source_id"], "not me")
                filed[n] = o.id
            elif kind == "decide":
                n, decision, occurred = what
                if n in filed:
                    moved = occurred - dt.timedelta(days=1) if decision == "correct" else None
                    objections.decide(store, filed[n], decision, "reviewed", occurred_at=moved)


def _current_subject(store: Store, department: str, source_id: str) -> str:
    from guihua.store import record_queries

    with store.begin() as conn:
        row = record_queries.current_record(conn, department, source_id)
    return str(row.subject_id) if row is not None else SUBJECTS[0]


_TEMPLATE: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def _template_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A migrated, empty SQLite store, copied for every example (migrating costs more)."""
    path = tmp_path_factory.mktemp("parity") / "tpl.db"
    open_store(str(path)).dispose()
    _TEMPLATE.append(path)
    yield
    _TEMPLATE.clear()


@contextmanager
def stored(kind: str, h: History, request: pytest.FixtureRequest) -> Iterator[Store]:
    folder = Path(tempfile.mkdtemp(prefix="guihua-parity-"))
    if kind == "postgres":
        store = _empty_pg(request.getfixturevalue("pg_url"))
    else:
        shutil.copy(_TEMPLATE[0], folder / "s.db")
        store = open_store(str(folder / "s.db"))
    try:
        (folder / "files").mkdir()
        live_through(store, h, folder / "files")
        yield store
    finally:
        store.dispose()
        shutil.rmtree(folder, ignore_errors=True)


def everyone(store: Store, at: dt.date, engine: str) -> pa.Table:
    return scores.population_scores(store, at, engine, perks=True)[2]


def assert_same(expected: pa.Table, got: pa.Table, what: str) -> None:
    assert got.schema == expected.schema, what
    assert got.to_pylist() == expected.to_pylist(), what


SETTINGS = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# --------------------------------------------------------------------------- the properties


@SETTINGS
@given(histories())
def test_sql_on_sqlite_and_postgres_and_duckdb_agree(request: pytest.FixtureRequest, h: History) -> None:
    with stored("sqlite", h, request) as lite, stored("postgres", h, request) as pg:
        for at in h.probes:
            expected = everyone(lite, at, "sql")
            assert_same(expected, everyone(pg, at, "sql"), f"sql on PostgreSQL at {at}")
            assert_same(expected, everyone(lite, at, "duckdb"), f"duckdb over SQLite's copy at {at}")
            assert_same(expected, everyone(pg, at, "duckdb"), f"duckdb over PostgreSQL's copy at {at}")


@settings(SETTINGS, max_examples=5)
@given(histories(max_records=12))
def test_spark_agrees_with_the_stores_sql(
    request: pytest.FixtureRequest, spark_local: Any, h: History
) -> None:
    with stored("sqlite", h, request) as lite:
        for at in h.probes:
            assert_same(everyone(lite, at, "sql"), everyone(lite, at, "spark"), f"spark at {at}")


# --------------------------------------------------------------------------- the columnar copy


HOSTILE_IDS = ["plain", "comma,inside", 'quote"inside', "new\nline", "  spaced  ", "中文编号", "x" * 200]


def test_the_columnar_copy_is_the_same_from_either_store_and_in_any_batch_size(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text with commas, quotes, newlines, spaces; nulls; booleans; dates; a retraction."""
    rows = [
        record(sid, SUBJECTS[i % 4], "volunteer_service", "2024-03-01", hours=12.0, organisation=sid)
        for i, sid in enumerate(HOSTILE_IDS)
    ]
    rows += [
        record("l1", SUBJECTS[0], "loan_default", "2024-02-01", case_id='C,1"', action="list", amount=5.0)
    ]
    h = History((DATA / "mini.yaml").read_text())
    copies = {}
    monkeypatch.setattr(export_queries, "BATCH_ROWS", 3)
    for kind in ("sqlite", "postgres"):
        folder = tmp_path / kind
        folder.mkdir()
        with stored(kind, h, request) as store:
            submissions.ingest_file(
                store, jsonl(folder / "c.jsonl", rows[:-1]), "CIVIL", as_of=dt.date(2024, 3, 2)
            )
            submissions.ingest_file(
                store, jsonl(folder / "b.jsonl", rows[-1:]), "BANK", as_of=dt.date(2024, 3, 2)
            )
            records.retract(store, "CIVIL", "plain")
            with store.begin() as conn:
                export_queries.snapshot(conn)
                source = export_queries.export_columnar(conn, folder)
            assert isinstance(source.records, Path)
            assert pq.ParquetFile(source.records).metadata.num_row_groups == 3  # 8 rows, 3 a batch
            table = pq.read_table(source.records).sort_by("id")
            retracted = table.column("retracted_at").to_pylist()
            assert [r is not None for r in retracted] == [True, *([False] * 7)]
            copies[kind] = table.drop_columns(["retracted_at"]).to_pylist()
            objections_copy = pq.read_table(source.objections)
            assert objections_copy.num_rows == 0 and set(objections_copy.column_names) >= {"filed_on"}
    assert copies["sqlite"] == copies["postgres"]
    by_id = {r["source_id"]: r for r in copies["sqlite"]}
    assert set(by_id) == {*(s.strip() for s in HOSTILE_IDS), "l1"}  # ingest trims ids
    assert by_id["l1"]["case_id"] == 'C,1"' and by_id["l1"]["action"] == "list"
    assert by_id["comma,inside"]["case_id"] is None and by_id["comma,inside"]["is_current"] is True
    assert isinstance(by_id["l1"]["occurred_at"], dt.date)


def four_penalties(tmp_path: Path, store: Store) -> backends.Columnar:
    """Four residents with one traffic penalty each (-3), copied to Parquet."""
    catalogs.load_catalog(store, (DATA / "mini.yaml").read_text())
    rows = [
        record(
            f"t{i}",
            SUBJECTS[i % 4],
            "traffic_offence",
            "2024-01-0" + str(i + 1),
            offence="fail_to_yield",
            fine=100,
            paid=True,
            when_paid="2024-01-09",
        )
        for i in range(4)
    ]
    submissions.ingest_file(store, jsonl(tmp_path / "t.jsonl", rows), "TRAFFIC", as_of=dt.date(2024, 1, 10))
    with store.begin() as conn:
        source = export_queries.export_columnar(conn, tmp_path, backends.SCORING_COLUMNS)
    assert isinstance(source.records, Path) and isinstance(source.objections, Path)
    return source


def as_arrow(source: backends.Columnar) -> backends.Columnar:
    assert isinstance(source.records, Path) and isinstance(source.objections, Path)
    return backends.Columnar(pq.read_table(source.records), pq.read_table(source.objections))


MINI_CATALOG = parse_catalog((DATA / "mini.yaml").read_text())
AT = dt.date(2024, 2, 1)


def test_arrow_tables_and_parquet_files_score_alike_on_duckdb(tmp_path: Path, sqlite_store: Store) -> None:
    source = four_penalties(tmp_path, sqlite_store)
    from_files = backends.scores_on("duckdb", source, MINI_CATALOG, AT, perks=True)
    assert_same(
        from_files, backends.scores_on("duckdb", as_arrow(source), MINI_CATALOG, AT, perks=True), "arrow"
    )
    assert from_files.column("score").to_pylist() == [97] * 4
    assert_same(scores.population_scores(sqlite_store, AT, "sql", perks=True)[2], from_files, "sql")


def test_arrow_tables_and_parquet_files_score_alike_on_spark(
    tmp_path: Path, sqlite_store: Store, spark_local: Any
) -> None:
    source = four_penalties(tmp_path, sqlite_store)
    expected = backends.scores_on("duckdb", source, MINI_CATALOG, AT, perks=True)
    assert_same(expected, backends.scores_on("spark", source, MINI_CATALOG, AT, perks=True), "parquet")
    assert_same(
        expected, backends.scores_on("spark", as_arrow(source), MINI_CATALOG, AT, perks=True), "arrow"
    )
    no_objections = backends.Columnar(as_arrow(source).records, NO_OBJECTIONS)  # empty, of other types
    assert_same(expected, backends.scores_on("spark", no_objections, MINI_CATALOG, AT, perks=True), "empty")


NO_OBJECTIONS = pa.table({"id": pa.array([], pa.string()), "filed_on": pa.array([], pa.string())})


def test_an_unknown_engine_is_refused(sqlite_store: Store) -> None:
    from guihua.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="unknown engine 'polars'"):
        scores.population_scores(sqlite_store, None, "polars")
