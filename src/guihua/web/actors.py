"""Who is signed in: the Actor a session carries, for every page that acts for someone.

Pages call :func:`signed_in` (the Actor or None) or :func:`require_actor` (the Actor, or a
redirect to ``/login`` and back here afterwards). The Actor is the access policy's
(:class:`guihua.core.policy.Actor`): a page asks ``core/policy.py`` what it may do and calls the
same use cases as the API with it. A staff account's session is checked against the store on
every page, so a revoked account is signed out at once; a resident signed in with a code or
OIDC has no account, and the session ends by itself (:mod:`guihua.web.sessions`).
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from fastapi import Request

from guihua.core.policy import Actor
from guihua.store.database import Store
from guihua.usecases import sign_in
from guihua.web.csrf import renew_csrf
from guihua.web.page_errors import SignInNeeded

_ACTOR = "actor"


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _actor_from(data: Any) -> Actor | None:
    """The Actor a session keeps (written by :func:`start_session`; the cookie is signed)."""
    if not isinstance(data, dict):
        return None
    account, role = _text(data.get("account")), _text(data.get("role"))
    if account is None or role is None:
        return None
    return Actor(
        account,
        role,
        _text(data.get("department")),
        _text(data.get("provider")),
        _text(data.get("subject_id")),
    )


def signed_in(request: Request) -> Actor | None:
    """The Actor of the visitor's session, still good (a revoked account's session ends here)."""
    cached: Actor | bool | None = getattr(request.state, "actor", False)
    if cached is not False:
        return cached if isinstance(cached, Actor) else None
    if "session" not in request.scope:  # /static/ and the API have no sessions
        return None
    actor = _actor_from(request.session.get(_ACTOR))
    if actor is not None:
        actor = sign_in.live_actor(store_of(request), actor)
        if actor is None:
            sign_out(request)
    request.state.actor = actor
    return actor


def require_actor(request: Request) -> Actor:
    """The signed-in Actor, or :class:`SignInNeeded` (a redirect to /login, then back here)."""
    actor = signed_in(request)
    if actor is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInNeeded(path)
    return actor


def start_session(request: Request, actor: Actor, how: str) -> None:
    """Sign ``actor`` in (``how``: code, token, oidc): a new session with a new CSRF token."""
    request.session.clear()
    request.session.update({_ACTOR: asdict(actor), "how": how, "since": int(time.time())})
    renew_csrf(request)
    request.state.actor = actor


def sign_out(request: Request) -> None:
    """End the session (the cookie is removed with the answer, and a new CSRF token is made)."""
    request.session.clear()
    request.state.actor = None
