"""Due process over HTTP (issue 4): a resident objects, the department sees it, a reviewer decides.

The same use cases as the command line; these tests check what each role sees and may do,
and that the score and the notices follow the decision (SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from guihua.core.policy import Actor
from guihua.http.service import create_app
from guihua.store.database import Store
from guihua.usecases import accounts, catalogs
from tests.conftest import TODAY
from tests.helpers import record, subject, submit_as_they_happen

A, B = subject(1), subject(2)
ADMIN = Actor("test-admin", "admin")


@pytest.fixture
def api(
    store: Store, tmp_path: Path, mini_catalog_text: str
) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    catalogs.load_catalog(store, mini_catalog_text)
    fields = {"offence": "fail_to_yield", "fine": 200, "paid": True, "when_paid": "2026-05-02"}
    offences = [
        record(sid, who, "traffic_offence", "2026-05-01", **fields) for sid, who in (("t1", A), ("t2", B))
    ]
    submit_as_they_happen(store, tmp_path, "TRAFFIC", offences)
    loans = [record("l1", A, "loan_default", "2026-01-10", case_id="C-1", action="list", amount=5000)]
    submit_as_they_happen(store, tmp_path, "BANK", loans)
    made = {
        "resident_a": accounts.create(store, ADMIN, "resident", "a", subject=A),
        "resident_b": accounts.create(store, ADMIN, "resident", "b", subject=B),
        "desk": accounts.create(store, ADMIN, "service_desk", "desk"),
        "reviewer": accounts.create(store, ADMIN, "reviewer", "rev"),
        "traffic": accounts.create(store, ADMIN, "department", "trf", department="TRAFFIC"),
        "bank": accounts.create(store, ADMIN, "department", "bnk", department="BANK"),
    }
    with TestClient(create_app(store)) as c:
        yield c, {k: {"Authorization": f"Bearer {v}"} for k, v in made.items()}


def _score(c: TestClient, auth: dict[str, str], at: str = TODAY) -> int:
    r = c.get(f"/api/v1/subjects/{A}/score", params={"at": at}, headers=auth)
    assert r.status_code == 200, r.text
    return int(r.json()["score"])


def test_object_see_decide_revoke(api) -> None:
    c, auth = api
    before = _score(c, auth["resident_a"])
    assert before == 100 - 3 - 40
    filed = c.post(
        f"/api/v1/subjects/{A}/objections",
        json={"department": "TRAFFIC", "source_id": "t1", "reason": "I stopped for the pedestrian"},
        headers=auth["resident_a"],
    )
    assert filed.status_code == 201, filed.text
    objection = filed.json()
    assert (objection["state"], objection["filed_on"], objection["suspends_on"]) == (
        "open",
        TODAY,
        "2026-07-30",
    )
    assert _score(c, auth["resident_a"]) == before  # disputed: it still counts

    # The department that sent the record sees the objection; another department does not.
    seen = c.get("/api/v1/objections", headers=auth["traffic"]).json()
    assert [o["id"] for o in seen["objections"]] == [objection["id"]]
    assert c.get("/api/v1/objections", headers=auth["bank"]).json()["objections"] == []
    # A resident may not object for someone else, nor list others' objections.
    other = {"department": "TRAFFIC", "source_id": "t2", "reason": "not mine"}
    assert (
        c.post(f"/api/v1/subjects/{B}/objections", json=other, headers=auth["resident_a"]).status_code == 403
    )
    assert c.get(f"/api/v1/subjects/{B}/objections", headers=auth["resident_a"]).status_code == 403
    # A resident cannot object to another resident's record by naming it under its own id.
    stolen = c.post(f"/api/v1/subjects/{A}/objections", json=other, headers=auth["resident_a"])
    assert stolen.status_code == 404

    decision = {"decision": "revoke", "reason": "camera shows the car stopped"}
    path = f"/api/v1/objections/{objection['id']}/decision"
    assert c.post(path, json=decision, headers=auth["traffic"]).status_code == 403  # only reviewers decide
    decided = c.post(path, json=decision, headers=auth["reviewer"])
    assert decided.status_code == 200, decided.text
    assert (decided.json()["state"], decided.json()["decided_by"]) == ("revoked", "rev")
    assert c.post(path, json=decision, headers=auth["reviewer"]).status_code == 409  # decided once
    assert _score(c, auth["resident_a"]) == before + 3
    assert _score(c, auth["resident_a"], at="2026-06-29") == before  # never retroactive

    notices = c.get(f"/api/v1/subjects/{A}/notices", headers=auth["resident_a"]).json()["notices"]
    kinds = sorted(n["kind"] for n in notices)
    assert kinds == ["decision", "listing", "penalty"]
    penalty = next(n for n in notices if n["kind"] == "penalty")
    # in the resident's language (zh-CN: it gave none), the rule in words and its legal basis, no code
    assert "Road Traffic Safety Law Art. 47" in penalty["body"] and "法律依据" in penalty["body"]
    assert "TRF-YIELD" not in penalty["body"] and "/api/" not in penalty["body"]
    english = c.get(f"/api/v1/subjects/{A}/notices?lang=en", headers=auth["resident_a"]).json()["notices"]
    assert "Under the rule “Traffic offence”" in next(n for n in english if n["kind"] == "penalty")["body"]
    assert c.get(f"/api/v1/subjects/{A}/notices?lang=fr", headers=auth["resident_a"]).status_code == 422
    assert "2026-05-08" in penalty["title"]  # from the day after the 7 notice days


def test_decision_bodies_are_checked(api) -> None:
    c, auth = api
    filed = c.post(
        f"/api/v1/subjects/{A}/objections",
        json={"department": "BANK", "source_id": "l1", "reason": "paid in full"},
        headers=auth["desk"],
    ).json()
    path = f"/api/v1/objections/{filed['id']}/decision"
    for body in (
        {"decision": "forget", "reason": "x"},
        {"decision": "revoke", "reason": ""},
        {"decision": "uphold", "reason": "ok", "fields": {"amount": 1}},
        {"decision": "correct", "reason": "amount", "fields": {"amount": "lots"}},
    ):
        r = c.post(path, json=body, headers=auth["reviewer"])
        assert r.status_code in (400, 422), (body, r.text)
        assert r.json()["detail"]
    corrected = c.post(
        path,
        json={"decision": "correct", "reason": "amount was 500", "fields": {"amount": 500}},
        headers=auth["reviewer"],
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["state"] == "corrected"
    listed = c.get("/api/v1/defaulters", headers=auth["desk"]).json()
    assert [(x["subject_id"], x["case_id"]) for x in listed["listings"]] == [
        (A, "C-1")
    ]  # corrected, still listed
