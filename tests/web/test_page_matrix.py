"""The authorization matrix of the portal's pages: every page path × every role.

The paths are asked of the application's router, not listed by hand, so a page added later is
walked too: a path this file does not know fails the test until its expectations are written
here (``/me/...`` pages are the resident's own by rule, whatever they are). Each case is sent
as a browser sends it (``Accept: text/html``), with a valid CSRF token on unsafe methods, so what
is tested is who may, not the form: signed out, a protected page sends the visitor to /login and
back; a role the policy refuses gets the 403 page; an allowed role gets the page (or its own
answer to an empty form: 400, 404, a redirect, but never 401/403 or /login).

Mirrors tests/http/test_http_matrix.py for the API.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from guihua.core.policy import Actor
from guihua.http.guards import RateLimit
from guihua.http.service import create_app
from guihua.store.database import Store, open_store
from guihua.usecases import accounts, catalogs, feeds, objections, sign_in, submissions
from tests.conftest import DATA, TODAY
from tests.helpers import jsonl, record, subject

A = subject(1)
ROLES = ["signed_out", "resident", "service_desk", "department", "reviewer", "auditor", "admin", "provider"]
STAFF = [r for r in ROLES if r not in ("signed_out", "resident")]
SIGNED_IN = [r for r in ROLES if r != "signed_out"]
SKIPPED = ("/api/", "/static/", "/openapi.json")

LOGIN = "login"  # a 303 to /login?next=<the page>
OWN = "own"  # the role's own answer: any status but 401/403, and no redirect to /login
PUBLIC = {r: 200 for r in ROLES}


def only(role: str, answer: int | str = 200, others: int | str = 403) -> dict[str, int | str]:
    """``role`` gets ``answer``; other signed-in roles ``others``; signed out, the sign-in page."""
    return {"signed_out": LOGIN, **{r: others for r in SIGNED_IN}, role: answer}


# (method, route path as the router spells it) -> what each role gets
PAGES: dict[tuple[str, str], dict[str, int | str]] = {
    # public
    ("GET", "/"): PUBLIC,
    ("GET", "/stats"): PUBLIC,
    ("GET", "/verify"): PUBLIC,
    ("GET", "/verify/{code}"): {r: 404 for r in ROLES},  # an unknown code, for everybody
    ("GET", "/docs"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("GET", "/login/code"): PUBLIC,
    ("POST", "/login/code"): {r: 400 for r in ROLES},  # no id, no code: said on the form
    ("POST", "/login/code/request"): {r: 404 for r in ROLES},  # e-mailed codes are off here
    ("POST", "/login/token"): {r: 400 for r in ROLES},
    ("GET", "/login/oidc"): {r: 404 for r in ROLES},  # no OIDC provider configured here
    ("GET", "/login/oidc/callback"): {r: 404 for r in ROLES},
    ("POST", "/logout"): {r: 303 for r in ROLES},
    ("GET", "/login/whoami"): {"signed_out": LOGIN, **{r: 200 for r in SIGNED_IN}},
    # the service counter: service desks only
    ("GET", "/counter"): only("service_desk"),
    ("POST", "/counter/lookup"): only("service_desk", 400),  # no id, no purpose: said on the form
    ("POST", "/counter/finish"): only("service_desk", 303),
    ("GET", "/counter/resident"): only("service_desk", 303),  # nobody looked up: back to /counter
    ("GET", "/counter/objection"): only("service_desk", 303),
    ("POST", "/counter/objection/check"): only("service_desk", 303),
    ("POST", "/counter/objection/change"): only("service_desk", 303),
    ("POST", "/counter/objection"): only("service_desk", 303),
    ("GET", "/counter/objection/{objection_id}"): only("service_desk", 303),
    ("POST", "/counter/certificate"): only("service_desk", 303),
    ("GET", "/counter/certificate/{code}"): only("service_desk", 404),  # not issued by this clerk
    ("GET", "/counter/certificate/{code}/pdf"): only("service_desk", 404),
    ("POST", "/counter/sign-in-code"): only("service_desk", 303),
    ("GET", "/counter/verify"): only("service_desk", 400),  # no code typed
    # a department's clerk: its own department only
    ("GET", "/department"): only("department"),
    ("POST", "/department/upload"): only("department", 400),  # no file chosen
    ("GET", "/department/submissions/{submission_id}"): only("department"),
    ("GET", "/department/rejects"): only("department"),
    ("GET", "/department/rejects.csv"): only("department"),
    ("GET", "/department/objections"): only("department"),
    # reviewers
    ("GET", "/review"): only("reviewer"),
    ("GET", "/review/objections/{objection_id}"): only("reviewer"),
    ("POST", "/review/objections/{objection_id}/decision"): only("reviewer", 400),  # no decision, no reason
}
RESIDENTS_OWN = only("resident", OWN)  # every /me page, whatever it is

SAMPLES = {"code": "ZZZZ-ZZZZ-ZZZZ"}  # {objection_id} and {submission_id}: made in the setup


@dataclass
class Setup:
    client: TestClient
    cookies: dict[str, dict[str, str]]  # role -> its session cookies
    tokens: dict[str, str]  # role -> its session's CSRF token
    samples: dict[str, str]


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def _signed_in(client: TestClient, store: Store, role: str, token: str | None) -> tuple[dict[str, str], str]:
    client.cookies.clear()
    if role == "resident":
        code = sign_in.counter_code(store, Actor("matrix-desk", "service_desk"), A).code
        answer = client.post(
            "/login/code",
            data={"subject_id": A, "code": code, "csrf_token": _csrf(client.get("/login/code").text)},
        )
        assert answer.status_code == 303, answer.text
    elif token is not None:
        answer = client.post(
            "/login/token", data={"token": token, "csrf_token": _csrf(client.get("/login").text)}
        )
        assert answer.status_code == 303, answer.text
    page = client.get("/login")  # a page with a form: the session's CSRF token (signed out: made now)
    return dict(client.cookies.items()), _csrf(page.text)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    with pytest.MonkeyPatch.context() as patch:  # the module's store is made on the tests' day
        patch.setenv("GUIHUA_TODAY", TODAY)
        yield from _setup(Path(tmp_path_factory.mktemp("page-matrix")))


def _setup(folder: Path) -> Iterator[Setup]:
    store = open_store(str(folder / "m.db"))
    catalogs.load_catalog(store, (DATA / "mini.yaml").read_text())
    rows = [record("v1", A, "volunteer_service", "2026-03-01", hours=12, organisation="x")]
    submissions.ingest_file(store, jsonl(folder / "v.jsonl", rows), "CIVIL")
    traffic = [
        record(
            "t1",
            A,
            "traffic_offence",
            "2026-06-01",
            offence="speeding",
            fine=1,
            paid=True,
            when_paid="2026-06-02",
        )
    ]
    submissions.ingest_file(store, jsonl(folder / "t.jsonl", traffic), "TRAFFIC")
    filed = objections.file(store, A, "CIVIL", "v1", "not mine")
    admin = Actor("matrix", "admin")
    tokens = {
        "service_desk": accounts.create(store, admin, "service_desk", "desk"),
        "department": accounts.create(store, admin, "department", "traffic", department="TRAFFIC"),
        "reviewer": accounts.create(store, admin, "reviewer", "rev"),
        "auditor": accounts.create(store, admin, "auditor", "aud"),
        "admin": accounts.create(store, admin, "admin", "adm"),
        "provider": accounts.create(store, admin, "provider", "lib", provider="SZLIB"),
    }
    app = create_app(store, key_dir=folder / "keys", rate_limit=RateLimit(rate=10_000, burst=10_000))
    app.state.sign_in_limit = RateLimit(rate=10_000, burst=10_000)
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    cookies, csrf = {}, {}
    for role in ROLES:
        cookies[role], csrf[role] = _signed_in(client, store, role, tokens.get(role))
    samples = {
        **SAMPLES,
        "objection_id": str(filed.id),
        "submission_id": str(feeds.list_submissions(store, "TRAFFIC", 1)[0]["id"]),
    }
    yield Setup(client, cookies, csrf, samples)
    client.close()
    store.dispose()


def page_routes() -> list[tuple[str, str]]:
    """Every (method, path) of the portal, as the application's router has them now."""
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(str(Path(tmp) / "r.db"))
        app = create_app(store, key_dir=Path(tmp) / "keys")
        found = sorted(
            {
                (method, str(route.path))
                for route in iter_route_contexts(app.routes)
                if route.path and not str(route.path).startswith(SKIPPED) and route.methods
                for method in route.methods
                if method != "HEAD"
            }
        )
        store.dispose()
    return found


ROUTES = page_routes()


def expectations(method: str, path: str) -> dict[str, int | str]:
    known = PAGES.get((method, path))
    if known is not None:
        return known
    if path == "/me" or path.startswith("/me/"):
        return RESIDENTS_OWN
    pytest.fail(f"{method} {path} is a page this matrix does not know: add what each role gets to PAGES")


def filled(path: str, samples: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in samples, f"no sample value for {{{name}}} in {path}: add one to SAMPLES"
        return samples[name]

    return re.sub(r"\{(\w+)(?::\w+)?\}", one, path)


def test_the_router_has_the_staff_pages_and_the_residents() -> None:
    paths = {p for _, p in ROUTES}
    assert {"/counter", "/department", "/review", "/verify/{code}"} <= paths
    assert any(p == "/me" or p.startswith("/me/") for p in paths)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method,path", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_matrix(setup: Setup, method: str, path: str, role: str) -> None:
    wanted = expectations(method, path)[role]
    url = filled(path, setup.samples)
    client = setup.client
    client.cookies.clear()
    for name, value in setup.cookies[role].items():
        client.cookies.set(name, value)
    headers = {"accept": "text/html"}
    if method in ("GET", "HEAD"):
        answer = client.request(method, url, headers=headers)
    else:
        answer = client.request(method, url, headers=headers, data={"csrf_token": setup.tokens[role]})
    where = answer.headers.get("location", "")
    said = f"{method} {url} as {role}: {answer.status_code} {where} {answer.text[:300]!r}"
    if wanted == LOGIN:
        assert answer.status_code == 303 and where.startswith("/login?next="), said
        assert where.split("next=", 1)[1].startswith("%2F"), said  # back to this page after
    elif wanted == OWN:
        assert answer.status_code not in (401, 403) and not where.startswith("/login"), said
        assert answer.status_code < 500, said
    else:
        assert answer.status_code == wanted, said
    if answer.status_code == 403:
        assert "text/html" in answer.headers["content-type"], said  # a page in words, not JSON
