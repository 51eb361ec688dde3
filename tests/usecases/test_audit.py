"""Accounts and the hash-chained audit trail (groundwork for the HTTP service, issue 3)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from guihua.core.errors import InvalidInput, NotFound
from guihua.core.policy import Actor
from guihua.store.database import Store
from guihua.usecases import accounts, audit, catalogs, records, scores, submissions
from tests.helpers import jsonl, record, subject

ADMIN = Actor("test-admin", "admin")
A = subject(1)


def test_tokens_are_shown_once_and_stored_as_hashes(store: Store, mini_catalog_text: str) -> None:
    catalogs.load_catalog(store, mini_catalog_text)
    token = accounts.create(store, ADMIN, "department", "civil-feed", department="CIVIL")
    assert token.startswith("gh_") and len(token) > 40
    with store.begin() as conn:
        stored = [tuple(r) for r in conn.exec_driver_sql("SELECT * FROM accounts")]
    assert not any(token in str(row) for row in stored)
    me = accounts.authenticate(store, token)
    assert me is not None and (me.role, me.department) == ("department", "CIVIL")
    assert accounts.authenticate(store, token + "x") is None  # forged
    accounts.revoke(store, ADMIN, "civil-feed")
    assert accounts.authenticate(store, token) is None  # revoked
    assert [a.revoked for a in accounts.list_accounts(store)] == [True]


@pytest.mark.parametrize(
    "role,kwargs,error",
    [
        ("overlord", {}, "unknown role"),
        ("department", {}, "must be bound"),
        ("resident", {"subject": "123"}, "invalid subject id"),
        ("auditor", {"department": "CIVIL"}, "not bound to a department"),
        ("department", {"department": "NOPE"}, "unknown department"),
        ("provider", {"provider": "NOPE"}, "unknown perk provider"),
    ],
)
def test_bindings_are_checked(
    sqlite_store: Store, mini_catalog_text: str, role: str, kwargs: dict, error: str
) -> None:
    catalogs.load_catalog(sqlite_store, mini_catalog_text)
    with pytest.raises((InvalidInput, NotFound), match=error):
        accounts.create(sqlite_store, ADMIN, role, "x", **kwargs)


def test_reads_and_writes_are_audited_and_the_chain_verifies(
    store: Store, tmp_path: Path, mini_catalog_text: str
) -> None:
    catalogs.load_catalog(store, mini_catalog_text)
    path = jsonl(
        tmp_path / "v.jsonl", [record("v1", A, "volunteer_service", "2025-03-01", hours=12, organisation="x")]
    )
    submissions.ingest_file(store, path, "CIVIL")
    desk = Actor("desk-1", "service_desk")
    scores.subject_score(store, A, dt.date(2025, 4, 1), actor=desk, purpose="counter enquiry")
    scores.explain(store, A, dt.date(2025, 4, 1))
    records.retract(store, "CIVIL", "v1")
    actions = [e["action"] for e in reversed(audit.entries(store))]
    assert actions == [
        "catalog.load",
        "records.ingest",
        "subject.score",
        "subject.explain",
        "records.retract",
    ]
    mine = audit.entries(store, subject_id=A)
    assert {(e["account"], e["purpose"]) for e in mine} >= {("desk-1", "counter enquiry")}
    result = audit.verify(store)
    assert result.intact and result.entries == 5


@pytest.mark.parametrize(
    "tamper,broken",
    [
        ("UPDATE audit_log SET purpose = 'nothing to see' WHERE seq = 3", 3),
        ("DELETE FROM audit_log WHERE seq = 2", 2),
        ("UPDATE audit_log SET account = 'someone-else' WHERE seq = 4", 4),
    ],
)
def test_tampering_is_detected(store: Store, tamper: str, broken: int) -> None:
    with store.begin() as conn:
        for i in range(5):
            audit.append(conn, ADMIN, "test.write", subject_id=A, purpose=f"step {i}")
    assert audit.verify(store).intact
    with store.begin() as conn:
        conn.exec_driver_sql(tamper)
    result = audit.verify(store)
    assert result.broken_at == broken, result


def test_reordering_is_detected(store: Store) -> None:
    with store.begin() as conn:
        for i in range(4):
            audit.append(conn, ADMIN, f"step.{i}")
        # swap the contents of entries 2 and 3, hashes included, keeping their sequence numbers
        conn.exec_driver_sql("UPDATE audit_log SET seq = -2 WHERE seq = 2")
        conn.exec_driver_sql("UPDATE audit_log SET seq = 2 WHERE seq = 3")
        conn.exec_driver_sql("UPDATE audit_log SET seq = 3 WHERE seq = -2")
    result = audit.verify(store)
    assert result.broken_at == 2 and "does not follow" in result.reason


def test_masking() -> None:
    assert audit.mask("32050819850312123X") == "320508**********3X"
    assert audit.mask(None) is None


def test_concurrent_appends_keep_one_chain(store: Store) -> None:
    """Many threads reading and auditing at once: no duplicate entry, the chain verifies."""
    from concurrent.futures import ThreadPoolExecutor

    def work(i: int) -> None:
        with store.begin() as conn:
            conn.exec_driver_sql("SELECT count(*) FROM records").scalar()
            audit.append(conn, Actor(f"t{i}", "auditor"), "subject.score", subject_id=A)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(work, range(80)))
    result = audit.verify(store)
    assert result.intact and result.entries == 80
