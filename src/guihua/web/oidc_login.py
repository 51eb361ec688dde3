"""Sign-in through an OpenID Connect provider, when one is configured (authlib's Starlette client).

Configured by the environment when the service starts:

- ``GUIHUA_OIDC_ISSUER``: the provider (its ``/.well-known/openid-configuration`` is read);
  unset, there is no OIDC sign-in and ``/login/oidc`` is a 404;
- ``GUIHUA_OIDC_CLIENT_ID`` and ``GUIHUA_OIDC_CLIENT_SECRET``: Guihua's registration there;
- ``GUIHUA_OIDC_LABEL``: the button's words (default: the provider's host);
- ``GUIHUA_OIDC_RESIDENT_CLAIM`` (default ``national_id``): the claim holding a resident's id
  number; ``GUIHUA_OIDC_ACCOUNT_CLAIM`` (default ``preferred_username``): the claim naming a
  staff account (see :func:`guihua.usecases.sign_in.oidc_actor` for which wins);
- ``GUIHUA_OIDC_REDIRECT_URL``: the callback as the provider must call it (default: this
  service's ``/login/oidc/callback`` as the browser reached it).

authlib checks the provider's answer: the ``state`` kept in the session (so a callback started
elsewhere is refused), the ID token's signature against the provider's published keys, its
issuer, audience, expiry and the ``nonce``. Only then does the use case decide who it is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.starlette_client import OAuth
from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from joserfc.errors import JoseError
from starlette.concurrency import run_in_threadpool

from guihua.usecases import sign_in
from guihua.web.actors import start_session, store_of
from guihua.web.navigation import home_of, safe_next
from guihua.web.page_errors import PageError
from guihua.web.portal import portal_router

router = portal_router()
PROVIDER = "city"
_NEXT = "oidc_next"


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    label: str
    resident_claim: str = "national_id"
    account_claim: str = "preferred_username"
    redirect_url: str | None = None

    @classmethod
    def from_env(cls) -> OidcSettings | None:
        """The provider configured in the environment, or None when there is none."""
        issuer = os.environ.get("GUIHUA_OIDC_ISSUER", "").strip().rstrip("/")
        if not issuer:
            return None
        return cls(
            issuer=issuer,
            client_id=os.environ.get("GUIHUA_OIDC_CLIENT_ID", ""),
            client_secret=os.environ.get("GUIHUA_OIDC_CLIENT_SECRET", ""),
            label=os.environ.get("GUIHUA_OIDC_LABEL") or urlsplit(issuer).netloc or issuer,
            resident_claim=os.environ.get("GUIHUA_OIDC_RESIDENT_CLAIM") or "national_id",
            account_claim=os.environ.get("GUIHUA_OIDC_ACCOUNT_CLAIM") or "preferred_username",
            redirect_url=os.environ.get("GUIHUA_OIDC_REDIRECT_URL") or None,
        )

    def client(self) -> Any:
        """authlib's client of the provider (discovery, PKCE, nonce, ID token checks)."""
        registry = OAuth()
        registry.register(
            name=PROVIDER,
            client_id=self.client_id,
            client_secret=self.client_secret,
            server_metadata_url=f"{self.issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": "openid profile", "code_challenge_method": "S256"},
        )
        return registry.create_client(PROVIDER)


def configure(state: Any) -> None:
    """Read the provider's settings into ``app.state`` (``oidc``, ``oidc_client``; None when none)."""
    settings = OidcSettings.from_env()
    state.oidc = settings
    state.oidc_client = settings.client() if settings else None


def _configured(request: Request) -> tuple[OidcSettings, Any]:
    settings = getattr(request.app.state, "oidc", None)
    if settings is None:
        raise PageError(404, "not_found")
    return settings, request.app.state.oidc_client


@router.get("/login/oidc")
async def oidc_start(request: Request, next: str = "") -> Response:
    """Off to the provider, which sends the visitor back to the callback."""
    settings, client = _configured(request)
    request.session[_NEXT] = safe_next(next) or ""
    callback = settings.redirect_url or str(request.url_for("oidc_callback"))
    try:
        answer: Response = await client.authorize_redirect(request, callback)
    except (AuthlibBaseError, JoseError, httpx.HTTPError, ValueError, KeyError, RuntimeError) as exc:
        raise PageError(503, "oidc_unavailable", type(exc).__name__) from None
    return answer


@router.get("/login/oidc/callback", name="oidc_callback")
async def oidc_callback(request: Request) -> Response:
    """The provider's answer: checked by authlib, then mapped to a resident or a staff account."""
    settings, client = _configured(request)
    try:
        token = await client.authorize_access_token(request)
    except (AuthlibBaseError, JoseError, httpx.HTTPError, ValueError, KeyError, RuntimeError) as exc:
        raise PageError(400, "oidc_failed", type(exc).__name__) from None
    claims = token.get("userinfo") or {}
    actor = await run_in_threadpool(
        sign_in.oidc_actor, store_of(request), claims, settings.resident_claim, settings.account_claim
    )
    if actor is None:
        raise PageError(403, "oidc_unknown")
    next_url = request.session.get(_NEXT, "")
    start_session(request, actor, "oidc")
    return RedirectResponse(safe_next(next_url) or home_of(actor), status_code=303)
