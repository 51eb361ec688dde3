"""CSRF protection: every form carries the session's token, and a POST without it is refused.

The token is random, made once per session (:func:`csrf_token`) and kept in the signed
session cookie; a form sends it back as the hidden field ``csrf_token`` (templates write
``{{ csrf_field() }}``), htmx as the ``X-CSRF-Token`` header (the base layout sets it with
``hx-headers`` on ``<body>``). Another site can make a browser post to the portal, but it
cannot read the token, so its post is refused with a 403 page that says what to do.
``SameSite=Lax`` on the cookie is a second wall. Every router made by
:func:`guihua.web.portal.portal_router` checks it on every unsafe method.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

from guihua.web.page_errors import PageError

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(request: Request) -> str:
    """The session's token, made on first use (the session cookie is then set with the answer)."""
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


def renew_csrf(request: Request) -> None:
    """A new token after signing in or out, so a token seen before cannot be replayed after."""
    request.session[CSRF_FIELD] = secrets.token_urlsafe(32)


async def check_csrf(request: Request) -> None:
    """Refuse an unsafe request whose token (header or form field) is not the session's (403)."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get(CSRF_FIELD)
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not (isinstance(expected, str) and sent and hmac.compare_digest(sent.encode(), expected.encode())):
        raise PageError(403, "csrf")
