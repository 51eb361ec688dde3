"""Rendering a page: the Jinja2 templates in the visitor's language, with what every page needs.

:func:`render` gives each template, beside the page's own context:

- ``lang`` (``zh-CN`` or ``en``, for ``<html lang>``), ``switch`` (this page in each language),
- ``actor`` (the signed-in :class:`~guihua.core.policy.Actor` or None) and ``nav`` (the header's links),
- ``csrf_field()`` (the hidden input every form must carry) and ``csrf_token()``,
- ``_``/``gettext``/``ngettext`` from the language's catalog (Jinja2's i18n extension, new style:
  ``{{ _("%(n)s residents", n=count) }}`` escapes its arguments).

Templates compute no rule of the scheme: a page handler calls a use case and passes what it
answered. There is one environment per language, so concurrent pages in two languages never
share a catalog.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from guihua.core.languages import LANGUAGES
from guihua.web import locales
from guihua.web.actors import signed_in
from guihua.web.csrf import CSRF_FIELD, csrf_token
from guihua.web.navigation import links_for
from guihua.web.page_errors import PageError
from guihua.web.sessions import over_tls


@cache
def environment(lang: str) -> Environment:
    """The templates speaking ``lang`` (``.html`` autoescaped; ``.txt`` for e-mails is not)."""
    env = Environment(
        loader=PackageLoader("guihua.web", "templates"),
        autoescape=select_autoescape(["html"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(locales.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    return env


def gettext(lang: str, message: str, **values: Any) -> str:
    """A message of the catalog in ``lang`` outside a template (``%(name)s`` placeholders filled)."""
    text = locales.translations(lang).gettext(message)
    return text % values if values else text


def switch_url(request: Request, lang: str) -> str:
    """This page (same path and query) in ``lang``: the language switch's link."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", lang)]
    return f"{request.url.path}?{urlencode(params)}"


def is_htmx(request: Request) -> bool:
    """Whether htmx asked (``HX-Request``): then a page answers only the part it swaps."""
    return request.headers.get("hx-request") == "true"


def page_context(request: Request) -> dict[str, Any]:
    """What every template may use (see the module's docstring)."""
    actor = signed_in(request)

    def field() -> Markup:
        return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, csrf_token(request))

    return {
        "lang": locales.language(request),
        "languages": LANGUAGES,
        "switch": {lang: switch_url(request, lang) for lang in LANGUAGES},
        "actor": actor,
        "nav": links_for(actor),
        "path": request.url.path,
        "csrf_field": field,
        "csrf_token": lambda: csrf_token(request),
    }


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The page ``template`` in the visitor's language; remembers ``?lang=`` in a cookie."""
    ctx = page_context(request)
    html = environment(ctx["lang"]).get_template(template).render({**ctx, **(context or {})})
    response = HTMLResponse(html, status_code=status, headers=headers)
    asked = locales.asked_language(request)
    if asked is not None:
        response.set_cookie(
            locales.LANG_COOKIE,
            asked,
            max_age=locales.LANG_COOKIE_DAYS * 86400,
            path="/",
            httponly=True,
            samesite="lax",
            secure=over_tls(request.scope),
        )
    response.headers["cache-control"] = "no-store"  # pages carry a CSRF token and maybe a resident's data
    response.headers.append("vary", "Accept-Language, HX-Request")
    return response


def render_text(lang: str, template: str, context: dict[str, Any]) -> str:
    """A plain-text template (an e-mail) in ``lang``."""
    return environment(lang).get_template(template).render(context)


def error_page(request: Request, error: PageError) -> HTMLResponse:
    """The page of an error, in words (``error.html`` says what happened and what to do)."""
    headers = {"retry-after": str(error.retry_after)} if error.retry_after else None
    return render(
        request,
        "error.html",
        {"status": error.status, "kind": error.kind, "detail": error.detail},
        status=error.status,
        headers=headers,
    )
