"""The defaulter list, credit repair notices, and retention purges (both backends)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from guihua.store import schema
from guihua.store.database import Store
from guihua.usecases import audit, listings, objections, purge, submissions
from tests.helpers import D, jsonl, load, loan, offence, score_at, subject, submit_as_they_happen, vol

A, B, C = subject(1), subject(2), subject(3)


def test_defaulter_list_and_repair_notice(store: Store, tmp_path, mini_catalog_text) -> None:
    rows = [
        loan(1, A, "2025-01-01", "C1", "list"),
        loan(2, B, "2025-02-01", "C2", "list"),
        loan(3, B, "2025-05-01", "C2", "resolve"),
    ]
    load(store, mini_catalog_text, tmp_path, "BANK", rows)
    day, at_march = listings.defaulter_list(store, D("2025-03-01"))
    assert day == "2025-03-01"
    assert [(x.subject_id, x.case_id, x.listed_on, x.department) for x in at_march] == [
        (A, "C1", "2025-01-01", "BANK"),
        (B, "C2", "2025-02-01", "BANK"),
    ]
    assert at_march[0].legal_basis == "Credit reporting regulation Art. 9"
    assert [x.subject_id for x in listings.defaulter_list(store, D("2025-05-01"))[1]] == [A]  # B repaired
    assert listings.defaulter_list(store, D("2024-12-31"))[1] == []
    _, cases = listings.cases_of(store, B, D("2025-06-01"))
    assert [(c.case_id, c.open, c.resolved_on) for c in cases] == [("C2", False, "2025-05-01")]
    _, cases = listings.cases_of(store, B, D("2025-04-01"))
    assert [(c.case_id, c.open, c.resolved_on) for c in cases] == [("C2", True, None)]
    with store.begin() as conn:
        got = sorted((r.subject_id, r.kind, r.case_id) for r in conn.execute(schema.notices.select()))
    assert got == [(A, "listing", "C1"), (B, "listing", "C2"), (B, "repair", "C2")]
    assert any(e["action"] == "defaulters.list" for e in audit.entries(store))


def test_notices_are_never_made_twice(store: Store, tmp_path, mini_catalog_text) -> None:
    load(
        store,
        mini_catalog_text,
        tmp_path,
        "TRAFFIC",
        [offence(1, A, "2026-01-05"), offence(2, B, "2026-01-05")],
    )
    path = jsonl(tmp_path / "again.jsonl", [offence(1, A, "2026-01-05")])
    submissions.ingest_file(store, path, "TRAFFIC")  # duplicate: no new notice
    corrected = jsonl(tmp_path / "fix.jsonl", [offence(1, A, "2026-01-05", kind="speeding", paid=False)])
    # a correction, still a penalty: a new notice, counting 7 days after it was received (today)
    submissions.ingest_file(store, corrected, "TRAFFIC")
    columns, source = schema.notice_columns()
    with store.begin() as conn:
        got = sorted(
            (r.subject_id, r.source_id, r.record_version, r.rule_id, r.points, str(r.effective_on))
            for r in conn.execute(select(*columns).select_from(source))
        )
    assert got == [
        (A, "t1", 1, "TRF-YIELD", -3, "2026-01-12"),
        (A, "t1", 2, "TRF-OTHER", -2, "2026-07-07"),
        (B, "t2", 1, "TRF-YIELD", -3, "2026-01-12"),
    ]


def test_no_notice_for_gains(store: Store, tmp_path, mini_catalog_text) -> None:
    load(store, mini_catalog_text, tmp_path, "CIVIL", [vol(1, A, "2026-01-05")])
    with store.begin() as conn:
        assert conn.execute(schema.notices.select()).first() is None


def test_purge_keeps_what_may_still_matter(store: Store, tmp_path, mini_catalog_text, monkeypatch) -> None:
    load(
        store,
        mini_catalog_text,
        tmp_path,
        "TRAFFIC",
        [offence(1, A, "2019-01-05"), offence(2, B, "2020-06-01"), offence(3, C, "2019-01-05")],
    )
    bank = [
        loan(1, A, "2019-01-01", "C1", "list"),
        loan(2, A, "2019-03-01", "C1", "resolve"),
        loan(3, B, "2019-01-01", "C2", "list"),  # never resolved: kept for ever
    ]
    submit_as_they_happen(store, tmp_path, "BANK", bank)
    objections.file(store, C, "TRAFFIC", "t3", "never was there")  # held while undecided
    # ended: t1 on 2020-01-12, t3 on 2020-01-12, case C1 on 2019-03-01; t2 on 2021-06-08
    monkeypatch.setenv("GUIHUA_TODAY", "2026-01-01")  # cutoff 2021-01-01
    dry = purge.purge(store, dry_run=True)
    assert (dry.cutoff, dry.keys, dry.records, dry.held) == ("2021-01-01", 3, 3, 1)
    with store.begin() as conn:
        assert conn.execute(schema.records.select()).all().__len__() == 6  # dry run: nothing gone
    done = purge.purge(store)
    assert (done.keys, done.records, done.notices) == (3, 3, 3)  # t1 penalty, C1 listing and repair
    with store.begin() as conn:
        left = sorted((r.department, r.source_id) for r in conn.execute(schema.records.select()))
    assert left == [("BANK", "l3"), ("TRAFFIC", "t2"), ("TRAFFIC", "t3")]
    assert score_at(store, B, "2026-01-01") == (60, True)  # the open case is untouched
    assert purge.purge(store).keys == 0  # idempotent
    details = [e["detail"] for e in audit.entries(store) if e["action"] == "records.purge"]
    assert details and all("record versions" in d and "C1" not in d for d in details)  # counts only


@pytest.mark.parametrize(
    ("day", "years", "expected"), [("2024-02-29", 5, "2019-02-28"), ("2026-06-30", 5, "2021-06-30")]
)
def test_years_before(day: str, years: int, expected: str) -> None:
    assert purge.years_before(D(day), years) == D(expected)
