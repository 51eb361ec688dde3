"""A resident's report as one self-contained HTML page (styles inline, printable, read on a phone).

The template ships inside the package (``templates/report.html.j2``) and is rendered with
autoescaping on: record fields, reasons and names come from departments and people, and must
never become markup in the page a clerk or a resident opens. Its fixed sentences are
``_("...")`` calls answered by the reader's :class:`~guihua.documents.words.Words` (Babel
catalogs, :mod:`guihua.documents.i18n`); its names of rules and metrics come from the catalog.
"""

from __future__ import annotations

import re
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from markupsafe import Markup, escape

from guihua.core.results import SubjectReport
from guihua.documents import report_text
from guihua.documents.words import Words

TEMPLATE = "report.html.j2"
# Dates (2026-03-01), times and codes with hyphens (TRF-YIELD, ABCD-EFGH-JKMN): a browser may break
# a line after any hyphen, which on a phone cuts "2026-03-" from "01". These stay on one line.
_UNBREAKABLE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?|\b[A-Z0-9]+(?:-[A-Z0-9]+)+\b")


def keep_whole(value: object) -> Markup:
    """``value`` escaped, with its dates and hyphenated codes kept whole (``| keep`` in the template)."""
    escaped = str(escape(str(value)))
    return Markup(_UNBREAKABLE.sub(lambda m: f'<span class="nb">{m.group(0)}</span>', escaped))


@cache
def _template() -> Template:
    env = Environment(
        loader=PackageLoader("guihua.documents", "templates"),
        autoescape=True,  # every template, whatever its name ends with
        undefined=StrictUndefined,  # a misspelt field fails the render instead of printing nothing
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(text=report_text)
    env.filters["keep"] = keep_whole
    return env.get_template(TEMPLATE)


def render(report: SubjectReport, words: Words) -> str:
    """The page's HTML text (UTF-8 when written), in ``words``' language."""
    return _template().render(r=report, w=words, _=words._, n_=words.n_)
