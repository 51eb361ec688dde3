"""``/login`` and ``/logout``: residents with a one-time code, staff with their account token.

A resident types its id number and gets a code by e-mail (the notices' SMTP relay,
``GUIHUA_SMTP`` / ``GUIHUA_SMTP_FROM``), or brings one printed at a service counter, and types
it on the next page. Staff paste their account's token. Whatever the outcome, the page never
says whether an id number has an address on file. Each address may ask for codes and try them
at most :data:`SIGN_IN_BURST` times at once, then one every :data:`SIGN_IN_EVERY` seconds
(``app.state.sign_in_limit``); the use case limits codes per resident and tries per code.
The rules of codes are :mod:`guihua.usecases.sign_in`'s; this module only asks and shows.
"""

from __future__ import annotations

import math
import os
from typing import Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from guihua.core.errors import InvalidInput
from guihua.core.languages import Language
from guihua.delivery.channels import EmailChannel, parse_smtp
from guihua.http.guards import RateLimit
from guihua.usecases import sign_in
from guihua.web.actors import require_actor, sign_out, start_session, store_of
from guihua.web.locales import N_, language
from guihua.web.navigation import home_of, safe_next
from guihua.web.page_errors import PageError
from guihua.web.portal import portal_router
from guihua.web.rendering import gettext, render, render_text

router = portal_router()
SIGN_IN_BURST = 10
SIGN_IN_EVERY = 6.0
DEFAULT_FROM = "notices@guihua.local"
CODE_SUBJECT = N_("Your Guihua sign-in code: %(code)s")


def sign_in_limit() -> RateLimit:
    """The per-address limit on asking for and trying codes and tokens (kept in ``app.state``)."""
    return RateLimit(rate=1 / SIGN_IN_EVERY, burst=SIGN_IN_BURST)


def _limited(request: Request) -> None:
    limit: RateLimit = request.app.state.sign_in_limit
    client = request.client.host if request.client else "unknown"
    wait = limit.wait(client)
    if wait > 0:
        raise PageError(429, "rate_limited", retry_after=max(1, math.ceil(wait)))


def email_channel() -> EmailChannel | None:
    """The notices' e-mail channel as configured for ``guihua serve`` (None: e-mail codes are off)."""
    relay = os.environ.get("GUIHUA_SMTP")
    if not relay:
        return None
    host, port = parse_smtp(relay)
    return EmailChannel(host, port, os.environ.get("GUIHUA_SMTP_FROM") or DEFAULT_FROM)


def _oidc_label(request: Request) -> str | None:
    settings = getattr(request.app.state, "oidc", None)
    return settings.label if settings is not None else None


def _login_page(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    base = {
        "next": safe_next(request.query_params.get("next")) or "",
        "email_codes": email_channel() is not None,
        "oidc": _oidc_label(request),
        "errors": {},
        "subject_id": "",
    }
    return render(request, "login.html", {**base, **context}, status=status)


def _code_page(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    base = {"next": "", "errors": {}, "subject_id": "", "sent": False, "minutes": sign_in.EMAIL_MINUTES}
    return render(request, "login_code.html", {**base, **context}, status=status)


def _landing(actor: Any, next_url: str) -> RedirectResponse:
    return RedirectResponse(safe_next(next_url) or home_of(actor), status_code=303)


@router.get("/login")
def login(request: Request) -> HTMLResponse:
    """The ways to sign in (and who is signed in already)."""
    return _login_page(request)


def _wording(lang: Language) -> sign_in.Wording:
    def words(code: str, minutes: int) -> tuple[str, str]:
        subject = gettext(lang, CODE_SUBJECT, code=code)
        return subject, render_text(lang, "email_code.txt", {"code": code, "minutes": minutes})

    return words


@router.post("/login/code/request")
def request_code(request: Request, subject_id: str = Form(""), next: str = Form("")) -> HTMLResponse:
    """E-mail a code to the resident's address on file, then ask for it."""
    _limited(request)
    channel = email_channel()
    if channel is None:
        raise PageError(404, "not_found")
    try:
        lang = language(request)
        asked = sign_in.request_email_code(store_of(request), subject_id, channel, _wording(lang), lang)
    except InvalidInput:
        return _login_page(request, 400, errors={"subject_id": "invalid_id"}, subject_id=subject_id[:40])
    except sign_in.TooManyCodes:
        return _login_page(request, 429, errors={"subject_id": "too_many_codes"}, subject_id=subject_id[:40])
    except sign_in.CodeNotSent:
        return _login_page(request, 503, errors={"subject_id": "not_sent"}, subject_id=subject_id[:40])
    return _code_page(
        request, next=safe_next(next) or "", subject_id=subject_id.strip(), sent=True, minutes=asked.minutes
    )


@router.get("/login/code")
def code_form(request: Request) -> HTMLResponse:
    """Type a code: one printed at a service counter, or one that was e-mailed."""
    return _code_page(request, next=safe_next(request.query_params.get("next")) or "")


@router.post("/login/code")
def redeem_code(
    request: Request, subject_id: str = Form(""), code: str = Form(""), next: str = Form("")
) -> Response:
    """Sign a resident in with its code; a wrong one is said plainly and costs a try."""
    _limited(request)
    try:
        actor = sign_in.redeem(store_of(request), subject_id, code[:20])
    except InvalidInput:
        return _code_page(
            request,
            400,
            errors={"subject_id": "invalid_id"},
            subject_id=subject_id[:40],
            next=safe_next(next) or "",
        )
    if actor is None:
        return _code_page(
            request,
            400,
            errors={"code": "wrong_code"},
            subject_id=subject_id.strip()[:40],
            next=safe_next(next) or "",
        )
    start_session(request, actor, "code")
    return _landing(actor, next)


@router.post("/login/token")
def token_login(request: Request, token: str = Form(""), next: str = Form("")) -> Response:
    """Sign staff in with their account's token (shown once by ``guihua accounts create``)."""
    _limited(request)
    actor = sign_in.staff_by_token(store_of(request), token[:200])
    if actor is None:
        return _login_page(request, 400, errors={"token": "wrong_token"}, next=safe_next(next) or "")
    start_session(request, actor, "token")
    return _landing(actor, next)


@router.post("/logout")
def logout(request: Request) -> Response:
    """End the session; back to the home page."""
    sign_out(request)
    return RedirectResponse("/", status_code=303)


@router.get("/login/whoami")
def whoami(request: Request) -> HTMLResponse:
    """Who is signed in (a page that needs a session: without one it sends the visitor to /login)."""
    actor = require_actor(request)
    return render(request, "whoami.html", {"who": actor})
