"""The languages a resident can read its documents and notices in: zh-CN (the default) and English.

Residents of a Chinese city read Chinese first, so zh-CN is what a document or a notice is in
unless someone asked for English (``--lang en``, ``?lang=en``, or the language kept with the
resident's contact). Everything that takes a language from outside goes through
:func:`language`, so ``zh``, ``zh_CN`` and ``EN-gb`` all mean what a person meant, and anything
else is refused in one sentence rather than quietly printed in the default.
"""

from __future__ import annotations

from typing import Literal

from guihua.core.errors import InvalidInput

Language = Literal["zh-CN", "en"]
LANGUAGES: tuple[Language, ...] = ("zh-CN", "en")
DEFAULT_LANGUAGE: Language = "zh-CN"
_PRIMARY: dict[str, Language] = {"zh": "zh-CN", "en": "en"}
# What :func:`normalised` understands, as a pattern an API schema can state (any case, - or _).
LANGUAGE_PATTERN = r"^([Zz][Hh]|[Ee][Nn])([-_][A-Za-z0-9]{1,8})*$"


def normalised(value: str | None) -> Language | None:
    """The supported language ``value`` names (``zh``, ``zh_CN``, ``zh-Hans``, ``en-GB``...), else None."""
    if value is None:
        return None
    tag = value.strip().replace("_", "-").lower()
    if not tag:
        return None
    return _PRIMARY.get(tag.split("-", 1)[0])


def language(value: str | None, what: str = "--lang") -> Language:
    """``value`` as a supported language; absent means zh-CN; anything else is refused."""
    if value is None or not value.strip():
        return DEFAULT_LANGUAGE
    found = normalised(value)
    if found is None:
        raise InvalidInput(f"{what} {value[:40]!r}: choose zh-CN (the default) or en")
    return found


def primary(tag: str) -> str:
    """The primary subtag (``zh`` of ``zh-CN``): how a catalog's translation for ``zh`` still serves zh-CN."""
    return tag.replace("_", "-").split("-", 1)[0].lower()
