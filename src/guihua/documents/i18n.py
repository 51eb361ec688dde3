"""The fixed sentences of documents and notices, in each language: Babel message catalogs.

Every sentence a resident reads that is not the catalog's (rules, metrics and departments have
their words in the catalog, see :meth:`guihua.core.catalog.CatalogItem.text`) is an English
message id marked ``_("...")`` or ``n_("...", "...", n)`` in ``documents/`` and its templates,
translated in ``documents/locale/{zh_CN,en}/LC_MESSAGES/documents.po`` (domain ``documents``).

The ``.po`` files are read at run time (parsed with :func:`babel.messages.pofile.read_po` and
compiled in memory, once per process and language), not compiled to ``.mo`` files: the ``.po``
is the one source, a fresh clone needs no build step (``make venv`` is the whole set-up), and a
translator's edit shows on the next run. A message missing from a catalog falls back to its
English id; ``tests/documents/test_translations.py`` makes sure none is missing.

Placeholders are ``str.format`` names (``{points}``), the same in Python and in templates.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guihua.core.languages import Language

if TYPE_CHECKING:
    from babel.support import Translations

DOMAIN = "documents"
LOCALE_DIR = Path(__file__).parent / "locale"
_FOLDER: dict[Language, str] = {"zh-CN": "zh_CN", "en": "en"}


def po_path(lang: Language) -> Path:
    """The message catalog of ``lang``."""
    return LOCALE_DIR / _FOLDER[lang] / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(lang: Language) -> Translations:
    """The compiled messages of ``lang`` (fuzzy entries are not used: a guess is not a translation).

    Babel is imported here, on the first document made, not when a command starts.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    with po_path(lang).open("rb") as fh:
        catalog = read_po(fh, locale=_FOLDER[lang], domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


class Translator:
    """``_`` and ``n_`` of one language, formatting their placeholders (``_("{n} days", n=3)``)."""

    def __init__(self, lang: Language) -> None:
        self.lang: Language = lang
        self._messages = translations(lang)

    def _(self, message: str, **values: Any) -> str:
        """``message`` in this language, with ``values`` put in its ``{placeholders}``."""
        text: str = self._messages.gettext(message)
        return text.format(**values) if values else text

    def n_(self, singular: str, plural: str, n: int, **values: Any) -> str:
        """The form for ``n`` (Chinese has one, English two), ``n`` itself available as ``{n}``."""
        text: str = self._messages.ngettext(singular, plural, n)
        return text.format(n=n, **values)
