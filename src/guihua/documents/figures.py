"""Figures for the batch reports, drawn with matplotlib as inline SVG (no file, no asset from the web).

Text is drawn as paths (``svg.fonttype: path``), so a group's name (a department's value)
never becomes markup in the page, and the ids inside each SVG are salted per figure so
that several figures on one page never share one. matplotlib is imported only here, and only
when a report with figures is rendered.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

BEFORE, AFTER = "#8c9bb0", "#b8860b"  # the report's colours: slate before, osmanthus gold after


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig


def svg(fig: Any, name: str) -> str:
    """The figure as an ``<svg>`` element (XML declaration and doctype dropped)."""
    import matplotlib

    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": f"guihua-{name}"}):
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def score_histogram(before: Sequence[dict[str, int]], after: Sequence[dict[str, int]] | None) -> str:
    """Residents per score bin, before and after side by side (only one series when ``after`` is None)."""
    fig = _figure(8, 3.2)
    ax = fig.add_subplot()
    lows = sorted({b["from"] for b in before} | {b["from"] for b in after or []})
    width = (before[0]["to"] - before[0]["from"]) if before else 10
    series = [("before", before, BEFORE)] + ([("after", after, AFTER)] if after is not None else [])
    bar = width / (len(series) + 0.5)
    for i, (label, bins, colour) in enumerate(series):
        counts = {b["from"]: b["count"] for b in bins}
        xs = [low + bar * (i + 0.25) for low in lows]
        ax.bar(xs, [counts.get(low, 0) for low in lows], width=bar, align="edge", color=colour, label=label)
    ax.set_xlabel("score")
    ax.set_ylabel("residents")
    ax.set_yscale("symlog", linthresh=10)
    if after is not None:
        ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return svg(fig, "histogram")


def buckets(rows: Sequence[dict[str, Any]]) -> str:
    """Residents per bucket of change: losers red, no change grey, winners green."""
    fig = _figure(8, 2.8)
    ax = fig.add_subplot()
    colours = ["#a61b1b" if (r["max"] is not None and r["max"] < 0) else "#777" for r in rows]
    colours = [
        ("#2e7d32" if (r["min"] is not None and r["min"] > 0) else c)
        for r, c in zip(rows, colours, strict=True)
    ]
    ax.bar(range(len(rows)), [r["subjects"] for r in rows], color=colours)
    ax.set_xticks(range(len(rows)), [r["label"] for r in rows], rotation=20, ha="right")
    ax.set_ylabel("residents")
    ax.set_yscale("symlog", linthresh=10)
    ax.spines[["top", "right"]].set_visible(False)
    return svg(fig, "buckets")


def _dimension_axes(
    rows: Sequence[dict[str, Any]], dimensions: Sequence[str], name: str
) -> tuple[Any, list[tuple[Any, str, list[dict[str, Any]]]]]:
    """A figure with one panel per dimension (suppressed cells left out), sharing the x axis."""
    shown = {d: [r for r in rows if r["dimension"] == d and not r.get("suppressed")] for d in dimensions}
    shown = {d: rs for d, rs in shown.items() if rs}
    heights = [max(1.0, 0.28 * len(rs) + 0.6) for rs in shown.values()]
    fig = _figure(8, sum(heights) + 0.3 if heights else 1.0)
    if not shown:
        return fig, []
    axes = fig.subplots(len(shown), 1, squeeze=False, height_ratios=heights, sharex=True)
    panels = []
    for ax, (dimension, rs) in zip(axes[:, 0], shown.items(), strict=True):
        ax.set_yticks(range(len(rs)), [f"{r['group']} ({r['subjects']:,})" for r in rs], fontsize=8)
        ax.invert_yaxis()
        ax.set_title(dimension.replace("_", " "), loc="left", fontsize=9)
        ax.axvline(0, color="#333", linewidth=0.6)
        ax.spines[["top", "right"]].set_visible(False)
        panels.append((ax, dimension, rs))
    return fig, panels


def changes_by_group(rows: Sequence[dict[str, Any]], dimensions: Sequence[str]) -> str:
    """Per group: the share of residents whose score goes up (right, green) and down (left, red)."""
    fig, panels = _dimension_axes(rows, dimensions, "groups")
    for ax, _, rs in panels:
        up = [100 * r["gainers"] / r["subjects"] if r["subjects"] else 0 for r in rs]
        down = [-100 * r["losers"] / r["subjects"] if r["subjects"] else 0 for r in rs]
        ax.barh(range(len(rs)), up, color="#2e7d32")
        ax.barh(range(len(rs)), down, color="#a61b1b")
    if panels:
        panels[-1][0].set_xlabel("% of the group's residents: score lower (left), higher (right)")
    return svg(fig, "groups")


def mean_by_group(rows: Sequence[dict[str, Any]], dimensions: Sequence[str], base: int) -> str:
    """Per group: the mean score's distance from the base."""
    fig, panels = _dimension_axes(rows, dimensions, "fairness")
    for ax, _, rs in panels:
        values = [(r["mean_score"] - base) if r.get("mean_score") is not None else 0 for r in rs]
        ax.barh(range(len(rs)), values, color=["#a61b1b" if v < 0 else AFTER for v in values])
    if panels:
        panels[-1][0].set_xlabel(f"mean score minus the base ({base})")
    return svg(fig, "fairness")
