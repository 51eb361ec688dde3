"""The fairness audit on both stores: groups from ids and protected metrics, rates, ratios, flags, suppression."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from guihua.core.errors import Forbidden
from guihua.core.policy import Actor
from guihua.store.database import Store
from guihua.usecases import audit, fairness
from tests.conftest import TODAY
from tests.helpers import D, load, record, subject, vol

# A transaction ended twice, or left open, shows as SQLAlchemy's warning: here it fails the test.
pytestmark = pytest.mark.filterwarnings("error::sqlalchemy.exc.SAWarning")

MEN = [subject(2 * i + 1, "19900101", "320508") for i in range(40)]  # 17th digit odd
WOMEN = [subject(2 * i + 2, "19900101", "320505") for i in range(40)]
FEW = [subject(2 * i + 1, "19600101", "110105") for i in range(5)]  # 5 men of another district: small


@pytest.fixture
def population(store: Store, tmp_path: Path, mini_catalog_text: str) -> Store:
    """Men volunteer 12 hours (103: the library perk's 102), women 2 (101: not); FEW volunteer 12."""
    rows = [vol(i, s, "2026-03-01", hours=12) for i, s in enumerate(MEN + FEW)]
    rows += [vol(100 + i, s, "2026-03-01", hours=2) for i, s in enumerate(WOMEN)]
    statuses = ["married", "single"]
    rows += [
        record(f"m{i}", s, "marital_status", "2020-01-01", status=statuses[i % 2]) for i, s in enumerate(MEN)
    ]
    rows += [
        record(f"n{i}", s, "marital_status", "2024-01-01", status="widowed") for i, s in enumerate(MEN[:4])
    ]
    load(store, mini_catalog_text, tmp_path, "CIVIL", rows)
    return store


def rows_of(report: dict[str, Any], dimension: str) -> dict[str, dict[str, Any]]:
    return {r["group"]: r for r in report["rows"] if r["dimension"] == dimension}


def test_groups_rates_ratios_and_the_flag(population: Store) -> None:
    report = fairness.fairness_report(population, D(TODAY))
    assert report["subjects"] == 85 and report["dimensions"] == [
        "district",
        "sex",
        "age_band",
        "marital_status",
    ]
    sex = rows_of(report, "sex")
    assert (sex["male"]["subjects"], sex["female"]["subjects"]) == (45, 40)
    assert (sex["male"]["mean_score"], sex["female"]["mean_score"]) == (103.0, 101.0)
    library = sex["female"]["perks"]["library_long_loan"]
    assert (library["eligible"], library["rate"], library["ratio"], library["flagged"]) == (0, 0.0, 0.0, True)
    assert sex["male"]["perks"]["library_long_loan"]["reference"]
    assert sex["female"]["perks"]["civilization_loan"] == {
        **sex["female"]["perks"]["civilization_loan"],
        "rate": 1.0,
        "ratio": 1.0,
        "flagged": False,
    }
    district = rows_of(report, "district")
    assert district["110105"]["small"] and not district["320508"]["small"]
    assert not district["110105"]["perks"]["library_long_loan"]["reference"]  # 5 residents do not set the bar
    age = rows_of(report, "age_band")
    assert (age["35-44"]["subjects"], age["65-74"]["subjects"]) == (80, 5)
    marital = rows_of(report, "marital_status")
    # the latest record counts: four men (two married, two single in 2020) are widowed since 2024
    assert {g: r["subjects"] for g, r in marital.items()} == {
        "married": 18,
        "single": 18,
        "widowed": 4,
        "unknown": 45,
    }
    assert [(f["dimension"], f["group"], f["perk"]) for f in report["flags"]] == [
        ("district", "320505", "library_long_loan"),
        ("sex", "female", "library_long_loan"),
    ]  # marital status: only "unknown" has 30 residents, so it is the reference: 1.0, no flag
    assert marital["unknown"]["perks"]["library_long_loan"]["reference"]
    first = report["rows"][0]
    assert {"dimension", "group", "subjects", "mean_score", "below_base", "defaulters", "perks"} <= set(first)
    assert {"eligible", "rate", "ratio", "interval"} <= set(first["perks"]["library_long_loan"])


def test_for_publication_small_cells_and_their_complement_are_withheld(population: Store) -> None:
    report = fairness.fairness_report(population, D(TODAY), public=True)
    district = rows_of(report, "district")
    assert district["110105"] == {"dimension": "district", "group": "110105", "suppressed": True}
    assert district["320505"]["suppressed"]  # the next smallest: else 85 - 45 - 40 reveals it
    assert not district["320508"]["suppressed"]
    assert not any(f["dimension"] == "district" for f in report["flags"])


def test_the_audit_is_audited_and_for_auditors_only(population: Store) -> None:
    fairness.fairness_report(population, D(TODAY), actor=Actor("aud", "auditor"))
    entry = audit.entries(population)[0]
    assert entry["action"] == "fairness.report" and "85 residents" in entry["detail"]
    with pytest.raises(Forbidden):
        fairness.fairness_report(population, D(TODAY), actor=Actor("desk", "service_desk"))


def test_an_empty_store_has_no_groups(store: Store) -> None:
    report = fairness.fairness_report(store, D(TODAY))
    assert report["subjects"] == 0 and report["rows"] == [] and report["flags"] == []
