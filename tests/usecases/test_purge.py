"""Retention (spec section 8) on both stores: what a purge deletes, what it keeps, and that it changes nothing.

- a listing whose resolution was revoked is open again: the listing stays, the score with it;
- the most recent record of each (subject, protected metric) stays, whatever its age;
- a dry run deletes nothing and counts exactly what the purge then deletes; the audit trail gets counts only;
- an undecided objection holds its record and every record of its listing case;
- property: a purge at today never changes a score, a defaulter flag or a perk at today or later.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Table, func, select

from guihua.store import schema
from guihua.store.database import Store, open_store
from guihua.usecases import audit, catalogs, objections, purge, records, scores, submissions
from tests.conftest import DATA, TODAY, _empty_pg
from tests.helpers import D, jsonl, load, loan, offence, record, score_at, subject, submit_as_they_happen, vol

A, B, C = subject(1), subject(2), subject(3)
Key = tuple[str, str]
Row = dict[str, Any]


def keys_left(store: Store) -> set[Key]:
    with store.begin() as conn:
        return {(r.department, r.source_id) for r in conn.execute(select(schema.records))}


def rows_in(store: Store, table: Table) -> int:
    with store.begin() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def on_day(monkeypatch: pytest.MonkeyPatch, day: str | dt.date) -> None:
    monkeypatch.setenv("GUIHUA_TODAY", str(day))


def marital(n: int, sid: str, when: str, status: str) -> Row:
    return record(f"m{n}", sid, "marital_status", when, status=status)


# --------------------------------------------------------------------------- scenarios


LATER = ["2026-06-30", "2026-07-01", "2027-06-30", "2036-06-30"]


def test_a_revoked_resolution_reopens_the_case_and_its_listing_stays(
    store: Store, tmp_path: Path, mini_catalog_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [loan(1, A, "2019-01-01", "C1", "list"), loan(2, A, "2019-03-01", "C1", "resolve")]
    load(store, mini_catalog_text, tmp_path, "BANK", rows)
    on_day(monkeypatch, "2019-04-01")
    filed = objections.file(store, A, "BANK", "l2", "I never repaid this loan")
    on_day(monkeypatch, "2019-04-02")
    objections.decide(store, filed.id, "revoke", "no repayment on file")
    on_day(monkeypatch, TODAY)
    assert [score_at(store, A, d) for d in LATER] == [(60, True)] * 4  # the case is open again
    result = purge.purge(store)
    assert result.cutoff == "2021-06-30"
    left = keys_left(store)
    assert ("BANK", "l1") in left  # the listing of an open case is never purged
    assert left <= {("BANK", "l1"), ("BANK", "l2")}  # the revoked resolution may go
    assert [score_at(store, A, d) for d in LATER] == [(60, True)] * 4


def test_the_latest_record_of_each_protected_metric_is_kept(
    store: Store, tmp_path: Path, mini_catalog_text: str
) -> None:
    rows = [
        marital(1, A, "2010-05-01", "single"),
        marital(2, A, "2012-05-01", "married"),
        marital(3, A, "2014-05-01", "divorced"),
        marital(4, B, "2011-03-01", "single"),
        marital(5, B, "2013-03-01", "married"),
    ]
    load(store, mini_catalog_text, tmp_path, "CIVIL", rows)
    result = purge.purge(store)
    assert (result.keys, result.records) == (3, 3)
    assert keys_left(store) == {("CIVIL", "m3"), ("CIVIL", "m5")}  # each resident's latest


def test_a_dry_run_counts_what_the_purge_then_deletes_and_the_audit_gets_counts_only(
    store: Store, tmp_path: Path, mini_catalog_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(store, mini_catalog_text, tmp_path, "CIVIL", [vol(1, A, "2018-05-01"), vol(2, B, "2026-01-01")])
    traffic = [offence(1, A, "2019-01-05"), offence(2, B, "2019-02-01"), offence(3, C, "2025-01-05")]
    submit_as_they_happen(store, tmp_path, "TRAFFIC", traffic)
    fix = jsonl(tmp_path / "fix.jsonl", [offence(1, A, "2019-01-05", kind="speeding", paid=False)])
    assert submissions.ingest_file(store, fix, "TRAFFIC", as_of=D("2019-02-01")).corrected == 1
    bank = [loan(1, A, "2019-01-01", "C1", "list"), loan(2, A, "2019-03-01", "C1", "resolve")]
    submit_as_they_happen(store, tmp_path, "BANK", bank)
    on_day(monkeypatch, "2019-03-01")
    filed = objections.file(store, B, "TRAFFIC", "t2", "it was not me")
    on_day(monkeypatch, "2019-03-05")
    objections.decide(store, filed.id, "uphold", "camera footage")
    on_day(monkeypatch, TODAY)
    tables = (schema.records, schema.objections, schema.notices)
    before = [rows_in(store, t) for t in tables]

    dry = purge.purge(store, dry_run=True)
    assert [rows_in(store, t) for t in tables] == before  # nothing deleted
    assert (dry.dry_run, dry.keys, dry.records, dry.objections, dry.held) == (True, 5, 6, 1, 0)
    assert dry.notices > 0
    assert dry.by_department == [
        {"department": "BANK", "metric": "loan_default", "keys": 2},
        {"department": "CIVIL", "metric": "volunteer_service", "keys": 1},
        {"department": "TRAFFIC", "metric": "traffic_offence", "keys": 2},
    ]

    done = purge.purge(store)
    counted = (dry.keys, dry.records, dry.objections, dry.notices, dry.by_department)
    assert (done.keys, done.records, done.objections, done.notices, done.by_department) == counted
    after = [rows_in(store, t) for t in tables]
    assert [b - a for b, a in zip(before, after, strict=True)] == [dry.records, dry.objections, dry.notices]
    assert keys_left(store) == {("CIVIL", "v2"), ("TRAFFIC", "t3")}

    again = purge.purge(store)
    assert (again.keys, again.records, again.objections, again.notices) == (0, 0, 0, 0)
    entries = [e for e in audit.entries(store, limit=1000) if e["action"] == "records.purge"]
    assert len(entries) == 3
    identifying = [*(s for sid in (A, B, C) for s in (sid, audit.mask(sid))), "C1", "Red Cross"]
    identifying += ["BANK", "CIVIL", "TRAFFIC", "loan_default", "traffic_offence", "fail_to_yield"]
    for entry in entries:
        assert entry["subject_id"] is None
        assert not [word for word in identifying if word in entry["detail"]], entry["detail"]
    assert all(f" {dry.records} " in e["detail"] for e in entries[1:])  # the dry run's and the purge's counts


def test_an_undecided_objection_holds_its_record_and_its_whole_case(
    store: Store, tmp_path: Path, mini_catalog_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bank = [
        loan(1, A, "2019-01-01", "C1", "list"),
        loan(2, A, "2019-03-01", "C1", "resolve"),
        loan(3, B, "2019-01-01", "C2", "list"),
        loan(4, B, "2019-03-01", "C2", "resolve"),
    ]
    load(store, mini_catalog_text, tmp_path, "BANK", bank)
    submit_as_they_happen(
        store, tmp_path, "TRAFFIC", [offence(1, A, "2019-01-05"), offence(2, C, "2019-01-05")]
    )
    on_day(monkeypatch, "2019-02-01")
    upheld = objections.file(store, C, "TRAFFIC", "t2", "not my car")
    objections.decide(store, upheld.id, "uphold", "registration matches")
    on_day(monkeypatch, "2026-06-20")  # disputed, not yet suspended, at the purge
    objections.file(store, A, "BANK", "l2", "the resolution date is wrong")
    objections.file(store, A, "TRAFFIC", "t1", "not my car")
    on_day(monkeypatch, TODAY)
    seen = {d: score_at(store, A, d) for d in LATER}

    result = purge.purge(store)
    assert (result.keys, result.held) == (3, 3)  # C2 and t2 go; C1 and t1 would, but are held
    kept = {("BANK", "l1"), ("BANK", "l2"), ("TRAFFIC", "t1")}
    assert keys_left(store) == kept
    assert {d: score_at(store, A, d) for d in LATER} == seen
    on_day(monkeypatch, "2026-08-01")  # still undecided, now suspended: still held
    assert (purge.purge(store).keys, keys_left(store)) == (0, kept)


# --------------------------------------------------------------------------- property


CATALOG_TEXT = (DATA / "mini.yaml").read_text()
SUBJECTS = [subject(i) for i in range(1, 4)]
DEPT_OF = {"volunteer_service": "CIVIL", "traffic_offence": "TRAFFIC", "loan_default": "BANK"}
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
    folder = Path(tempfile.mkdtemp(prefix="guihua-purge-"))
    shutil.copy(_TEMPLATE[0], folder / "s.db")
    store = open_store(str(folder / "s.db"))
    try:
        yield store
    finally:
        store.dispose()
        shutil.rmtree(folder, ignore_errors=True)


Rec = tuple[str, str, dt.date, dict[str, Any]]  # metric, subject, occurred_at, fields
Item = tuple[Rec, dict[str, Any]]  # a record and its fate
dates = st.dates(min_value=dt.date(2010, 1, 1), max_value=dt.date(2026, 6, 30))
people = st.sampled_from(SUBJECTS)
volunteer = st.builds(
    lambda s, d, h: ("volunteer_service", s, d, {"hours": h, "organisation": "Red Cross"}),
    people,
    dates,
    st.sampled_from([0.5, 3.0, 12.0]),
)
traffic = st.builds(
    lambda s, d, o, p: ("traffic_offence", s, d, {"offence": o, "fine": 100, "paid": p, "when_paid": d}),
    people,
    dates,
    st.sampled_from(["fail_to_yield", "speeding", "other"]),
    st.booleans(),
)


def loan_row(sid: str, day: dt.date, case: str, action: str) -> Rec:
    return ("loan_default", sid, day, {"case_id": case, "action": action, "amount": 1000.0})


case_ids = st.sampled_from(["C1", "C2"])
loans = st.builds(loan_row, people, dates, case_ids, st.sampled_from(["list", "list", "resolve"]))


def rarely(values: st.SearchStrategy[int]) -> st.SearchStrategy[int | None]:
    """One of ``values`` about one time in four, else None."""
    return st.one_of(st.none(), st.none(), st.none(), values)


gaps = st.sampled_from([0, 1, 20, 45, 400, 2500])  # days from one step to the next
later = st.sampled_from([1, 20, 45, 400, 2500])
fates = st.fixed_dictionaries(
    {
        "delay": st.sampled_from([0, 0, 3, 30]),  # received this many days after it occurred
        "objection": st.none()  # (days after receipt, decision or none, days after filing)
        | st.tuples(gaps, st.sampled_from([None, "uphold", "revoke"]), later),
        "retract": rarely(gaps),  # days after receipt, or after the filing when objected to
    }
)
single = st.tuples(st.one_of(volunteer, traffic, loans), fates).map(lambda item: [item])
listing = st.builds(  # a listing and its resolution, each with its own fate
    lambda sid, case, listed, resolved, f1, f2: [
        (loan_row(sid, listed, case, "list"), f1),
        (loan_row(sid, resolved, case, "resolve"), f2),
    ],
    people,
    case_ids,
    dates,
    dates,
    fates,
    fates,
)
histories = st.lists(single | listing, min_size=1, max_size=8).map(lambda xs: [i for x in xs for i in x])
Step = tuple[dt.date, int, str, int]  # day, order within the day, what, row index


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def years_after(day: dt.date, years: int) -> dt.date:
    return purge.years_before(day, -years)


def plan(items: list[Item]) -> tuple[list[Row], list[Step]]:
    """Rows with unique keys and the day each is received; each row's objection, decision, retraction."""
    rows, steps = [], []
    for i, ((metric, sid, occurred, fields), fate) in enumerate(items):
        row = record(f"{metric[:3]}-{i}", sid, metric, occurred, **fields)
        row["received_on"] = day = occurred + days(fate["delay"])
        rows.append(row)
        if fate["objection"] is not None:
            filed_after, decision, decided_after = fate["objection"]
            day += days(filed_after)
            steps.append((day, 0, "file", i))
            if decision:
                steps.append((day + days(decided_after), 1, decision, i))
        if fate["retract"] is not None:
            steps.append((day + days(fate["retract"]), 2, "retract", i))
    return rows, steps


def submit(store: Store, rows: list[Row], folder: Path, day: dt.date) -> None:
    """The rows received on ``day``: one file per department, sent that day."""
    for dept in sorted({DEPT_OF[r["metric"]] for r in rows}):
        body = [
            {k: v for k, v in r.items() if k != "received_on"} for r in rows if DEPT_OF[r["metric"]] == dept
        ]
        result = submissions.ingest_file(store, jsonl(folder / f"{dept}-{day}.jsonl", body), dept, as_of=day)
        assert result.rejected == 0


def play(store: Store, rows: list[Row], steps: list[Step], folder: Path, mp: pytest.MonkeyPatch) -> dt.date:
    """Everything in the order of days, each step on its day; returns the last day."""
    objection_of: dict[int, int] = {}
    all_days = sorted({r["received_on"] for r in rows} | {s[0] for s in steps})
    for day in all_days:
        on_day(mp, day)
        submit(store, [r for r in rows if r["received_on"] == day], folder, day)
        for _, _, what, i in sorted(s for s in steps if s[0] == day):
            dept, source_id, sid = DEPT_OF[rows[i]["metric"]], rows[i]["source_id"], rows[i]["subject_id"]
            if what == "file":
                objection_of[i] = objections.file(store, sid, dept, source_id, "not mine").id
            elif what == "retract":
                records.retract(store, dept, source_id)
            else:
                objections.decide(store, objection_of[i], what, "reviewed")
    return all_days[-1]


Population = dict[dt.date, dict[str, tuple[int, bool]]]
Answers = dict[tuple[str, dt.date], tuple[int, bool, tuple[tuple[str, bool], ...]]]


def observe(store: Store, probes: list[dt.date]) -> tuple[Population, Answers]:
    """Everyone's (score, defaulter) from ``all_scores``, and each subject's score, flag and perks."""
    population = {
        at: {r["subject_id"]: (r["score"], r["defaulter"]) for r in scores.all_scores(store, at).to_pylist()}
        for at in probes
    }
    answers = {}
    for sid in SUBJECTS:
        for at in probes:
            s, perks = scores.perks(store, sid, at)
            answers[(sid, at)] = (s.score, s.defaulter, tuple((p.perk, p.eligible) for p in perks))
    return population, answers


def assert_same_population(before: Population, after: Population) -> None:
    """A subject gone from ``all_scores`` (no record left) has the base score and no listing."""
    for at, seen in before.items():
        assert set(after[at]) <= set(seen), at
        assert {sid: after[at].get(sid, (100, False)) for sid in seen} == seen, at


SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
KINDS = pytest.mark.parametrize("kind", ["sqlite", "postgres"])


@KINDS
@SETTINGS
@given(histories, st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2036, 12, 31)), gaps)
def test_a_purge_changes_no_score_flag_or_perk_at_today_or_later(
    kind: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    items: list[Item],
    purge_day: dt.date,
    after_last: int,
) -> None:
    """Today is ``purge_day``, or later when something still happens after it (then ``after_last`` days
    after the last step: a purge within days of a filing sees the objection still disputed)."""
    rows, steps = plan(items)
    with (
        monkeypatch.context() as mp,
        fresh_store(kind, request) as store,
        tempfile.TemporaryDirectory() as tmp,
    ):
        last = play(store, rows, steps, Path(tmp), mp)
        today = purge_day if purge_day >= last else last + days(after_last)
        on_day(mp, today)
        probes = [today, today + days(1), years_after(today, 1), years_after(today, 10)]
        population, answers = observe(store, probes)
        stored = rows_in(store, schema.records)
        result = purge.purge(store)
        assert rows_in(store, schema.records) == stored - result.records
        population_after, answers_after = observe(store, probes)
    assert answers_after == answers
    assert_same_population(population, population_after)
