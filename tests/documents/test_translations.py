"""The message catalogs of documents and notices: every sentence marked in the code is translated.

The English ids in ``documents/`` and its templates are extracted as ``pybabel extract`` would
(``documents/locale/babel.cfg``); each catalog must hold every one, translated (no empty or fuzzy
entry), with the same ``{placeholders}``, and nothing the code no longer says.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from guihua.core.languages import LANGUAGES, Language
from guihua.documents import i18n

DOCUMENTS = Path(i18n.__file__).parent
METHODS = [("**.py", "python"), ("templates/**.j2", "jinja2")]
KEYWORDS = {"_": None, "n_": (1, 2)}
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def marked() -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(DOCUMENTS), METHODS, keywords=KEYWORDS, comment_tags=()
    ):
        found.add(message if isinstance(message, str) else (message[0], message[1]))
    return found


def test_messages_are_found_in_code_and_templates() -> None:
    found = marked()
    assert "Report on a resident's data" in found  # Python
    assert "Records: what each one did to the score, and why" in found  # the template
    assert ("{n} point", "{n} points") in found  # plural forms


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_is_translated(lang: Language) -> None:
    with i18n.po_path(lang).open("rb") as fh:
        catalog = read_po(fh)
    entries = {m.id: m for m in catalog if m.id}
    ids = {k if isinstance(k, str) else (k[0], k[1]) for k in entries}
    code = marked()
    assert sorted(map(str, code - ids)) == [], "marked in the code, missing from the catalog"
    assert sorted(map(str, ids - code)) == [], "in the catalog, no longer in the code"
    for key, entry in entries.items():
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        assert all(strings) and not entry.fuzzy, key
        wanted = set(PLACEHOLDER.findall(" ".join(key if isinstance(key, tuple) else (key,))))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == wanted, (key, string)


def test_catalogs_are_read_at_run_time() -> None:
    """No compiled .mo file is kept or needed: the .po is the one source."""
    assert not list(DOCUMENTS.glob("locale/**/*.mo"))
    assert i18n.Translator("zh-CN")._("Score") == "分数" and i18n.Translator("en")._("Score") == "Score"
