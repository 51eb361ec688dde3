"""Bearer tokens expire and rotate (issue 16, item 6), through the use case, the CLI and the API."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from guihua.core.errors import InvalidInput, NotFound
from guihua.core.policy import Actor
from guihua.http.service import create_app
from guihua.store import schema
from guihua.store.database import Store, open_store
from guihua.usecases import accounts, audit
from tests.helpers import run, subject

ADMIN = Actor("root", "admin")


def later(monkeypatch: pytest.MonkeyPatch, days: float) -> None:
    """The clock of the accounts' use case ``days`` from now."""
    real = accounts.now()
    monkeypatch.setattr(accounts, "now", lambda: real + dt.timedelta(days=days))


def test_a_token_stops_working_when_it_expires(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    token = accounts.create(store, ADMIN, "auditor", "ann", valid_days=1)
    assert accounts.authenticate(store, token) is not None
    later(monkeypatch, 1.01)
    assert accounts.authenticate(store, token) is None
    [ann] = accounts.list_accounts(store)
    assert ann.expired and ann.expires_at


def test_rotating_replaces_the_token_at_once_and_is_audited(store: Store) -> None:
    old = accounts.create(store, ADMIN, "auditor", "ann")
    new, expires = accounts.rotate(store, ADMIN, "ann", valid_days=30)
    assert new != old and accounts.authenticate(store, old) is None
    assert accounts.authenticate(store, new) is not None
    assert dt.datetime.fromisoformat(expires) - accounts.now() > dt.timedelta(days=29)
    [entry] = [e for e in audit.entries(store) if e["action"] == "account.rotate"]
    assert entry["detail"].startswith("ann: new token until ") and new not in json.dumps(entry)


def test_what_cannot_be_rotated_says_why(store: Store) -> None:
    accounts.create(store, ADMIN, "auditor", "ann")
    accounts.revoke(store, ADMIN, "ann")
    with pytest.raises(InvalidInput, match="revoked"):
        accounts.rotate(store, ADMIN, "ann")
    with pytest.raises(NotFound):
        accounts.rotate(store, ADMIN, "nobody")
    with pytest.raises(InvalidInput, match="1 to 730 days"):
        accounts.create(store, ADMIN, "auditor", "bob", valid_days=0)


def test_a_token_made_before_expiry_existed_works_until_rotated(sqlite_store: Store) -> None:
    token = accounts.create(sqlite_store, ADMIN, "auditor", "ann")
    with sqlite_store.begin() as conn:  # as migration 0015 leaves the accounts made before it
        conn.execute(update(schema.accounts).values(token_expires_at=None))
    assert accounts.authenticate(sqlite_store, token) is not None
    [ann] = accounts.list_accounts(sqlite_store)
    assert ann.expires_at is None and not ann.expired


def test_the_api_refuses_an_expired_token(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    token = accounts.create(sqlite_store, ADMIN, "resident", "r1", subject=subject(1), valid_days=1)
    with TestClient(create_app(sqlite_store)) as c:
        path = f"/api/v1/subjects/{subject(1)}/score"
        assert c.get(path, headers={"Authorization": f"Bearer {token}"}).status_code == 200
        later(monkeypatch, 2)
        answer = c.get(path, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401 and token not in answer.text


def test_cli_rotate(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    open_store(str(db)).dispose()
    made = run("accounts", "create", "--role", "auditor", "--name", "ann", "--json", db=db)
    old = json.loads(made.stdout)["token"]
    rotated = run("accounts", "rotate", "ann", "--valid-days", "7", "--json", db=db)
    assert rotated.returncode == 0, rotated.stderr
    new = json.loads(rotated.stdout)["token"]
    store = open_store(str(db))
    try:
        assert accounts.authenticate(store, old) is None and accounts.authenticate(store, new) is not None
    finally:
        store.dispose()
    listed = run("accounts", "list", db=db)
    assert "token until" in listed.stdout
    bad = run("accounts", "rotate", "nobody", db=db)
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1
