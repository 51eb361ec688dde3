"""Sign-in through an OIDC provider (authlib), against a small provider the test starts itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from guihua.http.guards import RateLimit
from guihua.http.service import create_app
from guihua.store.database import Store
from guihua.usecases import accounts, audit
from tests.web.conftest import ADMIN, A
from tests.web.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, running_provider


@pytest.fixture
def provider() -> Iterator[Provider]:
    with running_provider() as p:
        yield p


@pytest.fixture
def client(
    provider: Provider, portal_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    monkeypatch.setenv("GUIHUA_OIDC_ISSUER", provider.issuer)
    monkeypatch.setenv("GUIHUA_OIDC_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("GUIHUA_OIDC_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("GUIHUA_OIDC_LABEL", "Suzhou citizen app")
    accounts.create(portal_store, ADMIN, "reviewer", "reviewer-li")
    app = create_app(portal_store, key_dir=tmp_path / "keys", rate_limit=RateLimit(rate=1000, burst=1000))
    with TestClient(app, follow_redirects=False) as c:
        yield c


def through_provider(client: TestClient, next_url: str = "") -> httpx.Response:
    """Start at the portal, let the provider approve, come back to the callback."""
    start = client.get("/login/oidc", params={"next": next_url} if next_url else None)
    assert start.status_code == 302, start.text
    assert start.headers["location"].startswith(f"{client.app.state.oidc.issuer}/authorize?")  # type: ignore[attr-defined]
    approved = httpx.get(start.headers["location"], follow_redirects=False)
    assert approved.status_code == 302, approved.text
    return client.get(approved.headers["location"])


def test_a_resident_signs_in_through_the_provider(
    client: TestClient, provider: Provider, portal_store: Store
) -> None:
    page = client.get("/login?lang=en").text
    assert "Continue with Suzhou citizen app" in page and 'href="/login/oidc"' in page
    provider.claims = {"sub": "citizen-1", "national_id": A}
    done = through_provider(client, next_url="/stats")
    assert (done.status_code, done.headers["location"]) == (303, "/stats")
    me = client.get("/login/whoami?lang=en")
    assert me.status_code == 200 and "resident" in me.text and "oidc" in me.text
    [entry] = [e for e in audit.entries(portal_store, A) if e["action"] == "sign_in"]
    assert entry["outcome"] == "ok" and provider.issuer in entry["detail"]


def test_staff_sign_in_through_the_provider(client: TestClient, provider: Provider) -> None:
    provider.claims = {"sub": "staff-9", "preferred_username": "reviewer-li"}
    done = through_provider(client)
    assert (done.status_code, done.headers["location"]) == (303, "/review")
    assert "reviewer-li" in client.get("/login/whoami").text


def test_someone_the_portal_does_not_know_is_refused(client: TestClient, provider: Provider) -> None:
    provider.claims = {"sub": "x", "preferred_username": "nobody", "national_id": "not-an-id"}
    done = through_provider(client)
    assert done.status_code == 403 and "无法识别此次登录" in done.text  # the page, in the default language
    assert client.get("/login/whoami").status_code == 303  # not signed in


def test_a_token_signed_with_another_key_is_refused(client: TestClient, provider: Provider) -> None:
    provider.claims = {"sub": "citizen-1", "national_id": A}
    provider.sign_with_unpublished_key = True
    done = through_provider(client)
    assert done.status_code == 400
    assert client.get("/login/whoami").status_code == 303


def test_a_callback_started_in_another_browser_is_refused(client: TestClient, provider: Provider) -> None:
    provider.claims = {"sub": "citizen-1", "national_id": A}
    start = client.get("/login/oidc")
    approved = httpx.get(start.headers["location"], follow_redirects=False)
    client.cookies.clear()  # the session that started the sign-in (its state and nonce) is not this one
    done = client.get(approved.headers["location"] + "&lang=en", headers={"accept": "text/html"})
    assert done.status_code == 400 and "Signing in did not work" in done.text
    assert client.get("/login/whoami").status_code == 303


def test_without_a_provider_there_is_no_oidc_sign_in(portal_store: Store, tmp_path: Path) -> None:
    with TestClient(create_app(portal_store, key_dir=tmp_path / "keys"), follow_redirects=False) as c:
        assert "/login/oidc" not in c.get("/login").text
        assert c.get("/login/oidc", headers={"accept": "text/html"}).status_code == 404
