"""Mounting the portal into the service: sessions, static files, the pages' routers, error pages.

:func:`install` is called by :func:`guihua.http.service.create_app` before the service's own
middleware (so the security headers and rate limits stay outermost). The API is unchanged:
its paths keep their problem documents and never see a session.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from guihua.core.errors import GuihuaError
from guihua.web.csrf import check_csrf
from guihua.web.page_errors import PageError, SignInNeeded
from guihua.web.sessions import PortalSessions, session_secret

Handler = Callable[[Request, Exception], Awaitable[Response]]
API_PREFIXES = ("/api/", "/openapi.json")


def portal_router() -> APIRouter:
    """A router for pages: HTML answers, no OpenAPI entry, and the CSRF check on every POST."""
    return APIRouter(
        dependencies=[Depends(check_csrf)], default_response_class=HTMLResponse, include_in_schema=False
    )


class _LazySessions:
    """The session middleware, its key read (or made) on the first page, not at start-up: the API
    serves even where the key folder cannot be written, and a page then says what is wrong."""

    def __init__(self, app: ASGIApp, keys: Path) -> None:
        self.app, self.keys = app, keys
        self._inner: PortalSessions | None = None
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._inner is None:
            with self._lock:
                if self._inner is None:
                    self._inner = PortalSessions(self.app, session_secret(self.keys))
        await self._inner(scope, receive, send)


def install(app: FastAPI, keys: Path) -> None:
    """Add the portal to ``app``: ``/``, ``/stats``, ``/verify``, ``/login``, ``/docs``, ``/static``."""
    from guihua.web import (
        counter_pages,
        department_pages,
        docs_pages,
        login_pages,
        me_pages,
        oidc_login,
        public_pages,
        review_pages,
        verify_pages,
    )

    # innermost, whenever it is called: the security headers and rate limits stay outside it
    app.user_middleware.append(Middleware(_LazySessions, keys=keys))
    app.state.sign_in_limit = login_pages.sign_in_limit()
    oidc_login.configure(app.state)
    pages = (public_pages, verify_pages, login_pages, oidc_login, docs_pages, me_pages)
    staff = (counter_pages, department_pages, review_pages)
    for module in (*pages, *staff):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(packages=[("guihua.web", "static")]), name="static")
    app.add_exception_handler(PageError, _on_page_error)
    app.add_exception_handler(SignInNeeded, _on_sign_in_needed)
    for kind in (StarletteHTTPException, GuihuaError, RequestValidationError):
        app.add_exception_handler(kind, _page_or(app.exception_handlers[kind]))


def wants_page(request: Request) -> bool:
    """Whether an error should be answered with a page: a browser asking outside the API."""
    path = request.url.path
    return not path.startswith(API_PREFIXES) and "text/html" in request.headers.get("accept", "")


async def _on_page_error(request: Request, exc: Exception) -> Response:
    from guihua.web.rendering import error_page

    assert isinstance(exc, PageError)
    return error_page(request, exc)


async def _on_sign_in_needed(request: Request, exc: Exception) -> Response:
    from urllib.parse import urlencode

    assert isinstance(exc, SignInNeeded)
    return RedirectResponse(f"/login?{urlencode({'next': exc.next_url})}", status_code=303)


_KIND_OF_STATUS = {
    403: "forbidden",
    404: "not_found",
    405: "not_found",
    413: "too_large",
    429: "rate_limited",
}


def _page_or(api: Any) -> Handler:
    """The API's own handler for API paths and programs; an error page for browsers elsewhere."""

    async def handle(request: Request, exc: Exception) -> Response:
        if not wants_page(request):
            answer: Response = await api(request, exc)
            return answer
        from guihua.web.rendering import error_page

        if isinstance(exc, StarletteHTTPException):
            status = exc.status_code
            error = PageError(status, _KIND_OF_STATUS.get(status, "error"))
        elif isinstance(exc, GuihuaError):
            error = PageError(exc.status, _KIND_OF_STATUS.get(exc.status, "error"), exc.message)
        else:
            error = PageError(422, "invalid")
        return error_page(request, error)

    return handle
