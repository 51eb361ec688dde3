"""A resident's report as one self-contained HTML page (styles inline, printable).

The template ships inside the package (``templates/report.html.j2``) and is rendered with
autoescaping on: record fields, reasons and names come from departments and people, and must
never become markup in the page a clerk opens.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, Template

from guihua.core.results import SubjectReport
from guihua.documents import report_text

TEMPLATE = "report.html.j2"


@cache
def _template() -> Template:
    env = Environment(
        loader=PackageLoader("guihua.documents", "templates"),
        autoescape=True,  # every template, whatever its name ends with
        undefined=StrictUndefined,  # a misspelt field fails the render instead of printing nothing
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        text=report_text,
        fields_text=report_text.fields_text,
        shown=report_text.shown,
        status_text=report_text.status_text,
        caps_text=report_text.caps_text,
        deliveries_text=report_text.deliveries_text,
        points_text=report_text.points_text,
        stamp_text=report_text.stamp_text,
    )
    return env.get_template(TEMPLATE)


def render(report: SubjectReport) -> str:
    """The page's HTML text (UTF-8 when written)."""
    return _template().render(r=report)
