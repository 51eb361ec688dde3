"""The portal on a temporary SQLite store: the service as ``guihua serve`` makes it, in-process.

Residents of the mini scheme: A volunteered (above base), L is on the defaulter list (case C1),
N has no record. Today is 2026-06-30 (tests/conftest.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from guihua.core.policy import Actor
from guihua.http.guards import RateLimit
from guihua.http.service import create_app
from guihua.store.database import Store, open_store
from guihua.usecases import accounts
from tests.helpers import load, loan, record, subject, submit_as_they_happen

A, L, N = subject(1), subject(2), subject(3)
ADMIN = Actor("test-admin", "admin")


@dataclass
class Portal:
    client: TestClient
    store: Store
    tokens: dict[str, str]
    keys: Path

    def csrf(self, path: str = "/login") -> str:
        """The CSRF token of the client's session, as the form at ``path`` carries it."""
        return csrf_of(self.client.get(path).text)

    def sign_in_with_token(self, who: str, next_url: str = "") -> None:
        answer = self.client.post(
            "/login/token", data={"token": self.tokens[who], "csrf_token": self.csrf(), "next": next_url}
        )
        assert answer.status_code == 303, answer.text


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


@pytest.fixture
def portal_store(tmp_path: Path, mini_catalog_text: str) -> Iterator[Store]:
    store = open_store(str(tmp_path / "guihua.db"))
    load(store, mini_catalog_text, tmp_path, "BANK", [loan(1, L, "2025-01-01", "C1", "list")])
    submit_as_they_happen(
        store,
        tmp_path,
        "CIVIL",
        [record("v1", A, "volunteer_service", "2026-03-01", hours=12, organisation="Red Cross")],
    )
    yield store
    store.dispose()


@pytest.fixture
def portal(portal_store: Store, tmp_path: Path) -> Iterator[Portal]:
    tokens = {
        "desk": accounts.create(portal_store, ADMIN, "service_desk", "desk-wu"),
        "reviewer": accounts.create(portal_store, ADMIN, "reviewer", "reviewer-li"),
        "traffic": accounts.create(portal_store, ADMIN, "department", "traffic-feed", department="TRAFFIC"),
    }
    keys = tmp_path / "keys"
    app = create_app(portal_store, key_dir=keys, rate_limit=RateLimit(rate=1000, burst=1000))
    app.state.sign_in_limit = RateLimit(rate=1000, burst=1000)  # tests of the limit set their own
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        yield Portal(client, portal_store, tokens, keys)
