"""Departments' feeds on both stores: the figures of submissions made here, quality warnings,
the agreements listed and their changes audited, and the feed status never reading the records.

Days: each submission is received on the day it says (``as_of``); today is 2026-06-30.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from guihua.core import feeds as rules
from guihua.core.policy import Actor
from guihua.store import schema
from guihua.store.database import Store
from guihua.usecases import agreements, audit, catalogs, feeds, objections, submissions
from tests.helpers import D, jsonl, offence, record, subject
from tests.usecases.test_agreements import with_agreement

A = subject(1)
RESIDENT = Actor("a", "resident")
REVIEWER = Actor("rev", "reviewer")


def no_source(n: int) -> dict[str, Any]:
    return record(
        "",
        subject(n),
        "traffic_offence",
        "2026-05-01",
        offence="x",
        fine=1,
        paid=True,
        when_paid="2026-05-01",
    )


def bad_id(n: int) -> dict[str, Any]:
    return offence(9000 + n, "123", "2026-05-01")


def send(
    store: Store, tmp: Path, dept: str, rows: list[dict[str, Any]], day: str
) -> submissions.IngestResult:
    name = f"{dept}-{day}-{len(list(tmp.iterdir()))}.jsonl"
    return submissions.ingest_file(store, jsonl(tmp / name, rows), dept, as_of=D(day))


def vols(first: int, n: int, when: str = "2026-05-01", hours: float = 12) -> list[dict[str, Any]]:
    return [
        record(f"v{i}", subject(i % 900 + 1), "volunteer_service", when, hours=hours, organisation="x")
        for i in range(first, first + n)
    ]


def by_department(store: Store, at: str | None = None) -> dict[str, dict[str, Any]]:
    _, rows = feeds.feed_status(store, D(at) if at else None)
    return {f.department: f.as_dict() for f in rows}


# --------------------------------------------------------------------------- figures


def test_feed_figures_are_those_of_the_submissions_made(
    store: Store, tmp_path: Path, mini_catalog_text: str
) -> None:
    text = with_agreement(mini_catalog_text, "{status: active, valid_from: 2026-01-01, frequency_days: 7}")
    text = text.replace(
        "    metrics: [loan_default]\n",
        "    metrics: [loan_default]\n    agreement: {valid_from: 2026-01-01, frequency_days: 30}\n",
    )
    catalogs.load_catalog(store, text)
    good = [offence(i, subject(i), "2026-05-01") for i in range(1, 21)]
    s1 = send(
        store,
        tmp_path,
        "TRAFFIC",
        [*good, *[no_source(i) for i in range(3)], bad_id(1), bad_id(2)],
        "2026-05-01",
    )
    again = good[:5] + [offence(i, subject(i), "2026-06-01") for i in range(21, 26)]
    s2 = send(store, tmp_path, "TRAFFIC", [*again, bad_id(3), bad_id(4)], "2026-06-10")
    s3 = send(
        store,
        tmp_path,
        "TRAFFIC",
        [*[offence(i, subject(i), "2026-06-15") for i in range(26, 30)], *[bad_id(i) for i in range(5, 11)]],
        "2026-06-20",
    )
    assert (s1.accepted, s1.rejected, s2.accepted, s2.duplicates, s2.rejected, s3.accepted, s3.rejected) == (
        20,
        5,
        5,
        5,
        2,
        4,
        6,
    )
    # a reviewer's correction is a submission too, but not the department's feed
    o = objections.file(store, subject(1), "TRAFFIC", "t1", "not me", actor=RESIDENT)
    objections.decide(store, o.id, "correct", "wrong offence", actor=REVIEWER, changes={"offence": "other"})

    feed = by_department(store)
    t = feed["TRAFFIC"]
    assert {
        k: t[k]
        for k in ("department", "in_force", "submissions", "last_submission_on", "accepted", "rejected")
    } == {
        "department": "TRAFFIC",
        "in_force": True,
        "submissions": 3,
        "last_submission_on": "2026-06-20",
        "accepted": 29,
        "rejected": 13,
    }
    assert (t["rows"], t["duplicates"], t["reject_rate"], t["first_submission_on"]) == (
        47,
        5,
        round(13 / 47, 4),
        "2026-05-01",
    )
    assert (t["submissions_30d"], t["rows_30d"], t["accepted_30d"], t["rejected_30d"]) == (2, 22, 9, 8)
    assert t["top_reasons"] == [
        {"reason": "invalid_subject_id", "rows": 10},
        {"reason": "missing_source_id", "rows": 3},
    ]
    assert t["top_reasons_30d"] == [{"reason": "invalid_subject_id", "rows": 8}]
    assert (t["last_submission_id"], t["last_reject_rate"], t["failing"]) == (s3.submission_id, 0.6, True)
    assert (t["due_on"], t["overdue"], t["silent"]) == ("2026-06-27", True, False)  # 7 days after 06-20
    civil, bank = feed["CIVIL"], feed["BANK"]
    assert (civil["silent"], civil["overdue"], civil["due_on"]) == (True, False, None)  # no promise
    assert (bank["silent"], bank["overdue"], bank["due_on"]) == (
        True,
        True,
        "2026-01-31",
    )  # promised, never sent

    # the same feed on earlier days: only what had been received by then
    t25 = by_department(store, "2026-06-25")["TRAFFIC"]
    assert (t25["submissions"], t25["overdue"], t25["failing"]) == (3, False, True)
    t15 = by_department(store, "2026-06-15")["TRAFFIC"]
    assert (t15["submissions"], t15["last_submission_on"], t15["rejected"], t15["failing"]) == (
        2,
        "2026-06-10",
        7,
        False,
    )
    assert (t15["submissions_30d"], t15["rows_30d"], t15["due_on"], t15["overdue"]) == (
        1,
        12,
        "2026-06-17",
        False,
    )
    assert t15["top_reasons"] == [
        {"reason": "invalid_subject_id", "rows": 4},
        {"reason": "missing_source_id", "rows": 3},
    ]
    assert by_department(store, "2026-04-30")["TRAFFIC"]["silent"] is True
    _, [only] = feeds.feed_status(store, department="BANK")
    assert only.department == "BANK"


def test_submissions_say_who_sent_what_and_how_it_went(
    store: Store, tmp_path: Path, mini_catalog_text: str
) -> None:
    catalogs.load_catalog(store, mini_catalog_text)
    path = jsonl(tmp_path / "june.jsonl", [offence(1, A, "2026-06-01"), bad_id(1), no_source(2)])
    sent = submissions.ingest_file(store, path, "TRAFFIC")
    send(store, tmp_path, "CIVIL", vols(1, 2), "2026-06-30")
    traffic = feeds.list_submissions(store, "TRAFFIC")
    assert [s["id"] for s in traffic] == [sent.submission_id]
    [s] = traffic
    assert {
        k: s[k] for k in ("department", "file_name", "sha256", "size_bytes", "rows", "accepted", "rejected")
    } == {
        "department": "TRAFFIC",
        "file_name": "june.jsonl",
        "sha256": sent.sha256,
        "size_bytes": path.stat().st_size,
        "rows": 3,
        "accepted": 1,
        "rejected": 2,
    }
    assert s["rejected_by_reason"] == {"invalid_subject_id": 1, "missing_source_id": 1}
    assert (s["received_on"], s["catalog_version"], s["by_review"], s["warnings"]) == (
        "2026-06-30",
        1,
        False,
        [],
    )
    assert s["sent_by"].startswith("cli:") and s["duration_ms"] >= 0 and s["received_at"].startswith("20")
    assert [x["department"] for x in feeds.list_submissions(store)] == ["CIVIL", "TRAFFIC"]  # newest first
    assert len(feeds.list_submissions(store, limit=1)) == 1


# --------------------------------------------------------------------------- quality warnings


def test_quality_warnings_reject_nothing_and_reach_the_department(
    store: Store, tmp_path: Path, mini_catalog_text: str
) -> None:
    catalogs.load_catalog(store, mini_catalog_text)
    first = send(store, tmp_path, "CIVIL", vols(0, 20, when="2024-01-01"), "2026-06-01")
    assert first.warnings == []  # a first submission is a backfill: its dates are not judged
    for k, day in ((1, "2026-06-02"), (2, "2026-06-03")):
        assert send(store, tmp_path, "CIVIL", vols(100 * k, 20), day).warnings == []

    fell = send(store, tmp_path, "CIVIL", vols(400, 5), "2026-06-04")
    assert fell.accepted == 5 and fell.rejected == 0
    assert [(w["kind"], w["metric"], w["observed"], w["expected"]) for w in fell.warnings] == [
        ("volume_fell", "volunteer_service", 5, 20)
    ]
    rose = send(store, tmp_path, "CIVIL", vols(500, 40), "2026-06-05")  # usual: median of 5, 20, 20, 20
    assert [(w["kind"], w["observed"], w["expected"]) for w in rose.warnings] == [("volume_rose", 40, 20)]
    usual = send(store, tmp_path, "CIVIL", vols(600, 20), "2026-06-06")
    assert usual.warnings == []  # median of 40, 5, 20, 20, 20 is 20

    # a metric each of the last three submissions carried is missing: its volume fell to 0
    marital = [
        record(f"m{i}", subject(i + 1), "marital_status", "2026-06-01", status="married") for i in range(3)
    ]
    gone = send(store, tmp_path, "CIVIL", marital, "2026-06-07")
    assert [(w["kind"], w["metric"], w["observed"]) for w in gone.warnings] == [
        ("volume_fell", "volunteer_service", 0)
    ]

    old = send(store, tmp_path, "CIVIL", [*vols(700, 12, when="2025-06-01"), *vols(800, 8)], "2026-06-08")
    assert [(w["kind"], w["observed"]) for w in old.warnings] == [
        ("old_records", 0.6)
    ]  # 12 of 20 before 2025-06-08

    changed = send(
        store,
        tmp_path,
        "CIVIL",
        vols(0, 20, when="2024-01-01", hours=2) + vols(100, 20, hours=2) + vols(200, 20, hours=2),
        "2026-06-09",
    )
    assert changed.corrected == 60
    kinds = [w["kind"] for w in changed.warnings]
    assert "many_corrections" in kinds and "old_records" in kinds

    # on the submission, in the feed, and in a notice to the department (not to the operators)
    [listed] = [s for s in feeds.list_submissions(store, "CIVIL") if s["id"] == fell.submission_id]
    assert listed["warnings"] == fell.warnings
    feed = by_department(store)["CIVIL"]
    assert {(w["submission_id"], w["kind"]) for w in feed["warnings"]} >= {
        (fell.submission_id, "volume_fell"),
        (rose.submission_id, "volume_rose"),
        (old.submission_id, "old_records"),
        (changed.submission_id, "many_corrections"),
    }
    notices = feeds.feed_notices(store, "CIVIL")
    assert {n["submission_id"] for n in notices} == {
        fell.submission_id,
        rose.submission_id,
        gone.submission_id,
        old.submission_id,
        changed.submission_id,
    }
    assert all(n["kind"] == "quality" and not n["to_operators"] for n in notices)
    [fell_notice] = [n for n in notices if n["submission_id"] == fell.submission_id]
    assert "volume_fell" in fell_notice["body"] and "20" in fell_notice["body"]
    # sending the same file again is all duplicates, at the usual volume: no new warning
    assert send(store, tmp_path, "CIVIL", vols(600, 20), "2026-06-10").warnings == []


def test_the_thresholds_at_their_edges() -> None:
    history = {"m": [20, 20, 20]}
    judge = rules.quality_warnings
    assert judge({"m": (10, 0)}, 0, history, frozenset(), False) == []  # exactly half: not "more than"
    assert [w.kind for w in judge({"m": (9, 0)}, 0, history, frozenset(), False)] == ["volume_fell"]
    assert judge({"m": (30, 0)}, 0, history, frozenset(), False) == []
    assert [w.kind for w in judge({"m": (31, 0)}, 0, history, frozenset(), False)] == ["volume_rose"]
    assert judge({"m": (1, 0)}, 0, {"m": [20, 20]}, frozenset(), False) == []  # too little history
    assert judge({"m": (1, 0)}, 0, {"m": [9, 9, 9]}, frozenset(), False) == []  # too small to judge
    assert judge({"m": (50, 10)}, 0, {}, frozenset(), False) == []  # 20%: not more than
    assert [w.kind for w in judge({"m": (49, 10)}, 0, {}, frozenset(), False)] == ["old_records"]
    assert judge({"m": (20, 9)}, 0, {}, frozenset(), False) == []  # fewer than 10 old rows
    assert judge({"m": (100, 0)}, 50, {}, frozenset(), False) == []  # not more than 50
    assert [w.kind for w in judge({"m": (100, 0)}, 51, {}, frozenset(), False)] == ["many_corrections"]
    assert judge({"m": (1000, 0)}, 100, {}, frozenset(), False) == []  # 10%: not more than


# --------------------------------------------------------------------------- agreements


def test_agreements_listed_and_their_changes_audited(store: Store, mini_catalog_text: str) -> None:
    catalogs.load_catalog(store, mini_catalog_text)
    assert [e for e in audit.entries(store) if e["action"] == "catalog.agreement"] == []  # the first load
    changed = with_agreement(
        mini_catalog_text, "{status: suspended, valid_from: 2020-01-01, frequency_days: 31}"
    )
    catalogs.load_catalog(store, changed)
    catalogs.load_catalog(store, changed)  # unchanged: nothing more
    agreements.set_contact(store, "TRAFFIC", "traffic-data@example.org", Actor("ops", "admin"))
    listed = agreements.list_agreements(store, D("2026-06-30"))
    by = {a["department"]: a for a in listed["agreements"]}
    assert {
        k: by["TRAFFIC"][k]
        for k in ("state", "in_force", "status", "valid_from", "valid_to", "frequency_days")
    } == {
        "state": "suspended",
        "in_force": False,
        "status": "suspended",
        "valid_from": "2020-01-01",
        "valid_to": None,
        "frequency_days": 31,
    }
    assert by["TRAFFIC"]["legal_basis"] == "Road Traffic Safety Law, Art. 2"
    assert (
        by["TRAFFIC"]["metrics"] == ["traffic_offence"]
        and by["TRAFFIC"]["contact_email"] == "traffic-data@example.org"
    )
    assert (by["CIVIL"]["state"], by["CIVIL"]["contact_email"]) == ("in_force", None)
    entries = [e for e in audit.entries(store) if e["action"] == "catalog.agreement"]
    assert [e["detail"] for e in entries] == [
        "version 2: TRAFFIC: status active, valid from always to open, no promised frequency -> "
        "status suspended, valid from 2020-01-01 to open, every 31 days"
    ]
    dropped = mini_catalog_text.replace(
        '  - code: BANK\n    name: Bank\n    legal_basis: "Credit reporting regulation, Art. 3"\n    metrics: [loan_default]\n',
        "",
    )
    catalogs.load_catalog(store, dropped)
    latest = [e["detail"] for e in audit.entries(store) if e["action"] == "catalog.agreement"][:2]
    assert sorted(latest) == [
        "version 3: BANK: status active, valid from always to open, no promised frequency -> none",
        "version 3: TRAFFIC: status suspended, valid from 2020-01-01 to open, every 31 days -> "
        "status active, valid from always to open, no promised frequency",
    ]


@pytest.mark.parametrize(
    ("terms", "state"),
    [
        ("{status: active}", "in_force"),
        ("{status: suspended}", "suspended"),
        ("{status: ended}", "ended"),
        ("{valid_to: 2026-06-30}", "expired"),
        ("{valid_from: 2026-07-01}", "not_yet_valid"),
    ],
)
def test_each_agreement_state_in_the_list_and_the_feed(
    store: Store, tmp_path: Path, mini_catalog_text: str, terms: str, state: str
) -> None:
    catalogs.load_catalog(store, with_agreement(mini_catalog_text, terms))
    [traffic] = [a for a in agreements.list_agreements(store)["agreements"] if a["department"] == "TRAFFIC"]
    assert (traffic["state"], traffic["in_force"]) == (state, state == "in_force")
    feed = by_department(store)["TRAFFIC"]
    assert (feed["agreement_state"], feed["in_force"]) == (state, state == "in_force")


# --------------------------------------------------------------------------- never the records


def test_feeds_and_submissions_never_read_the_records(
    store: Store, tmp_path: Path, mini_catalog_text: str
) -> None:
    catalogs.load_catalog(store, mini_catalog_text)
    send(store, tmp_path, "TRAFFIC", [offence(1, A, "2026-06-01"), bad_id(1)], "2026-06-30")
    seen: list[str] = []

    def keep(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", keep)
    try:
        feeds.feed_status(store)
        feeds.list_submissions(store)
        feeds.check_alerts(store)
        agreements.list_agreements(store)
    finally:
        event.remove(store.engine, "before_cursor_execute", keep)
    assert seen
    touching = [s for s in seen if re.search(r"\b(records|quarantine)\b", s)]
    assert touching == []
    with store.begin() as conn:  # what they read instead is there
        assert conn.execute(select(schema.submission_metrics.c.rows)).scalars().all() == [1]


def test_a_large_history_of_submissions_answers_at_once(sqlite_store: Store, mini_catalog_text: str) -> None:
    """20 departments' daily submissions for five years (36,500 rows): the feed status stays fast."""
    import time

    catalogs.load_catalog(sqlite_store, mini_catalog_text)
    s = schema.submissions
    start = dt.date(2021, 7, 1)
    rows = [
        {
            "department": ("TRAFFIC", "CIVIL", "BANK")[i % 3] if i % 20 < 3 else f"D{i % 20}",
            "origin": "x",
            "received_at": dt.datetime(2021, 7, 1, tzinfo=dt.UTC),
            "received_on": start + dt.timedelta(days=i // 20),
            "catalog_version": 1,
            "accepted": 1000,
            "duplicates": 0,
            "corrected": 0,
            "superseded": 0,
            "rejected": 10,
        }
        for i in range(36_500)
    ]
    keep = ("department", "received_on")
    with sqlite_store.begin() as conn:
        conn.execute(s.insert(), rows)
        conn.execute(
            schema.submission_rejects.insert(),
            [
                {"submission_id": i + 1, "reason": "invalid_field", "rows": 10, **{k: r[k] for k in keep}}
                for i, r in enumerate(rows)
            ],
        )
    began = time.perf_counter()
    _, found = feeds.feed_status(sqlite_store)
    took = time.perf_counter() - began
    assert {f.department for f in found} == {"TRAFFIC", "CIVIL", "BANK"}
    assert took < 1.0, took
