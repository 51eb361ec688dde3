"""The portal's message catalogs: every string of the templates and modules is in both, zh-CN
translates all of them with the same placeholders, and the catalogs load from the .po files."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import guihua.web
from guihua.web import locales

WEB = Path(guihua.web.__file__).parent
METHODS = [
    ("**.py", "python"),
    ("templates/**.html", "jinja2"),
    ("templates/**.txt", "jinja2"),
]
OPTIONS = {pattern: {"extensions": "jinja2.ext.i18n"} for pattern, _ in METHODS if "templates" in pattern}


def extracted() -> set[str | tuple[str, ...]]:
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    found: set[str | tuple[str, ...]] = set()
    for _, _, message, _, _ in extract_from_dir(str(WEB), METHODS, options_map=OPTIONS, keywords=keywords):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def catalog(lang: str):  # type: ignore[no-untyped-def]
    with open(locales.po_path(lang), "rb") as fh:  # type: ignore[arg-type]
        return read_po(fh)


def key(message) -> str | tuple[str, ...]:  # type: ignore[no-untyped-def]
    return message.id if isinstance(message.id, str) else tuple(message.id)


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\((\w+)\)s", text))


def test_every_message_is_in_both_catalogs_and_no_stale_one() -> None:
    wanted = extracted()
    assert len(wanted) > 100
    for lang in ("zh-CN", "en"):
        have = {key(m) for m in catalog(lang) if m.id}
        assert wanted - have == set(), f"{lang}: run `make messages`, then translate"
        assert have - wanted == set(), f"{lang}: stale messages; run `make messages`"


def test_chinese_translates_every_message_with_its_placeholders() -> None:
    for m in catalog("zh-CN"):
        if not m.id:
            continue
        assert not m.fuzzy, m.id
        ids = [m.id] if isinstance(m.id, str) else list(m.id)
        texts = [m.string] if isinstance(m.string, str) else list(m.string)
        assert all(t.strip() for t in texts), f"untranslated: {m.id!r}"
        for text in texts:  # Chinese has one plural form: the plural's placeholders
            assert placeholders(text) == placeholders(ids[-1]), m.id


def test_catalogs_load_from_the_po_files() -> None:
    assert locales.translations("zh-CN").gettext("Sign in") == "登录"
    assert locales.translations("en").gettext("Sign in") == "Sign in"
    assert (
        locales.translations("zh-CN").ngettext("%(num)s rule.", "%(num)s rules.", 3) == "共 %(num)s 条规则。"
    )
