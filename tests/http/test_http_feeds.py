"""Agreements, submissions and feeds over HTTP, on both stores: each agreement state, who sees what.

Each agreement state (in force, suspended, ended, expired, not yet valid) decides whether a
department's POST /records is taken (200) or refused whole (403 ``agreement_not_in_force``,
nothing stored, the refusal audited with the state), and is what GET /api/v1/feeds says.
Operators and auditors see every department's submissions and feed, a department its own;
``/api/v1/stats/feeds`` is public and suppresses small counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from guihua.core.policy import Actor
from guihua.http.service import create_app
from guihua.store.database import Store
from guihua.usecases import accounts, audit, catalogs
from tests.helpers import offence, subject, vol
from tests.usecases.test_agreements import counts, with_agreement

ADMIN = Actor("test-admin", "admin")
STATES = [
    ("{status: active, valid_from: 2026-01-01}", "in_force"),
    ("{status: suspended}", "suspended"),
    ("{status: ended, valid_to: 2026-01-01}", "ended"),
    ("{valid_from: 2025-01-01, valid_to: 2026-06-30}", "expired"),  # valid_to is exclusive
    ("{valid_from: 2026-07-01}", "not_yet_valid"),
]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(store: Store) -> Iterator[tuple[TestClient, Store]]:
    with TestClient(create_app(store)) as client:
        yield client, store


@pytest.mark.parametrize(("terms", "state"), STATES, ids=[s for _, s in STATES])
def test_each_agreement_state_over_http(
    api: tuple[TestClient, Store], mini_catalog_text: str, terms: str, state: str
) -> None:
    client, store = api
    catalogs.load_catalog(store, with_agreement(mini_catalog_text, terms))
    trf = accounts.create(store, ADMIN, "department", "trf", department="TRAFFIC")
    admin = accounts.create(store, ADMIN, "admin", "ops")
    before = counts(store)
    body = {"records": [offence(1, subject(1), "2026-06-01"), {"source_id": "", "subject_id": "x"}]}
    r = client.post("/api/v1/records", json=body, headers=bearer(trf))
    if state == "in_force":
        assert r.status_code == 200, r.text
        assert (r.json()["accepted"], r.json()["rejected"], r.json()["warnings"]) == (1, 1, [])
    else:
        assert r.status_code == 403 and r.json()["code"] == "agreement_not_in_force"
        assert state.replace("_", " ") in r.json()["detail"]
        assert counts(store) == before  # nothing of it: no submission, record or quarantined row
        [refused] = [
            e for e in audit.entries(store) if e["action"] == "records.ingest" and e["outcome"] == "refused"
        ]
        assert refused["account"] == "trf" and state.replace("_", " ") in refused["detail"]
    feeds = client.get("/api/v1/feeds", headers=bearer(admin)).json()
    [traffic] = [f for f in feeds["feeds"] if f["department"] == "TRAFFIC"]
    assert (traffic["agreement_state"], traffic["in_force"]) == (state, state == "in_force")
    assert traffic["submissions"] == (1 if state == "in_force" else 0)
    mine = client.get("/api/v1/feeds", headers=bearer(trf)).json()["feeds"]
    assert [f["department"] for f in mine] == ["TRAFFIC"]  # a department: its own row
    public = client.get("/api/v1/stats/feeds").json()
    [shown] = [f for f in public["feeds"] if f["department"] == "TRAFFIC"]
    assert (shown["agreement_state"], shown["in_force"]) == (state, state == "in_force")


def _loaded(store: Store, mini_catalog_text: str) -> dict[str, str]:
    catalogs.load_catalog(store, mini_catalog_text)
    tokens = {
        "admin": accounts.create(store, ADMIN, "admin", "ops"),
        "auditor": accounts.create(store, ADMIN, "auditor", "aud"),
        "traffic": accounts.create(store, ADMIN, "department", "trf", department="TRAFFIC"),
        "civil": accounts.create(store, ADMIN, "department", "civ", department="CIVIL"),
        "desk": accounts.create(store, ADMIN, "service_desk", "desk"),
        "resident": accounts.create(store, ADMIN, "resident", "a", subject=subject(1)),
    }
    return tokens


def test_who_sees_which_submissions_and_feeds(api: tuple[TestClient, Store], mini_catalog_text: str) -> None:
    client, store = api
    tokens = _loaded(store, mini_catalog_text)
    offences = [offence(i, subject(i), "2026-06-01") for i in range(1, 13)]
    bad = [offence(100 + i, "123", "2026-06-01") for i in range(3)]
    sent = client.post(
        "/api/v1/records", json={"records": offences + bad}, headers=bearer(tokens["traffic"])
    ).json()
    client.post(
        "/api/v1/records",
        json={"records": [vol(1, subject(1), "2026-06-01")]},
        headers=bearer(tokens["civil"]),
    )

    def get(path: str, who: str | None) -> Any:
        return client.get(path, headers=bearer(tokens[who]) if who else {})

    everyone = get("/api/v1/submissions", "auditor").json()
    assert [s["department"] for s in everyone["submissions"]] == ["CIVIL", "TRAFFIC"]
    [t] = [s for s in everyone["submissions"] if s["department"] == "TRAFFIC"]
    assert (t["id"], t["sha256"], t["sent_by"], t["rows"], t["accepted"], t["rejected"]) == (
        sent["submission_id"],
        sent["sha256"],
        "trf",
        15,
        12,
        3,
    )
    assert t["rejected_by_reason"] == {"invalid_subject_id": 3} and t["file_name"] is None
    assert t["size_bytes"] > 0 and t["catalog_version"] == 1 and t["duration_ms"] >= 0
    assert [s["department"] for s in get("/api/v1/submissions", "admin").json()["submissions"]] == [
        "CIVIL",
        "TRAFFIC",
    ]
    own = get("/api/v1/submissions", "traffic").json()
    assert [s["department"] for s in own["submissions"]] == ["TRAFFIC"]
    assert get("/api/v1/submissions?department=CIVIL", "traffic").status_code == 403
    assert get("/api/v1/submissions?department=TRAFFIC", "traffic").status_code == 200
    assert get("/api/v1/submissions?department=NOPE", "admin").status_code == 404
    for who in ("desk", "resident"):
        assert get("/api/v1/submissions", who).status_code == 403
        assert get("/api/v1/feeds", who).status_code == 403
    assert get("/api/v1/feeds", None).status_code == 401
    refusals = [e for e in audit.entries(store) if e["outcome"] == "refused"]
    assert {e["action"] for e in refusals} == {"submissions.list", "feeds.read"}

    all_feeds = get("/api/v1/feeds?at=2026-06-30", "auditor").json()
    assert all_feeds["at"] == "2026-06-30"
    assert [f["department"] for f in all_feeds["feeds"]] == ["CIVIL", "TRAFFIC", "BANK"]
    [traffic] = [f for f in all_feeds["feeds"] if f["department"] == "TRAFFIC"]
    assert {
        k: traffic[k] for k in ("submissions", "last_submission_on", "accepted", "rejected", "overdue")
    } == {
        "submissions": 1,
        "last_submission_on": "2026-06-30",
        "accepted": 12,
        "rejected": 3,
        "overdue": False,
    }
    assert traffic["failing"] is False and traffic["reject_rate"] == 0.2  # exactly 20%: not above
    assert get("/api/v1/feeds?department=TRAFFIC", "civil").status_code == 403
    assert [f["department"] for f in get("/api/v1/feeds", "civil").json()["feeds"]] == ["CIVIL"]
    assert get("/api/v1/feed-notices", "traffic").json() == {"count": 0, "notices": []}

    # public: department level, counts under 10 rows withheld, no warning text, no contact
    public = get("/api/v1/stats/feeds", None).json()
    assert public["suppressed_below"] == 10
    by = {f["department"]: f for f in public["feeds"]}
    assert (by["TRAFFIC"]["rows"], by["TRAFFIC"]["accepted"], by["TRAFFIC"]["rejected"]) == (15, 12, None)
    assert by["TRAFFIC"]["reject_rate"] is None  # its numerator is withheld
    assert by["TRAFFIC"]["top_reasons"] == [{"reason": "invalid_subject_id", "rows": None}]
    assert (by["CIVIL"]["accepted"], by["BANK"]["silent"], by["TRAFFIC"]["warnings"]) == (None, True, 0)
    assert "contact_email" not in by["TRAFFIC"] and "open_alerts" not in by["TRAFFIC"]


def test_the_submissions_outcome_carries_its_warnings(
    api: tuple[TestClient, Store], mini_catalog_text: str, tmp_path: Path
) -> None:
    client, store = api
    tokens = _loaded(store, mini_catalog_text)
    head = bearer(tokens["traffic"])
    for k in range(3):
        rows = [offence(100 * k + i, subject(i + 1), "2026-06-01") for i in range(20)]
        assert client.post("/api/v1/records", json={"records": rows}, headers=head).json()["warnings"] == []
    few = client.post(
        "/api/v1/records", json={"records": [offence(999, subject(5), "2026-06-01")]}, headers=head
    )
    [w] = few.json()["warnings"]
    assert (w["kind"], w["metric"], w["observed"], w["expected"]) == ("volume_fell", "traffic_offence", 1, 20)
    notices = client.get("/api/v1/feed-notices", headers=head).json()["notices"]
    assert [(n["kind"], n["submission_id"]) for n in notices] == [("quality", few.json()["submission_id"])]
