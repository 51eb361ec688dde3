"""Sessions and CSRF: the cookie's flags, expiry, forgery, staff sign-in by token, sign-out."""

from __future__ import annotations

import base64
import json
import stat
import time

import itsdangerous
import pytest

from guihua.core.policy import Actor
from guihua.usecases import accounts, audit
from guihua.web.sessions import IDLE_SECONDS, KEY_FILE, SESSION_COOKIE, session_secret
from tests.web.conftest import ADMIN, Portal


def session_cookie(answer: object) -> str:
    headers = answer.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    found = [h for h in headers if h.startswith(f"{SESSION_COOKIE}=")]
    assert found, headers
    return found[-1]


def test_session_cookie_is_httponly_lax_and_secure_behind_tls(portal: Portal) -> None:
    cookie = session_cookie(portal.client.get("/login"))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert f"Max-Age={IDLE_SECONDS}" in cookie
    assert "Secure" not in cookie  # plain http: a Secure cookie would never come back
    behind_proxy = portal.client.get("/login", headers={"x-forwarded-proto": "https"})
    assert "Secure" in session_cookie(behind_proxy)
    assert "Secure" in session_cookie(portal.client.get("https://testserver/login"))


def test_the_api_and_static_files_have_no_session(portal: Portal) -> None:
    portal.client.get("/login")
    for path in ("/api/v1/health", "/static/portal.css", "/openapi.json"):
        assert "set-cookie" not in portal.client.get(path).headers, path


def test_the_session_key_is_private(portal: Portal) -> None:
    portal.client.get("/login")
    key = portal.keys / KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    key.chmod(0o644)
    from guihua.core.errors import SigningKeyProblem

    with pytest.raises(SigningKeyProblem, match="chmod 600"):
        session_secret(portal.keys)


def test_a_post_without_the_csrf_token_is_refused_in_words(portal: Portal) -> None:
    c = portal.client
    token = portal.tokens["desk"]
    for data in ({"token": token}, {"token": token, "csrf_token": "forged-" + "x" * 40}):
        answer = c.post("/login/token?lang=en", data=data)
        assert answer.status_code == 403
        assert answer.headers["content-type"].startswith("text/html")
        assert "This form could not be accepted" in answer.text and "Nothing was done" in answer.text
    zh = c.post("/login/token?lang=zh-CN", data={"token": token})
    assert zh.status_code == 403 and "无法受理该表单" in zh.text
    assert not any(
        e["action"] == "sign_in" for e in audit.entries(portal.store)
    )  # refused before any use case
    # with the session's token (form field, or the header htmx sends) it goes through
    assert c.post("/login/token", data={"token": token, "csrf_token": portal.csrf()}).status_code == 303
    assert c.post("/logout", headers={"x-csrf-token": portal.csrf("/login")}).status_code == 303


def test_a_token_from_another_session_does_not_count(portal: Portal) -> None:
    stolen = portal.csrf()
    portal.client.cookies.clear()  # another browser: its own session
    answer = portal.client.post("/login/token", data={"token": portal.tokens["desk"], "csrf_token": stolen})
    assert answer.status_code == 403


def test_staff_sign_in_with_their_token_and_out(portal: Portal) -> None:
    c = portal.client
    wrong = c.post("/login/token?lang=en", data={"token": "gh_nope", "csrf_token": portal.csrf()})
    assert wrong.status_code == 400 and "That sign-in key is not valid" in wrong.text
    before = portal.csrf()
    answer = c.post("/login/token", data={"token": portal.tokens["desk"], "csrf_token": before})
    assert (answer.status_code, answer.headers["location"]) == (303, "/counter")
    assert portal.csrf("/login/whoami") != before  # a new token after signing in
    me = c.get("/login/whoami?lang=en")
    assert me.status_code == 200 and "desk-wu" in me.text and "service counter" in me.text
    assert "Sign out" in me.text and 'hx-headers=\'{"X-CSRF-Token": "' in me.text
    signed = [e for e in audit.entries(portal.store) if e["action"] == "sign_in"]
    assert [(e["account"], e["outcome"]) for e in signed] == [
        ("desk-wu", "ok"),
        ("portal-visitor", "refused"),
    ]

    out = c.post("/logout", data={"csrf_token": portal.csrf("/login/whoami")})
    assert (out.status_code, out.headers["location"]) == (303, "/")
    assert "Max-Age=0" in session_cookie(out)
    assert c.get("/login/whoami").status_code == 303  # signed out: to /login


def test_each_role_lands_on_its_page_and_next_stays_on_this_site(portal: Portal) -> None:
    c = portal.client
    for who, home in (("reviewer", "/review"), ("traffic", "/department")):
        c.cookies.clear()
        answer = c.post("/login/token", data={"token": portal.tokens[who], "csrf_token": portal.csrf()})
        assert answer.headers["location"] == home
    for target, landing in (
        ("/stats?lang=en", "/stats?lang=en"),
        ("//evil.example/x", "/counter"),
        ("https://evil.example/", "/counter"),
        ("/\\evil.example", "/counter"),
    ):
        c.cookies.clear()
        answer = c.post(
            "/login/token", data={"token": portal.tokens["desk"], "csrf_token": portal.csrf(), "next": target}
        )
        assert answer.headers["location"] == landing, target


def test_a_page_that_needs_a_session_sends_to_login_and_back(portal: Portal) -> None:
    c = portal.client
    answer = c.get("/login/whoami?lang=en")
    assert (answer.status_code, answer.headers["location"]) == (
        303,
        "/login?next=%2Flogin%2Fwhoami%3Flang%3Den",
    )
    page = c.get(answer.headers["location"]).text
    assert 'name="next" value="/login/whoami?lang=en"' in page
    back = c.post(
        "/login/token",
        data={"token": portal.tokens["desk"], "csrf_token": portal.csrf(), "next": "/login/whoami?lang=en"},
    )
    assert back.headers["location"] == "/login/whoami?lang=en"


def test_revoking_an_account_ends_its_sessions(portal: Portal) -> None:
    portal.sign_in_with_token("reviewer")
    assert portal.client.get("/login/whoami").status_code == 200
    accounts.revoke(portal.store, ADMIN, "reviewer-li")
    assert portal.client.get("/login/whoami").status_code == 303


def test_sessions_expire_when_idle(portal: Portal, monkeypatch: pytest.MonkeyPatch) -> None:
    portal.sign_in_with_token("desk")
    assert portal.client.get("/login/whoami").status_code == 200
    real = itsdangerous.TimestampSigner.get_timestamp
    monkeypatch.setattr(
        itsdangerous.TimestampSigner, "get_timestamp", lambda self: real(self) + IDLE_SECONDS - 60
    )
    assert portal.client.get("/login/whoami").status_code == 200  # used in time: the clock starts again
    monkeypatch.setattr(
        itsdangerous.TimestampSigner, "get_timestamp", lambda self: real(self) + 2 * IDLE_SECONDS + 1
    )
    assert portal.client.get("/login/whoami").status_code == 303


def _signed(portal: Portal, data: dict[str, object], key: bytes | None = None) -> str:
    signer = itsdangerous.TimestampSigner(key or session_secret(portal.keys), salt="guihua.session")
    return signer.sign(base64.b64encode(json.dumps(data).encode())).decode()


def test_a_forged_or_too_old_session_signs_nobody_in(portal: Portal) -> None:
    portal.client.get("/login")  # the key exists
    actor = {
        "account": "desk-wu",
        "role": "service_desk",
        "department": None,
        "provider": None,
        "subject_id": None,
    }
    fresh = {"actor": actor, "how": "token", "since": int(time.time())}
    c = portal.client

    def whoami(cookie: str) -> int:
        c.cookies.clear()
        c.cookies.set(SESSION_COOKIE, cookie)
        return c.get("/login/whoami").status_code

    assert whoami(_signed(portal, fresh)) == 200  # the test's own signing works...
    assert whoami(_signed(portal, fresh, key=b"k" * 32)) == 303  # ...with the key only
    assert whoami(_signed(portal, {**fresh, "since": int(time.time()) - 13 * 3600})) == 303  # past 12 hours
    admin = {**fresh, "actor": {**actor, "role": "admin"}}  # a role the account does not have
    assert whoami(_signed(portal, admin)) == 303
    body = base64.b64encode(json.dumps(admin).encode()).decode()
    assert whoami(body + "." + _signed(portal, fresh).rsplit(".", 2)[1] + ".x") == 303


def test_a_resident_actor_in_a_session_is_the_policy_s_actor(portal: Portal) -> None:
    from guihua.usecases import sign_in

    resident = sign_in.policy_actor("110105194112275182")
    assert resident == Actor("portal", "resident", subject_id="110105194112275182")
    assert sign_in.live_actor(portal.store, resident) == resident
