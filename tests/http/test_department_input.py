"""Issue 11's findings through the API, on SQLite and PostgreSQL.

One bad row of a body never costs the good ones (a NUL or a 250-character
source id was a 500 on PostgreSQL and lost the batch), a body with a key twice
sent twice changes nothing, a long value does not break the PDF report, and an
out-of-range objection number is a 422, not an overflow.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from guihua.core.policy import Actor
from guihua.http.service import create_app
from guihua.store.database import Store
from guihua.usecases import accounts, catalogs
from tests.helpers import subject

A = subject(1)


def volunteer(source_id: str, organisation: str = "x", hours: float = 2) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "subject_id": A,
        "metric": "volunteer_service",
        "occurred_at": "2025-03-01",
        "fields": {"hours": hours, "organisation": organisation},
    }


@pytest.fixture
def api(
    store: Store, mini_catalog_text: str
) -> Iterator[tuple[TestClient, dict[str, dict[str, str]], Store]]:
    catalogs.load_catalog(store, mini_catalog_text)
    admin = Actor("admin", "admin")
    tokens = {
        "civil": accounts.create(store, admin, "department", "civ", department="CIVIL"),
        "auditor": accounts.create(store, admin, "auditor", "aud"),
        "reviewer": accounts.create(store, admin, "reviewer", "rev"),
    }
    with TestClient(create_app(store)) as c:
        yield c, {k: {"Authorization": f"Bearer {v}"} for k, v in tokens.items()}, store


def count(store: Store, table: str) -> int:
    with store.begin() as conn:
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())


def test_one_bad_row_never_costs_the_good_ones(api) -> None:
    c, auth, store = api
    body = {
        "records": [volunteer("ok-1"), volunteer("n" * 250), volunteer("nul", "a\x00b"), volunteer("ok-2")]
    }
    r = c.post("/api/v1/records", json=body, headers=auth["civil"])
    assert r.status_code == 200, r.text
    got = [(o["index"], o["outcome"], o.get("reason")) for o in r.json()["outcomes"]]
    assert got == [
        (0, "accepted", None),
        (1, "rejected", "unreadable"),
        (2, "rejected", "unreadable"),
        (3, "accepted", None),
    ]
    assert count(store, "records") == 2 and count(store, "quarantine") == 2


def test_a_body_with_a_key_twice_sent_twice_changes_nothing(api) -> None:
    c, auth, store = api
    body = {"records": [volunteer("K-1", hours=12), volunteer("K-1", hours=2)]}
    first = c.post("/api/v1/records", json=body, headers=auth["civil"]).json()
    assert [o["outcome"] for o in first["outcomes"]] == ["superseded", "accepted"]
    before = (count(store, "records"), count(store, "notices"), count(store, "quarantine"))
    for _ in range(2):
        again = c.post("/api/v1/records", json=body, headers=auth["civil"]).json()
        assert [o["outcome"] for o in again["outcomes"]] == ["superseded", "duplicate"]
    assert (count(store, "records"), count(store, "notices"), count(store, "quarantine")) == before


def test_the_pdf_report_of_long_values_is_served(api) -> None:
    c, auth, _ = api
    body = {"records": [volunteer("L1", "x" * 3000), volunteer("L2", "桂" * 3999)]}
    assert c.post("/api/v1/records", json=body, headers=auth["civil"]).status_code == 200
    r = c.get(f"/api/v1/subjects/{A}/report?format=pdf", headers=auth["auditor"])
    assert r.status_code == 200 and r.content.startswith(b"%PDF")


@pytest.mark.parametrize("number", ["9223372036854775808", "0", "-1", "1e3"])
def test_an_objection_number_out_of_range_is_a_422(api, number: str) -> None:
    c, auth, _ = api
    r = c.post(
        f"/api/v1/objections/{number}/decision",
        json={"decision": "uphold", "reason": "r"},
        headers=auth["reviewer"],
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_input"


def test_nul_in_a_query_is_a_400_and_a_long_purpose_a_422(api) -> None:
    c, auth, _ = api
    r = c.get(f"/api/v1/subjects/{A}/score?purpose=a%00b", headers=auth["auditor"])
    assert r.status_code == 400 and "NUL" in r.json()["detail"]
    r = c.get(f"/api/v1/subjects/{A}/score?purpose=" + "p" * 501, headers=auth["auditor"])
    assert r.status_code == 422
    r = c.get(f"/api/v1/subjects/%20{A}/score", headers=auth["auditor"])  # a blank before the id
    assert r.status_code == 422


def test_405_says_which_methods_are_allowed(api) -> None:
    c, _, _ = api
    r = c.put("/api/v1/health")
    assert r.status_code == 405 and "GET" in r.headers["allow"]
