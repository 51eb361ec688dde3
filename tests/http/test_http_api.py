"""The HTTP service (issue 3, first part): roles, refusals audited, problem documents, suppression."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from guihua.core.policy import Actor
from guihua.http.logs import MaskSubjectIds
from guihua.http.service import create_app
from guihua.store.database import Store
from guihua.usecases import accounts, audit, catalogs, submissions
from tests.helpers import jsonl, record, subject

A, B = subject(1), subject(2)
ADMIN = Actor("test-admin", "admin")


@pytest.fixture
def client(
    store: Store, tmp_path: Path, mini_catalog_text: str
) -> Iterator[tuple[TestClient, dict[str, str], Store]]:
    catalogs.load_catalog(store, mini_catalog_text)
    rows = [
        record(f"v{i}", s, "volunteer_service", "2026-03-01", hours=12, organisation="x")
        for i, s in enumerate([A, B])
    ]
    submissions.ingest_file(store, jsonl(tmp_path / "v.jsonl", rows), "CIVIL")
    tokens = {
        "resident_a": accounts.create(store, ADMIN, "resident", "a", subject=A),
        "desk": accounts.create(store, ADMIN, "service_desk", "desk"),
        "auditor": accounts.create(store, ADMIN, "auditor", "aud"),
        "library": accounts.create(store, ADMIN, "provider", "lib", provider="SZLIB"),
        "bank": accounts.create(store, ADMIN, "provider", "bank", provider="SZBANK"),
        "civil": accounts.create(store, ADMIN, "department", "civil", department="CIVIL"),
        "revoked": accounts.create(store, ADMIN, "auditor", "gone"),
    }
    accounts.revoke(store, ADMIN, "gone")
    with TestClient(create_app(store)) as c:
        yield c, tokens, store


def get(c: TestClient, path: str, token: str | None = None) -> object:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return c.get(path, headers=headers)


def test_public_endpoints(client) -> None:
    c, _, _ = client
    assert c.get("/api/v1/health").json()["status"] == "ok"
    d = c.get("/api/v1/stats/distribution?at=2026-04-01").json()
    assert d["subjects"] is None and d["above"] is None  # 2 residents: under 10, suppressed
    assert c.get("/openapi.json").json()["info"]["title"] == "Guihua"
    published = c.get("/api/v1/catalog").json()
    formats = {f["code"]: f for f in published["record_formats"]}
    assert formats["volunteer_service"]["departments"] == ["CIVIL"]
    assert published["rules"][0]["legal_basis"]


@pytest.mark.parametrize(
    "who,path,status",
    [
        (None, f"/api/v1/subjects/{A}/score", 401),
        ("revoked", f"/api/v1/subjects/{A}/score", 401),
        ("forged", f"/api/v1/subjects/{A}/score", 401),
        ("resident_a", f"/api/v1/subjects/{A}/score?at=2026-04-01", 200),
        ("resident_a", f"/api/v1/subjects/{B}/score", 403),
        ("desk", f"/api/v1/subjects/{A}/score", 403),
        ("desk", f"/api/v1/subjects/{A}/score?purpose=counter%20enquiry", 200),
        ("civil", f"/api/v1/subjects/{A}/score", 403),
        ("library", f"/api/v1/subjects/{A}/explanation", 403),
        ("auditor", f"/api/v1/subjects/{A}/explanation", 200),
        ("resident_a", f"/api/v1/subjects/{A}/access-log", 200),
        ("resident_a", f"/api/v1/subjects/{B}/access-log", 403),
        ("desk", f"/api/v1/subjects/{A}/access-log", 403),
        ("auditor", f"/api/v1/subjects/{B}/access-log", 200),
        ("library", f"/api/v1/perks/library_long_loan/eligibility/{A}", 200),
        ("bank", f"/api/v1/perks/library_long_loan/eligibility/{A}", 403),
        ("resident_a", f"/api/v1/perks/library_long_loan/eligibility/{A}", 403),
        ("library", f"/api/v1/perks/nope/eligibility/{A}", 404),
        ("auditor", "/api/v1/subjects/123/score", 422),
    ],
)
def test_authorization(client, who: str | None, path: str, status: int) -> None:
    c, tokens, _ = client
    token = {"forged": "gh_" + "x" * 43}.get(who or "", tokens.get(who or "")) if who else None
    r = get(c, path, token)
    assert r.status_code == status, r.text
    if status >= 400:
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["status"] == status and r.json()["code"]


def test_answers_and_audit(client) -> None:
    c, tokens, store = client
    s = get(c, f"/api/v1/subjects/{A}/score?at=2026-04-01", tokens["resident_a"]).json()
    assert s == {"subject_id": A, "at": "2026-04-01", "score": 103, "defaulter": False}
    e = get(c, f"/api/v1/perks/library_long_loan/eligibility/{A}?at=2026-04-01", tokens["library"]).json()
    assert e == {
        "perk": "library_long_loan",
        "subject_id": A,
        "at": "2026-04-01",
        "eligible": True,
    }  # no score
    get(c, f"/api/v1/subjects/{B}/score", tokens["resident_a"])  # refused and audited
    get(c, f"/api/v1/subjects/{A}/score?purpose=phone%20call", tokens["desk"])
    log = get(c, f"/api/v1/subjects/{A}/access-log", tokens["resident_a"]).json()["entries"]
    assert {(x["account"], x["purpose"]) for x in log} >= {
        ("desk", "phone call"),
        ("lib", "perk library_long_loan"),
    }
    refused = [x for x in audit.entries(store, B) if x["outcome"] == "refused"]
    assert refused and refused[0]["account"] == "a"
    assert audit.verify(store).intact


def test_resident_ids_are_masked_in_logs() -> None:
    record_ = logging.LogRecord(
        "uvicorn.access", 20, "", 0, '%s "%s %s"', ("127.0.0.1", "GET", f"/api/v1/subjects/{A}/score"), None
    )
    MaskSubjectIds().filter(record_)
    line = record_.getMessage()
    assert A not in line and f"{A[:6]}**********{A[-2:]}" in line


def _records(*items: tuple[str, str, float]) -> dict[str, object]:
    return {
        "records": [
            {
                "source_id": sid,
                "subject_id": subj,
                "metric": "volunteer_service",
                "occurred_at": "2026-03-02",
                "fields": {"hours": hours, "organisation": "Red Cross"},
            }
            for sid, subj, hours in items
        ]
    }


def test_departments_submit_retract_and_see_their_quarantine(client) -> None:
    c, tokens, _ = client
    auth = {"Authorization": f"Bearer {tokens['civil']}"}
    body = _records(("n1", A, 12), ("n2", "123", 2), ("n3", B, 1))
    body["records"].append(42)  # not an object: rejected, not a crash
    r = c.post("/api/v1/records", json=body, headers=auth)
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["accepted"], out["rejected"], out["department"]) == (2, 2, "CIVIL")
    assert [(o["index"], o["outcome"], o.get("reason")) for o in out["outcomes"]] == [
        (0, "accepted", None),
        (1, "rejected", "invalid_subject_id"),
        (2, "accepted", None),
        (3, "rejected", "unreadable"),
    ]
    again = c.post("/api/v1/records", json=_records(("n1", A, 12), ("n3", B, 5)), headers=auth).json()
    assert [o["outcome"] for o in again["outcomes"]] == ["duplicate", "corrected"]
    rejects = c.get("/api/v1/rejects", headers=auth).json()
    assert rejects["department"] == "CIVIL" and {x["reason"] for x in rejects["rejects"]} == {
        "invalid_subject_id",
        "unreadable",
    }
    assert c.delete("/api/v1/records/n1", headers=auth).status_code == 200
    again_retracted = c.delete("/api/v1/records/n1", headers=auth)  # a state conflict, as elsewhere
    assert (again_retracted.status_code, again_retracted.json()["code"]) == (409, "conflict")
    assert c.delete("/api/v1/records/nope", headers=auth).status_code == 404


@pytest.mark.parametrize("who", ["resident_a", "desk", "auditor", "library"])
def test_only_departments_write_records(client, who: str) -> None:
    c, tokens, _ = client
    auth = {"Authorization": f"Bearer {tokens[who]}"}
    assert c.post("/api/v1/records", json=_records(("x", A, 1)), headers=auth).status_code == 403
    assert c.delete("/api/v1/records/v0", headers=auth).status_code == 403
    assert c.get("/api/v1/rejects", headers=auth).status_code == 403


def test_oversized_bodies_are_refused_unread(store: Store, mini_catalog_text: str) -> None:
    catalogs.load_catalog(store, mini_catalog_text)
    token = accounts.create(store, ADMIN, "department", "civil", department="CIVIL")
    with TestClient(create_app(store, max_body_bytes=2_000)) as c:
        r = c.post(
            "/api/v1/records",
            json=_records(*[(f"s{i}", A, 1) for i in range(50)]),
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 413 and r.json()["code"] == "body_too_large"
    with TestClient(create_app(store)) as c:
        many = {"records": [{}] * 10_001}
        assert (
            c.post("/api/v1/records", json=many, headers={"Authorization": f"Bearer {token}"}).status_code
            == 422
        )


def test_an_oversized_body_sent_without_a_length_is_refused_too(store: Store, mini_catalog_text: str) -> None:
    """Chunked transfer (no Content-Length): the bytes are counted as they come, and 413 at the limit."""
    catalogs.load_catalog(store, mini_catalog_text)
    token = accounts.create(store, ADMIN, "department", "civil", department="CIVIL")
    body = json.dumps(_records(*[(f"s{i}", A, 1) for i in range(200)])).encode()

    def pieces():  # a generator body: httpx sends it chunked, with no Content-Length
        for i in range(0, len(body), 1000):
            yield body[i : i + 1000]

    with TestClient(create_app(store, max_body_bytes=5_000)) as c:
        r = c.post(
            "/api/v1/records",
            content=pieces(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"
    with store.begin() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM records").scalar_one() == 0
