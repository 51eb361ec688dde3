"""The portal's languages: zh-CN by default and English, from Babel message catalogs.

Which language a page speaks: ``?lang=en`` or ``?lang=zh-CN`` on any page (then remembered in
the ``guihua_lang`` cookie for a year), else that cookie, else the browser's
``Accept-Language`` (the first language it prefers that the portal speaks), else zh-CN: most
residents read Chinese, and a phone set to English says so itself.

Messages live in ``locale/{zh_CN,en}/LC_MESSAGES/portal.po`` (the English text is the msgid).
They are compiled in memory from the ``.po`` files when first used, so a fresh clone, an
editable install and a wheel all speak without a build step, and no compiled ``.mo`` can be
older than its ``.po``. ``make messages`` re-extracts the templates' strings into
``locale/portal.pot`` and merges them into both catalogs; ``tests/web/test_i18n.py`` fails when
a string of a template is missing from a catalog or untranslated in zh-CN.
"""

from __future__ import annotations

import io
from functools import cache
from importlib.resources import files

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from starlette.requests import Request

from guihua.core.languages import DEFAULT_LANGUAGE, Language, normalised

LANG_COOKIE = "guihua_lang"
LANG_COOKIE_DAYS = 365
DOMAIN = "portal"
_LOCALE_DIR: dict[Language, str] = {"zh-CN": "zh_CN", "en": "en"}


def N_(message: str) -> str:
    """Marks a msgid in Python for extraction (``make messages``); it is translated where shown."""
    return message


def known(value: str | None) -> Language | None:
    """The portal's spelling of a language tag it speaks (``zh``, ``zh_cn``, ``EN-gb``...), or None."""
    return normalised(value[:40]) if value else None


def from_accept_language(header: str | None) -> Language | None:
    """The language the browser prefers most among those the portal speaks (q-values honoured)."""
    ranked: list[tuple[float, int, Language]] = []
    for position, part in enumerate((header or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        lang = known(tag)
        if lang is not None and quality > 0:
            ranked.append((-quality, position, lang))
    return min(ranked)[2] if ranked else None


def language(request: Request) -> Language:
    """The language of the page answering ``request``: ``?lang=``, the cookie, Accept-Language, zh-CN."""
    return (
        known(request.query_params.get("lang"))
        or known(request.cookies.get(LANG_COOKIE))
        or from_accept_language(request.headers.get("accept-language"))
        or DEFAULT_LANGUAGE
    )


def asked_language(request: Request) -> Language | None:
    """The language ``?lang=`` asked for (to be remembered in the cookie), or None."""
    return known(request.query_params.get("lang"))


def po_path(lang: Language) -> str:
    return str(files("guihua.web") / "locale" / _LOCALE_DIR[lang] / "LC_MESSAGES" / f"{DOMAIN}.po")


@cache
def translations(lang: Language) -> Translations:
    """The compiled catalog of ``lang`` (fuzzy entries are left out, as msgfmt leaves them)."""
    with open(po_path(lang), "rb") as fh:
        catalog = read_po(fh, locale=_LOCALE_DIR[lang], domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)
