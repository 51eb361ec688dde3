"""The simulation and fairness reports as self-contained HTML pages (figures inline as SVG).

Both render the plain JSON objects their use cases answer (``guihua simulate --json``,
``guihua report fairness --json``), so the page and the JSON say the same thing. Templates ship
in the package (``templates/simulation.html.j2``, ``fairness.html.j2``, shared parts in
``_batch.html.j2``) with autoescaping on: group names are values departments sent.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, Template

from guihua.documents import figures


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("guihua.documents", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _template(name: str) -> Template:
    return _environment().get_template(name)


def render_simulation(summary: dict[str, Any]) -> str:
    """The simulation report: summary, catalog changes, winners and losers, rules, groups, fairness."""
    drawn = {
        "buckets": figures.buckets(summary["buckets"]),
        "histogram": figures.score_histogram(summary["histogram"]["before"], summary["histogram"]["after"]),
        "groups": figures.changes_by_group(summary["by_group"], summary["dimensions"]),
    }
    return _template("simulation.html.j2").render(s=summary, figures=drawn)


def render_fairness(report: dict[str, Any]) -> str:
    """The fairness audit: flagged disparities, mean score by group, every group's figures."""
    drawn = figures.mean_by_group(report["rows"], report["dimensions"], report["base"])
    return _template("fairness.html.j2").render(f=report, figure_groups=drawn)
