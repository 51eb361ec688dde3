"""The authorization matrix: every endpoint against every role, a revoked token and no token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from guihua.core.policy import Actor
from guihua.http.guards import RateLimit
from guihua.http.service import create_app
from guihua.store.database import open_store
from guihua.usecases import accounts, catalogs, submissions
from tests.conftest import DATA
from tests.helpers import jsonl, record, subject

A, B = subject(1), subject(2)
ROLES = [
    "admin",
    "department",
    "provider",
    "other_provider",
    "resident",
    "service_desk",
    "reviewer",
    "auditor",
    "revoked",
    None,
]

# (method, path, body) -> expected status per role; None is "no token"
READ_A = {"admin": 200, "resident": 200, "service_desk": 403, "reviewer": 200, "auditor": 200}
READ_A_PURPOSE = {**READ_A, "service_desk": 200}
MATRIX: list[tuple[str, str, dict[str, int]]] = [
    ("GET", "/api/v1/health", {r or "none": 200 for r in ROLES}),
    ("GET", "/api/v1/stats/distribution", {r or "none": 200 for r in ROLES}),
    ("GET", "/api/v1/catalog", {r or "none": 200 for r in ROLES}),
    ("GET", "/api/v1/audit/checkpoint", {r or "none": 200 for r in ROLES}),
    ("GET", f"/api/v1/subjects/{A}/score", READ_A),
    ("GET", f"/api/v1/subjects/{A}/score?purpose=counter", READ_A_PURPOSE),
    ("GET", f"/api/v1/subjects/{B}/score?purpose=counter", {**READ_A_PURPOSE, "resident": 403}),
    ("GET", f"/api/v1/subjects/{A}/explanation?purpose=counter", READ_A_PURPOSE),
    ("GET", f"/api/v1/subjects/{B}/explanation", {**READ_A, "resident": 403}),
    ("GET", f"/api/v1/subjects/{A}/access-log", {"resident": 200, "auditor": 200}),
    ("GET", f"/api/v1/subjects/{B}/access-log", {"auditor": 200}),
    ("GET", f"/api/v1/perks/library_long_loan/eligibility/{A}", {"provider": 200}),
    ("GET", f"/api/v1/perks/civilization_loan/eligibility/{A}", {"other_provider": 200}),
    ("GET", "/api/v1/rejects", {"department": 200}),
    ("POST", "/api/v1/records", {"department": 200}),
    ("DELETE", "/api/v1/records/v-missing", {"department": 404}),
    # due process: filing against a record that does not exist answers 404 to those allowed to file
    ("POST", f"/api/v1/subjects/{A}/objections", {"resident": 404, "service_desk": 404}),
    ("POST", f"/api/v1/subjects/{B}/objections", {"service_desk": 404}),
    ("GET", f"/api/v1/subjects/{A}/objections", READ_A),
    ("GET", f"/api/v1/subjects/{B}/objections?purpose=counter", {**READ_A_PURPOSE, "resident": 403}),
    ("GET", "/api/v1/objections", {"reviewer": 200, "auditor": 200, "admin": 200, "department": 200}),
    ("POST", "/api/v1/objections/999/decision", {"reviewer": 404}),
    ("GET", f"/api/v1/subjects/{A}/notices", READ_A),
    ("GET", f"/api/v1/subjects/{A}/report?format=html", READ_A),
    ("GET", f"/api/v1/subjects/{B}/report?purpose=counter", {**READ_A_PURPOSE, "resident": 403}),
    ("GET", "/api/v1/certificates/ABCD-EFGH-JKMN", {r or "none": 404 for r in ROLES}),  # public: unknown code
    ("GET", "/api/v1/defaulters", {"admin": 200, "reviewer": 200, "auditor": 200, "service_desk": 200}),
    # feeds: operators and auditors see all, a department its own (asking for another is refused)
    ("GET", "/api/v1/stats/feeds", {r or "none": 200 for r in ROLES}),
    ("GET", "/api/v1/submissions", {"admin": 200, "auditor": 200, "department": 200}),
    ("GET", "/api/v1/submissions?department=TRAFFIC", {"admin": 200, "auditor": 200}),
    ("GET", "/api/v1/feeds", {"admin": 200, "auditor": 200, "department": 200}),
    ("GET", "/api/v1/feeds?department=CIVIL", {"admin": 200, "auditor": 200, "department": 200}),
    ("GET", "/api/v1/feed-notices", {"admin": 200, "auditor": 200, "department": 200}),
]

BODIES = {
    "/records": {"records": [record("m1", A, "volunteer_service", "2026-03-03", hours=1, organisation="x")]},
    "/objections": {"department": "CIVIL", "source_id": "missing", "reason": "not mine"},
    "/decision": {"decision": "uphold", "reason": "checked"},
}


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    folder = Path(tmp_path_factory.mktemp("matrix"))
    store = open_store(str(folder / "m.db"))
    catalogs.load_catalog(store, (DATA / "mini.yaml").read_text())
    rows = [
        record(f"v{i}", s, "volunteer_service", "2026-03-01", hours=12, organisation="x")
        for i, s in enumerate([A, B])
    ]
    submissions.ingest_file(store, jsonl(folder / "v.jsonl", rows), "CIVIL")
    admin = Actor("matrix", "admin")
    tokens = {
        "admin": accounts.create(store, admin, "admin", "admin"),
        "department": accounts.create(store, admin, "department", "civil", department="CIVIL"),
        "provider": accounts.create(store, admin, "provider", "lib", provider="SZLIB"),
        "other_provider": accounts.create(store, admin, "provider", "bank", provider="SZBANK"),
        "resident": accounts.create(store, admin, "resident", "a", subject=A),
        "service_desk": accounts.create(store, admin, "service_desk", "desk"),
        "reviewer": accounts.create(store, admin, "reviewer", "rev"),
        "auditor": accounts.create(store, admin, "auditor", "aud"),
        "revoked": accounts.create(store, admin, "auditor", "old"),
    }
    accounts.revoke(store, admin, "old")
    # the matrix is about who may, not how often: a limit of its own that it never reaches
    # (rate limits: tests/http/test_guards.py)
    with TestClient(create_app(store, rate_limit=RateLimit(rate=1e6, burst=100_000))) as client:
        yield client, tokens
    store.dispose()


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "no_token")
@pytest.mark.parametrize(
    "method,path,allowed", MATRIX, ids=[f"{m} {p.split('/api/v1/')[1][:40]}" for m, p, _ in MATRIX]
)
def test_matrix(setup, method: str, path: str, allowed: dict[str, int], role: str | None) -> None:
    client, tokens = setup
    headers = {"Authorization": f"Bearer {tokens[role]}"} if role else {}
    body = next((b for suffix, b in BODIES.items() if path.endswith(suffix)), None)
    response = client.request(method, path, headers=headers, json=body if method == "POST" else None)
    public = {
        "/api/v1/health": 200,
        "/api/v1/stats/distribution": 200,
        "/api/v1/stats/feeds": 200,
        "/api/v1/catalog": 200,
        "/api/v1/audit/checkpoint": 200,
        "/api/v1/certificates/ABCD-EFGH-JKMN": 404,
    }
    if path in public:
        expected = public[path]
    elif role is None or role == "revoked":
        expected = 401
    else:
        expected = allowed.get(role, 403)
    assert response.status_code == expected, (role, path, response.text)
