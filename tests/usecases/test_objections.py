"""Spec section 7, transition by transition, with scores before, during and after each (both backends).

A TRF-YIELD offence on 2026-01-05 costs 3 points from 2026-01-12 (7 notice days)
for 365 days. Objections are filed "today" (GUIHUA_TODAY), so each test moves
the clock the way a counter clerk's calendar would.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from guihua.core.errors import Conflict, InvalidInput, NotFound
from guihua.core.policy import Actor
from guihua.store import schema
from guihua.store.database import Store
from guihua.usecases import audit, objections, scores
from tests.helpers import D, load, loan, offence, score_at, subject

A, B = subject(1), subject(2)
FILED = "2026-02-01"  # suspends on 2026-03-03, the 30th day after
RESIDENT = Actor("resident-a", "resident")
REVIEWER = Actor("reviewer-1", "reviewer")


@pytest.fixture
def disputed(store: Store, tmp_path: Path, mini_catalog_text: str, monkeypatch: pytest.MonkeyPatch) -> Store:
    load(
        store,
        mini_catalog_text,
        tmp_path,
        "TRAFFIC",
        [offence(1, A, "2026-01-05"), offence(2, B, "2026-01-05")],
    )
    monkeypatch.setenv("GUIHUA_TODAY", FILED)
    o = objections.file(store, A, "TRAFFIC", "t1", "I was not driving that day", actor=RESIDENT)
    assert (o.id, o.state, o.filed_on, o.suspends_on) == (1, "open", FILED, "2026-03-03")
    return store


def decide_on(monkeypatch: pytest.MonkeyPatch, store: Store, day: str, decision: str, **kw: object) -> None:
    monkeypatch.setenv("GUIHUA_TODAY", day)
    objections.decide(store, 1, decision, f"{decision}: reviewed the evidence", actor=REVIEWER, **kw)  # type: ignore[arg-type]


def status_at(store: Store, day: str) -> str:
    return scores.explain(store, A, D(day)).items[0].status


def test_disputed_counts_then_suspended_on_the_30th_day(disputed: Store) -> None:
    assert score_at(disputed, A, "2026-01-31") == (97, False)  # before the objection
    assert score_at(disputed, A, FILED) == (97, False)  # disputed: still counts
    assert status_at(disputed, FILED) == "disputed"
    assert score_at(disputed, A, "2026-03-02") == (97, False)  # day 29
    assert score_at(disputed, A, "2026-03-03") == (100, False)  # day 30: suspended
    assert status_at(disputed, "2026-03-03") == "suspended"
    assert score_at(disputed, A, "2026-12-31") == (100, False)  # still undecided: still suspended
    assert score_at(disputed, B, "2026-03-03") == (97, False)  # nobody else's record is touched


def test_overdue_listing_starts_on_the_30th_day(disputed: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    assert [o.state for o in objections.list_objections(disputed, open_only=True)] == ["open"]
    monkeypatch.setenv("GUIHUA_TODAY", "2026-03-02")
    assert objections.list_objections(disputed, overdue_only=True) == []
    monkeypatch.setenv("GUIHUA_TODAY", "2026-03-03")
    assert [o.state for o in objections.list_objections(disputed, overdue_only=True)] == ["suspended"]
    assert [o.source_id for o in objections.list_objections(disputed, department="TRAFFIC")] == ["t1"]
    assert objections.list_objections(disputed, department="CIVIL") == []


def test_upheld_after_suspension_counts_again_from_the_decision(disputed, monkeypatch) -> None:
    decide_on(monkeypatch, disputed, "2026-03-10", "uphold")
    assert score_at(disputed, A, "2026-02-15") == (97, False)  # disputed
    assert score_at(disputed, A, "2026-03-05") == (100, False)  # suspended until the decision
    assert score_at(disputed, A, "2026-03-09") == (100, False)
    assert score_at(disputed, A, "2026-03-10") == (97, False)  # upheld: counts from the decision day
    assert status_at(disputed, "2026-03-10") == "counting"
    assert score_at(disputed, A, "2027-01-12") == (100, False)  # and expires as before


def test_upheld_within_30_days_is_never_suspended(disputed, monkeypatch) -> None:
    decide_on(monkeypatch, disputed, "2026-02-20", "uphold")
    for day in ("2026-02-19", "2026-02-20", "2026-03-03", "2026-06-01"):
        assert score_at(disputed, A, day) == (97, False), day


def test_decision_on_the_30th_day_comes_in_time(disputed, monkeypatch) -> None:
    decide_on(monkeypatch, disputed, "2026-03-03", "uphold")
    assert score_at(disputed, A, "2026-03-02") == (97, False)
    assert score_at(disputed, A, "2026-03-03") == (97, False)


def test_revoked_stops_counting_from_the_decision(disputed, monkeypatch) -> None:
    decide_on(monkeypatch, disputed, "2026-02-10", "revoke")
    assert score_at(disputed, A, "2026-02-09") == (97, False)  # disputed: counted until then
    assert score_at(disputed, A, "2026-02-10") == (100, False)
    assert status_at(disputed, "2026-02-10") == "revoked"
    assert score_at(disputed, A, "2026-03-05") == (100, False)
    assert score_at(disputed, A, "2026-12-01") == (100, False)


def test_revoked_after_suspension_never_counts_again(disputed, monkeypatch) -> None:
    decide_on(monkeypatch, disputed, "2026-04-01", "revoke")
    assert score_at(disputed, A, "2026-03-02") == (97, False)
    assert score_at(disputed, A, "2026-03-20") == (100, False)  # suspended
    assert score_at(disputed, A, "2026-04-01") == (100, False)  # revoked


def test_corrected_is_a_new_version_that_replaces_the_old(disputed, monkeypatch) -> None:
    # speeding, unpaid: TRF-OTHER, -2 for 180 days; the correction is received on the decision day
    # (spec section 7), so the new penalty counts from 2026-02-27 (7 notice days) to 2026-08-26
    decide_on(monkeypatch, disputed, "2026-02-20", "correct", changes={"offence": "speeding", "paid": False})
    assert score_at(disputed, A, "2026-01-20") == (100, False)  # the old version no longer counts
    assert score_at(disputed, A, "2026-02-26") == (100, False)  # the resident is told first
    assert score_at(disputed, A, "2026-02-27") == (98, False)
    assert score_at(disputed, A, "2026-03-05") == (98, False)  # decided in time: never suspended
    assert score_at(disputed, A, "2026-08-25") == (98, False)
    assert score_at(disputed, A, "2026-08-26") == (100, False)  # 180 days
    items = scores.explain(disputed, A, D("2026-03-05")).items
    assert [(i.version, i.rule_id, i.status, i.received_on) for i in items] == [
        (2, "TRF-OTHER", "counting", "2026-02-20")
    ]
    [o] = objections.list_objections(disputed)
    assert (o.state, o.decided_by, o.decision_reason) == (
        "corrected",
        "reviewer-1",
        "correct: reviewed the evidence",
    )


def test_correction_after_suspension_is_withheld_until_the_decision(disputed, monkeypatch) -> None:
    decide_on(monkeypatch, disputed, "2026-03-10", "correct", changes={"offence": "speeding", "paid": False})
    assert score_at(disputed, A, "2026-03-05") == (100, False)
    assert score_at(disputed, A, "2026-03-16") == (100, False)  # received 03-10, 7 notice days
    assert score_at(disputed, A, "2026-03-17") == (98, False)


def test_objection_to_a_listing_suspends_the_defaulter_status(
    store, tmp_path, mini_catalog_text, monkeypatch
):
    load(store, mini_catalog_text, tmp_path, "BANK", [loan(1, A, "2026-01-01", "C1", "list")])
    monkeypatch.setenv("GUIHUA_TODAY", FILED)
    objections.file(store, A, "BANK", "l1", "the loan was repaid in 2025", actor=RESIDENT)
    assert score_at(store, A, "2026-03-02") == (60, True)
    assert score_at(store, A, "2026-03-03") == (100, False)  # suspended: not listed, no penalty
    monkeypatch.setenv("GUIHUA_TODAY", "2026-03-20")
    objections.decide(store, 1, "uphold", "bank statement shows the debt", actor=REVIEWER)
    assert score_at(store, A, "2026-03-20") == (60, True)


def test_refusals(disputed: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(NotFound, match="has no record"):
        objections.file(disputed, A, "TRAFFIC", "t2", "not mine")  # B's record
    with pytest.raises(NotFound, match="has no record"):
        objections.file(disputed, A, "TRAFFIC", "nope", "no such record")
    with pytest.raises(Conflict, match="already open"):
        objections.file(disputed, A, "TRAFFIC", "t1", "again")
    with pytest.raises(InvalidInput, match="give a reason"):
        objections.file(disputed, B, "TRAFFIC", "t2", "   ")
    with pytest.raises(InvalidInput, match="invalid subject id"):
        objections.file(disputed, "123", "TRAFFIC", "t2", "x")
    with pytest.raises(InvalidInput, match="unknown decision"):
        objections.decide(disputed, 1, "forgive", "why not", actor=REVIEWER)
    with pytest.raises(NotFound, match="no objection 9"):
        objections.decide(disputed, 9, "uphold", "x", actor=REVIEWER)
    with pytest.raises(InvalidInput, match="needs at least one changed field"):
        objections.decide(disputed, 1, "correct", "x", actor=REVIEWER)
    with pytest.raises(InvalidInput, match="only go with the decision 'correct'"):
        objections.decide(disputed, 1, "uphold", "x", actor=REVIEWER, changes={"fine": 1})
    with pytest.raises(InvalidInput, match="not a valid record: invalid_field"):
        objections.decide(disputed, 1, "correct", "x", actor=REVIEWER, changes={"fine": "lots"})
    with pytest.raises(InvalidInput, match="equals the record"):
        objections.decide(disputed, 1, "correct", "x", actor=REVIEWER, changes={"fine": 200})
    assert objections.list_objections(disputed, open_only=True)[0].state == "open"  # nothing changed
    with disputed.begin() as conn:
        assert conn.execute(schema.records.select().where(schema.records.c.version > 1)).first() is None
    decide_on(monkeypatch, disputed, "2026-02-10", "uphold")
    with pytest.raises(Conflict, match="already decided"):
        objections.decide(disputed, 1, "revoke", "changed my mind", actor=REVIEWER)
    with pytest.raises(Conflict, match="only a new version"):
        objections.file(disputed, A, "TRAFFIC", "t1", "once more")


def test_every_step_is_audited_and_the_resident_notified(disputed, monkeypatch) -> None:
    decide_on(monkeypatch, disputed, "2026-02-10", "revoke")
    actions = [(e["action"], e["account"]) for e in audit.entries(disputed, A)]
    assert ("objection.file", "resident-a") in actions
    assert ("objection.revoke", "reviewer-1") in actions
    with disputed.begin() as conn:
        kinds = [
            (r.kind, r.case_id)
            for r in conn.execute(schema.notices.select().where(schema.notices.c.subject_id == A))
        ]
    assert kinds == [("penalty", None), ("decision", "revoked")]


def test_score_stays_a_pure_function_of_the_store(disputed, monkeypatch) -> None:
    """Asking later about an earlier date gives the same answer as asking then."""
    before = {day: score_at(disputed, A, day) for day in ("2026-02-15", "2026-03-05")}
    decide_on(monkeypatch, disputed, "2026-03-10", "revoke")
    after = {day: score_at(disputed, A, day) for day in ("2026-02-15", "2026-03-05")}
    assert before == after == {"2026-02-15": (97, False), "2026-03-05": (100, False)}
    assert dt.date.fromisoformat("2026-03-03") - dt.date.fromisoformat(FILED) == dt.timedelta(days=30)
