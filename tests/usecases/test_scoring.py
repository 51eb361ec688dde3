"""Spec sections 4-6 scenario by scenario, hand-computed, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from guihua.store.database import Store
from guihua.usecases import catalogs, notices, records, scores, submissions
from tests.helpers import D, jsonl, load, loan, offence, record, score_at, subject, vol

A = subject(1)
B = subject(2)


def test_no_records_is_base_and_not_defaulter(store: Store) -> None:
    assert score_at(store, A, "2026-01-01") == (100, False)


def test_first_matching_rule_wins_and_validity_is_exclusive(store, tmp_path, mini_catalog_text) -> None:
    load(
        store,
        mini_catalog_text,
        tmp_path,
        "CIVIL",
        [vol(1, A, "2025-03-01", hours=12), vol(2, B, "2025-03-01", hours=2)],
    )
    assert score_at(store, A, "2025-02-28") == (100, False)  # before it happened
    assert score_at(store, A, "2025-03-01") == (103, False)  # VOL-10H, not VOL-1H
    assert score_at(store, B, "2025-03-01") == (101, False)  # VOL-1H
    assert score_at(store, A, "2026-02-28") == (103, False)  # 365 days: last day
    assert score_at(store, A, "2026-03-01") == (100, False)  # end is exclusive


def test_yearly_gain_cap_per_category_and_year_of_start(store, tmp_path, mini_catalog_text) -> None:
    rows = [
        vol(1, A, "2025-03-01"),
        vol(2, A, "2025-04-01"),
        vol(3, A, "2025-05-01"),
        vol(4, A, "2026-01-15"),
    ]
    load(store, mini_catalog_text, tmp_path, "CIVIL", rows)
    assert score_at(store, A, "2025-12-31") == (105, False)  # 9 capped at 5
    assert score_at(store, A, "2026-02-01") == (108, False)  # 2025 group 5 + 2026 group 3
    e = scores.explain(store, A, D("2025-12-31"))
    assert e.score.score == 105
    assert all("gain" in i.caps_bit for i in e.items if i.active)
    assert {i.rule_legal_basis for i in e.items} == {"Volunteer regulation Art. 5"}


def test_notice_days_delay_and_loss_cap(store, tmp_path, mini_catalog_text) -> None:
    rows = [offence(1, A, "2026-01-10"), offence(2, A, "2026-02-10"), offence(3, A, "2026-03-10")]
    load(store, mini_catalog_text, tmp_path, "TRAFFIC", rows)
    assert score_at(store, A, "2026-01-16") == (100, False)  # notice: 7 days
    assert score_at(store, A, "2026-01-17") == (97, False)
    assert score_at(store, A, "2026-03-17") == (94, False)  # 9 lost, capped at 6
    assert score_at(store, A, "2027-01-16") == (94, False)
    assert score_at(store, A, "2027-01-17") == (
        94,
        False,
    )  # first expired; 6 left, still at the cap
    assert score_at(store, A, "2027-02-17") == (97, False)  # second expired
    assert score_at(store, A, "2027-03-17") == (100, False)
    items = scores.explain(store, A, D("2026-03-17")).items
    assert [i.start for i in items] == ["2026-01-17", "2026-02-17", "2026-03-17"]
    assert all(i.caps_bit == ["loss"] for i in items)


def test_no_retroactive_rule_and_conditions(store, tmp_path, mini_catalog_text) -> None:
    rows = [
        offence(1, A, "2018-12-31"),  # before TRF-YIELD took effect: no rule
        offence(2, B, "2025-01-10", kind="speeding", paid=True),  # paid: TRF-OTHER needs paid = false
        offence(3, B, "2025-02-10", kind="red_light", paid=False),  # in [...] and paid false: -2
    ]
    load(store, mini_catalog_text, tmp_path, "TRAFFIC", rows)
    assert score_at(store, A, "2019-01-05") == (100, False)
    assert scores.explain(store, A, D("2019-01-05")).items[0].status == "no_rule"
    assert score_at(store, B, "2025-02-17") == (98, False)
    assert score_at(store, B, "2025-08-15") == (98, False)  # 180 days from 2025-02-17 ...
    assert score_at(store, B, "2025-08-16") == (100, False)  # ... end on 2025-08-16, exclusive


def test_effective_to_is_exclusive(store, tmp_path, mini_catalog_text) -> None:
    text = mini_catalog_text.replace(
        'effective_from: 2018-01-01, legal_basis: "Volunteer regulation Art. 5"}\n  - {id: VOL-1H',
        'effective_from: 2018-01-01, effective_to: 2025-01-01, legal_basis: "Volunteer regulation Art. 5"}\n  - {id: VOL-1H',
    )
    assert text != mini_catalog_text
    load(store, text, tmp_path, "CIVIL", [vol(1, A, "2024-12-31"), vol(2, B, "2025-01-01")])
    assert score_at(store, A, "2025-01-02") == (103, False)
    assert score_at(store, B, "2025-01-02") == (101, False)  # falls through to VOL-1H


def test_listing_defaulter_and_repair(store, tmp_path, mini_catalog_text) -> None:
    rows = [
        loan(1, A, "2025-01-01", "C1", "list"),
        loan(2, A, "2025-06-01", "C1", "resolve"),
        loan(3, A, "2025-04-01", "C1", "resolve"),  # the earliest resolution counts
        loan(4, B, "2025-01-01", "C9", "resolve"),  # resolving what was never listed
    ]
    load(store, mini_catalog_text, tmp_path, "BANK", rows)
    assert score_at(store, A, "2024-12-31") == (100, False)
    assert score_at(store, A, "2025-01-01") == (60, True)
    assert score_at(store, A, "2025-03-31") == (60, True)
    assert score_at(store, A, "2025-04-01") == (100, False)  # paying repairs the score
    assert score_at(store, B, "2025-02-01") == (100, False)
    e = scores.explain(store, A, D("2025-02-01"))
    assert e.listings == [
        {
            "department": "BANK",
            "metric": "loan_default",
            "case_id": "C1",
            "listed_at": "2025-01-01",
            "resolved_at": "2025-04-01",
            "open": True,
        }
    ]
    listing_item = next(i for i in e.items if i.action == "list")
    assert listing_item.end == "2025-04-01" and listing_item.rule_id == "LOAN-LIST"


def test_clamped_to_scheme_range(store, tmp_path, mini_catalog_text) -> None:
    rows = [loan(i, A, "2025-01-0" + str(i), f"C{i}", "list") for i in range(1, 4)]
    load(store, mini_catalog_text, tmp_path, "BANK", rows)
    assert score_at(store, A, "2025-02-01") == (0, True)  # 100 - 120 clamps at min 0


def test_protected_metric_is_never_scored_but_subject_is_exported(store, tmp_path, mini_catalog_text) -> None:
    load(
        store,
        mini_catalog_text,
        tmp_path,
        "CIVIL",
        [record("m1", A, "marital_status", "2020-01-01", status="married")],
    )
    assert score_at(store, A, "2026-01-01") == (100, False)
    assert scores.explain(store, A, D("2026-01-01")).items[0].status == "protected"
    table = scores.all_scores(store, D("2026-01-01"))
    assert table.to_pylist() == [{"subject_id": A, "score": 100, "defaulter": False}]


def test_perks_need_score_and_clean_record(store, tmp_path, mini_catalog_text) -> None:
    rows = [loan(1, A, "2025-01-01", "C1", "list")]
    load(store, mini_catalog_text, tmp_path, "BANK", rows)
    load(store, mini_catalog_text, tmp_path, "CIVIL", [vol(1, B, "2025-03-01")])
    _, perks_a = scores.perks(store, A, D("2025-02-01"))
    _, perks_b = scores.perks(store, B, D("2025-04-01"))
    assert {p.perk: p.eligible for p in perks_a} == {
        "library_long_loan": False,
        "civilization_loan": False,
    }
    assert {p.perk: p.eligible for p in perks_b} == {
        "library_long_loan": True,
        "civilization_loan": True,
    }


def test_retraction_and_correction(store, tmp_path, mini_catalog_text) -> None:
    load(
        store,
        mini_catalog_text,
        tmp_path,
        "CIVIL",
        [vol(1, A, "2025-03-01"), vol(2, A, "2025-03-02", hours=1)],
    )
    assert score_at(store, A, "2025-04-01") == (104, False)
    records.retract(store, "CIVIL", "v1")
    assert score_at(store, A, "2025-04-01") == (101, False)
    path = jsonl(tmp_path / "fix.jsonl", [vol(2, A, "2025-03-02", hours=11)])
    result = submissions.ingest_file(store, path, "CIVIL")
    assert (result.accepted, result.corrected) == (0, 1)
    assert score_at(store, A, "2025-04-01") == (103, False)
    statuses = {i.source_id: i.status for i in scores.explain(store, A, D("2025-04-01")).items}
    assert statuses == {"v1": "retracted", "v2": "counting"}


def test_loading_a_catalog_rematches_stored_records(store, tmp_path, mini_catalog_text) -> None:
    load(store, mini_catalog_text, tmp_path, "CIVIL", [vol(1, A, "2025-03-01")])
    assert score_at(store, A, "2025-04-01") == (103, False)
    changed = mini_catalog_text.replace("points: 3,", "points: 4,")
    result = catalogs.load_catalog(store, changed)
    assert result.rematched == 1
    assert score_at(store, A, "2025-04-01") == (104, False)
    assert [v[0] for v in catalogs.catalog_versions(store)] == [1, 2]


def test_export_and_distribution(store, tmp_path, mini_catalog_text) -> None:
    load(
        store,
        mini_catalog_text,
        tmp_path,
        "CIVIL",
        [vol(1, A, "2025-03-01"), record("m", B, "marital_status", "2020-01-01", status="single")],
    )
    out = tmp_path / "scores.parquet"
    assert scores.export_scores(store, out, D("2025-04-01")) == 2
    import pyarrow.parquet as pq

    rows = pq.read_table(out).select(["subject_id", "score", "defaulter"]).to_pylist()
    assert rows == sorted(
        [
            {"subject_id": A, "score": 103, "defaulter": False},
            {"subject_id": B, "score": 100, "defaulter": False},
        ],
        key=lambda r: r["subject_id"],
    )
    d = scores.distribution(store, D("2025-04-01"))
    assert (d.subjects, d.above, d.at_base, d.below, d.defaulters) == (2, 1, 1, 0, 0)


@pytest.mark.parametrize("bad", ["12345", "11010519491231002Y", "", "'; DROP TABLE records; --"])
def test_invalid_subject_id_is_an_error(store: Store, bad: str) -> None:
    from guihua.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="invalid subject id"):
        scores.subject_score(store, bad)


# --------------------------------------------------------------------------- spec version 2: received_on


def test_a_late_penalty_starts_when_it_was_received_not_when_it_happened(
    store: Store, tmp_path: Path, mini_catalog_text: str
) -> None:
    catalogs.load_catalog(store, mini_catalog_text)
    path = jsonl(tmp_path / "late.jsonl", [offence(1, A, "2025-01-10")])
    submissions.ingest_file(store, path, "TRAFFIC", as_of=D("2025-06-01"))  # five months late
    assert score_at(store, A, "2025-03-01") == (100, False)  # not punished back to its date
    assert score_at(store, A, "2025-06-07") == (100, False)  # received + 7 notice days
    assert score_at(store, A, "2025-06-08") == (97, False)
    assert score_at(store, A, "2026-06-07") == (97, False)
    assert score_at(store, A, "2026-06-08") == (100, False)  # 365 days from its start
    (item,) = scores.explain(store, A, D("2025-06-08")).items
    assert (item.occurred_at, item.received_on, item.start, item.end) == (
        "2025-01-10",
        "2025-06-01",
        "2025-06-08",
        "2026-06-08",
    )
    (sent,) = notices.subject_notices(store, A, lang="en")  # it says the day it starts, before it counts
    assert sent["effective_on"] == "2025-06-08" and "from 2025-06-08" in sent["body"]


def test_a_late_reward_or_resolution_counts_from_its_date(
    store: Store, tmp_path: Path, mini_catalog_text: str
) -> None:
    load(store, mini_catalog_text, tmp_path, "BANK", [loan(1, A, "2025-01-01", "C1", "list")])
    submissions.ingest_file(
        store, jsonl(tmp_path / "v.jsonl", [vol(1, A, "2025-02-01")]), "CIVIL", as_of=D("2025-05-01")
    )
    late_payment = jsonl(tmp_path / "r.jsonl", [loan(2, A, "2025-03-01", "C1", "resolve")])
    submissions.ingest_file(store, late_payment, "BANK", as_of=D("2025-05-01"))
    assert score_at(store, A, "2025-02-15") == (63, True)  # the reward counts from its date
    assert score_at(store, A, "2025-03-01") == (103, False)  # the debt was paid then: repaired then


def test_a_late_listing_lists_from_its_date_but_its_penalty_starts_on_receipt(
    store: Store, tmp_path: Path, mini_catalog_text: str
) -> None:
    catalogs.load_catalog(store, mini_catalog_text)
    submissions.ingest_file(
        store,
        jsonl(tmp_path / "l.jsonl", [loan(1, A, "2025-01-01", "C1", "list")]),
        "BANK",
        as_of=D("2025-03-01"),
    )
    assert score_at(store, A, "2025-02-01") == (100, True)  # on the list since its date (spec section 4)
    assert score_at(store, A, "2025-03-01") == (60, True)


def test_perks_say_every_reason_that_applies(store: Store, tmp_path: Path, mini_catalog_text: str) -> None:
    load(store, mini_catalog_text, tmp_path, "BANK", [loan(1, A, "2025-01-01", "C1", "list")])
    _, found = scores.perks(store, A, D("2025-02-01"))
    civ = next(p for p in found if p.perk == "civilization_loan")  # min 100, clean record required
    assert not civ.eligible and civ.reasons == ["below_min_score", "on_defaulter_list"]
    assert "below the minimum 100" in civ.reason and "defaulter list" in civ.reason
    lib = next(p for p in found if p.perk == "library_long_loan")  # min 102, no clean record needed
    assert lib.reasons == ["below_min_score"]
