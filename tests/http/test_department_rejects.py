"""A department over HTTP: its submission's SHA-256 is the body's, its quarantine by submission and open."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from guihua.core.policy import Actor
from guihua.http.service import create_app
from guihua.store import schema
from guihua.store.database import Store
from guihua.usecases import accounts, catalogs

A, ADMIN = "320508198503120012", Actor("test-admin", "admin")


@pytest.fixture
def client(store: Store, mini_catalog_text: str) -> Iterator[tuple[TestClient, dict[str, str], Store]]:
    catalogs.load_catalog(store, mini_catalog_text)
    tokens = {
        "civil": accounts.create(store, ADMIN, "department", "civil-feed", department="CIVIL"),
        "traffic": accounts.create(store, ADMIN, "department", "traffic-feed", department="TRAFFIC"),
    }
    with TestClient(create_app(store)) as c:
        yield c, {k: f"Bearer {v}" for k, v in tokens.items()}, store


def _body(*items: tuple[str, str, object]) -> bytes:
    records = [
        {
            "source_id": sid,
            "subject_id": subj,
            "metric": "volunteer_service",
            "occurred_at": "2026-03-02",
            "fields": {"hours": hours, "organisation": "Red Cross"},
        }
        for sid, subj, hours in items
    ]
    return json.dumps({"records": records}).encode()


def test_submissions_by_body_digest_and_rejects_by_submission(client) -> None:  # type: ignore[no-untyped-def]
    c, auth, store = client
    civil = {"Authorization": auth["civil"], "Content-Type": "application/json"}
    body = _body(("n1", A, 12), ("n2", "123", 2), ("n3", A, "many"))
    first = c.post("/api/v1/records", content=body, headers=civil).json()
    digest = hashlib.sha256(body).hexdigest()
    assert (first["sha256"], first["size_bytes"], first["rejected"]) == (digest, len(body), 2)
    with store.begin() as conn:
        row = conn.execute(
            select(schema.submissions).where(schema.submissions.c.id == first["submission_id"])
        ).one()
    assert (row.sha256, row.size_bytes, row.sent_by, row.file_name) == (digest, len(body), "civil-feed", None)
    assert row.duration_ms is not None

    fix = c.post("/api/v1/records", content=_body(("n3", A, 3)), headers=civil).json()
    assert fix["accepted"] == 1
    sub = first["submission_id"]
    got = c.get(f"/api/v1/rejects?submission={sub}", headers=civil).json()
    assert sorted(r["source_id"] for r in got["rejects"]) == ["n2", "n3"]
    still = c.get(f"/api/v1/rejects?submission={sub}&open=true", headers=civil).json()
    assert [r["source_id"] for r in still["rejects"]] == ["n2"]
    assert c.get(f"/api/v1/rejects?submission={fix['submission_id']}", headers=civil).json()["count"] == 0

    other = c.get(f"/api/v1/rejects?submission={sub}", headers={"Authorization": auth["traffic"]})
    assert (other.status_code, other.json()["code"]) == (404, "not_found")
    huge = c.get(f"/api/v1/rejects?submission={2**63}", headers=civil)
    assert huge.status_code == 422
