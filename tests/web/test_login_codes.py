"""Residents sign in with a one-time code: e-mailed through a real SMTP server, or printed at the
counter; codes are hashed, single use, short-lived, limited in tries and in number."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from guihua.core.errors import Forbidden
from guihua.core.policy import Actor
from guihua.http.guards import RateLimit
from guihua.store import schema
from guihua.usecases import audit, contacts, sign_in
from tests.helpers import Mailbox, free_port, run
from tests.web.conftest import A, L, N, Portal

CLERK = Actor("desk-wu", "service_desk")


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    box = Mailbox()
    box.controller.start()
    monkeypatch.setenv("GUIHUA_SMTP", f"127.0.0.1:{box.port}")
    monkeypatch.setenv("GUIHUA_SMTP_FROM", "portal@guihua.example")
    yield box
    box.controller.stop()


def ask_code(portal: Portal, sid: str, lang: str = "en") -> Any:
    return portal.client.post(
        f"/login/code/request?lang={lang}",
        data={"subject_id": sid, "csrf_token": portal.csrf(), "next": "/stats"},
    )


def type_code(portal: Portal, sid: str, code: str, next_url: str = "") -> Any:
    return portal.client.post(
        "/login/code",
        data={"subject_id": sid, "code": code, "csrf_token": portal.csrf("/login/code"), "next": next_url},
    )


def code_in(message: email.message.EmailMessage) -> str:
    found = re.search(r"\b(\d{6})\b", message.get_content())
    assert found, message.get_content()
    return found.group(1)


def test_a_resident_signs_in_with_an_e_mailed_code(portal: Portal, mailbox: Mailbox) -> None:
    contacts.set_email(portal.store, A, "wang@example.org", CLERK)
    asked = ask_code(portal, A)
    assert asked.status_code == 200, asked.text
    assert "If we have an e-mail address for this identity card number" in asked.text
    assert f'value="{A}"' in asked.text  # the next form already has the id number

    [message] = mailbox.messages
    assert message["To"] == "wang@example.org" and message["From"] == "portal@guihua.example"
    assert message["Subject"].startswith("Your Guihua sign-in code: ")
    assert re.fullmatch(r"<sign-in-\d+@guihua\.local>", message["Message-ID"])
    code = code_in(message)
    assert code in message["Subject"] and "10 minutes" in message.get_content()

    with portal.store.begin() as conn:
        [row] = conn.execute(select(schema.sign_in_codes)).all()
    assert row.subject_id == A and row.channel == "email"
    assert code not in " ".join(str(v) for v in row)  # only a salted hash is kept

    landed = type_code(portal, A, code, next_url="/stats")
    assert (landed.status_code, landed.headers["location"]) == (303, "/stats")
    me = portal.client.get("/login/whoami?lang=en")
    assert me.status_code == 200 and "resident" in me.text
    # single use: the same code does not sign in twice
    portal.client.cookies.clear()
    assert type_code(portal, A, code).status_code == 400
    actions = [(e["action"], e["outcome"]) for e in reversed(audit.entries(portal.store, A))]
    assert (
        ("sign_in.code", "ok") in actions
        and ("sign_in", "ok") in actions
        and ("sign_in", "refused") in actions
    )


def test_the_e_mail_speaks_the_page_s_language(portal: Portal, mailbox: Mailbox) -> None:
    contacts.set_email(portal.store, A, "wang@example.org", CLERK)
    asked = ask_code(portal, A, lang="zh-CN")
    assert "登录码已发送到该邮箱" in asked.text
    [message] = mailbox.messages
    assert message["Subject"].startswith("您的桂花登录码：")
    assert message["Content-Language"] == "zh-CN"
    assert "分钟内有效" in message.get_content()


def test_without_an_address_the_page_says_the_same_and_nothing_is_sent(
    portal: Portal, mailbox: Mailbox
) -> None:
    asked = ask_code(portal, N)
    assert asked.status_code == 200
    assert "If we have an e-mail address for this identity card number" in asked.text  # no enumeration
    assert mailbox.messages == []
    assert [e["outcome"] for e in audit.entries(portal.store, N) if e["action"] == "sign_in.code"] == [
        "no_address"
    ]
    bad = ask_code(portal, "12345")
    assert bad.status_code == 400 and "Enter your 18-character identity card number" in bad.text
    assert 'href="#subject_id"' in bad.text  # the error summary links to the field


def test_a_wrong_code_costs_a_try_and_five_kill_it(portal: Portal, mailbox: Mailbox) -> None:
    contacts.set_email(portal.store, A, "wang@example.org", CLERK)
    ask_code(portal, A)
    code = code_in(mailbox.messages[0])
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    answer = type_code(portal, A, wrong)
    assert answer.status_code == 400 and "That code is wrong, used or too old" in answer.text
    for _ in range(sign_in.MAX_ATTEMPTS - 1):
        assert type_code(portal, A, wrong).status_code == 400
    assert type_code(portal, A, code).status_code == 400  # the right code, too late: it is dead
    with portal.store.begin() as conn:
        [row] = conn.execute(select(schema.sign_in_codes)).all()
    assert row.attempts == sign_in.MAX_ATTEMPTS and row.used_at is None


def test_codes_expire(portal: Portal, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    contacts.set_email(portal.store, A, "wang@example.org", CLERK)
    ask_code(portal, A)
    code = code_in(mailbox.messages[0])
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=sign_in.EMAIL_MINUTES, seconds=5)
    monkeypatch.setattr(sign_in, "now", lambda: later)
    assert type_code(portal, A, code).status_code == 400


def test_codes_per_resident_are_limited(portal: Portal, mailbox: Mailbox) -> None:
    contacts.set_email(portal.store, A, "wang@example.org", CLERK)
    for _ in range(sign_in.MAX_CODES):
        assert ask_code(portal, A).status_code == 200
    refused = ask_code(portal, A)
    assert refused.status_code == 429 and "Too many codes were asked for this number" in refused.text
    assert len(mailbox.messages) == sign_in.MAX_CODES


def test_sign_in_attempts_are_rate_limited_per_address(portal: Portal, mailbox: Mailbox) -> None:
    portal.client.app.state.sign_in_limit = RateLimit(rate=0.001, burst=3)  # type: ignore[attr-defined]
    for _ in range(3):
        assert type_code(portal, A, "000000").status_code == 400
    limited = portal.client.post(
        "/login/code?lang=en",
        data={"subject_id": A, "code": "000000", "csrf_token": portal.csrf("/login/code")},
    )
    assert limited.status_code == 429 and "Too many tries" in limited.text
    assert int(limited.headers["retry-after"]) >= 1


def test_an_smtp_relay_that_is_down_is_said_plainly(portal: Portal, monkeypatch: pytest.MonkeyPatch) -> None:
    contacts.set_email(portal.store, A, "wang@example.org", CLERK)
    monkeypatch.setenv("GUIHUA_SMTP", f"127.0.0.1:{free_port()}")  # nobody listens
    answer = ask_code(portal, A)
    assert answer.status_code == 503 and "We could not send the e-mail just now" in answer.text
    assert [e["outcome"] for e in audit.entries(portal.store, A) if e["action"] == "sign_in.code"] == [
        "failed"
    ]


def test_without_smtp_the_page_points_to_the_counter(portal: Portal, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GUIHUA_SMTP", raising=False)
    page = portal.client.get("/login?lang=en").text
    assert "Ask at a service counter for a sign-in code" in page and "/login/code/request" not in page


def test_a_counter_code_signs_the_resident_in(portal: Portal) -> None:
    printed = sign_in.counter_code(portal.store, CLERK, L)
    assert re.fullmatch(r"\d{6}", printed.code) and printed.minutes == sign_in.COUNTER_MINUTES
    landed = type_code(portal, L, f" {printed.code[:3]} {printed.code[3:]} ")  # spaces as read out
    assert (landed.status_code, landed.headers["location"]) == (303, "/me")
    issued = [e for e in audit.entries(portal.store, L) if e["action"] == "sign_in.counter_code"]
    assert [(e["account"], e["role"]) for e in issued] == [("desk-wu", "service_desk")]

    with pytest.raises(Forbidden):
        sign_in.counter_code(portal.store, Actor("portal", "resident", subject_id=L), L)
    with pytest.raises(Forbidden):
        sign_in.counter_code(portal.store, Actor("reviewer-li", "reviewer"), L)


def test_the_counter_code_command(portal: Portal) -> None:
    db = portal.store.engine.url.database
    assert db
    done = run("sign-in-code", L, "--as", "desk-wu", "--json", "--db", db)
    assert done.returncode == 0, done.stderr
    import json

    printed = json.loads(done.stdout)
    assert printed["subject_id"] == L and re.fullmatch(r"\d{6}", printed["code"])
    assert type_code(portal, L, printed["code"]).status_code == 303


def test_codes_on_both_stores(store, mini_catalog_text: str) -> None:  # type: ignore[no-untyped-def]
    """The use case alone, on SQLite and PostgreSQL: hashed, single use, tries counted."""
    from guihua.usecases import catalogs

    catalogs.load_catalog(store, mini_catalog_text)
    first = sign_in.counter_code(store, CLERK, A)
    assert sign_in.redeem(store, A, "999999" if first.code != "999999" else "888888") is None
    assert sign_in.redeem(store, A, first.code) == sign_in.policy_actor(A)
    assert sign_in.redeem(store, A, first.code) is None  # spent
    second = sign_in.counter_code(store, CLERK, A)
    third = sign_in.counter_code(store, CLERK, A)
    assert sign_in.redeem(store, A, second.code) == sign_in.policy_actor(A)
    assert sign_in.redeem(store, A, third.code) is None  # a sign-in spends every live code
    with store.begin() as conn:
        rows = conn.execute(select(schema.sign_in_codes).order_by(schema.sign_in_codes.c.id)).all()
    assert [r.attempts for r in rows] == [1, 0, 0] and all(r.used_at is not None for r in rows)
    refused = [e for e in audit.entries(store, A) if e["action"] == "sign_in" and e["outcome"] == "refused"]
    assert {e["account"] for e in refused} == {"portal-visitor"}  # never the resident itself
