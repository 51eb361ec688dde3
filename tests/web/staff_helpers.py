"""What the staff pages' tests share: signing in as each role, reading a page as a person does."""

from __future__ import annotations

import html
import re

from guihua.core.policy import Actor
from guihua.usecases import accounts, sign_in
from tests.web.conftest import ADMIN, Portal

DESK = Actor("desk-wu", "service_desk")


def visible(page: str) -> str:
    """The text a reader sees in the page's <main>, tags dropped and spaces collapsed."""
    main = page[page.find("<main") : page.find("</main>")] if "<main" in page else page
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", main))).strip()


def html_lang(page: str) -> str:
    found = re.search(r'<html lang="([^"]+)">', page)
    assert found, page[:200]
    return found.group(1)


def sign_in_resident(portal: Portal, sid: str) -> None:
    """A resident signs in with a code printed at the counter (the portal's own way)."""
    code = sign_in.counter_code(portal.store, DESK, sid).code
    answer = portal.client.post(
        "/login/code", data={"subject_id": sid, "code": code, "csrf_token": portal.csrf("/login/code")}
    )
    assert answer.status_code == 303, answer.text


def staff_token(portal: Portal, role: str, name: str, **binding: str) -> str:
    """An account of ``role`` (made once per portal), signed in with by its token."""
    key = f"{role}:{name}"
    if key not in portal.tokens:
        portal.tokens[key] = accounts.create(portal.store, ADMIN, role, name, **binding)
    return portal.tokens[key]
