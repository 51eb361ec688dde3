"""Human-readable output with Rich; JSON output is printed as it is.

Rich is imported on first use, not at start: ``guihua --help`` and a ``--json`` lookup never
pay for it. ``render.console`` (stdout) and ``render.err`` (stderr) are made when first asked for.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from guihua.core.catalog import Catalog, Department
    from guihua.core.results import Distribution, Explanation, PerkEligibility, Score


@cache
def _out() -> Console:
    from rich.console import Console

    return Console(highlight=False, width=None if Console().is_terminal else 160)


@cache
def _err() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def __getattr__(name: str) -> Any:
    """``render.console`` and ``render.err``, made on first use."""
    if name == "console":
        return _out()
    if name == "err":
        return _err()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def progress() -> Progress:
    """A progress bar on stderr for long work; nothing when stderr is not a terminal."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    err = _err()
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


@contextmanager
def working(what: str) -> Iterator[None]:
    """A spinner on stderr while ``what`` runs (a whole-city query, a re-match); nothing on a pipe."""
    err = _err()
    if not err.is_terminal:
        yield
        return
    with err.status(what, spinner="dots"):
        yield


def print_json(obj: Any) -> None:
    """Exactly one JSON object on stdout, nothing else."""
    print(json.dumps(obj, ensure_ascii=False, default=str))


def _yes(flag: bool) -> str:
    return "[green]yes[/]" if flag else "[red]no[/]"


def score_line(s: Score) -> None:
    rel = s.score - s.base
    sign = f"{rel:+d}" if rel else "at base"
    tag = "  [bold red]on the defaulter list[/]" if s.defaulter else ""
    _out().print(f"[bold]{s.subject_id}[/] on {s.at}: score [bold]{s.score}[/] ({sign}){tag}")


def explanation(e: Explanation) -> None:
    from rich.table import Table

    score_line(e.score)
    if not e.items:
        _out().print("No records are held for this resident: the score is the base.")
        return
    table = Table(title="Records behind the score", show_lines=False)
    for col in (
        "Department",
        "Metric",
        "Occurred",
        "Rule",
        "Points",
        "Category",
        "From",
        "Until",
        "Status",
        "Caps bit",
    ):
        table.add_column(col)
    for i in e.items:
        table.add_row(
            i.department,
            i.metric,
            i.occurred_at,
            i.rule_id or "-",
            f"{i.points:+d}" if i.rule_id else "-",
            i.category or "-",
            i.start or "-",
            i.end or ("open" if i.rule_id else "-"),
            i.status,
            ", ".join(i.caps_bit) or "-",
        )
    _out().print(table)
    bases = {(i.rule_id, i.rule_legal_basis) for i in e.items if i.rule_id}
    if bases:
        _out().print("[bold]Legal basis of each rule applied[/]")
        for rule_id, basis in sorted(bases, key=lambda b: str(b[0])):
            _out().print(f"  {rule_id}: {basis}")
    depts = {(i.department, i.department_legal_basis) for i in e.items}
    _out().print("[bold]Data-sharing agreements[/]")
    for code, basis in sorted(depts):
        _out().print(f"  {code}: {basis}")
    for lst in e.listings:
        state = "open" if lst["open"] else "closed"
        resolved = f", resolved {lst['resolved_at']}" if lst["resolved_at"] else ""
        _out().print(
            f"Listing {lst['metric']} case {lst['case_id']}: listed {lst['listed_at']}{resolved} ({state})"
        )


def perks(s: Score, items: list[PerkEligibility]) -> None:
    from rich.table import Table

    score_line(s)
    table = Table(title="Perks")
    for col in ("Perk", "Provider", "Eligible", "Why", "Benefit"):
        table.add_column(col)
    for p in items:
        table.add_row(p.name or p.perk, p.provider, _yes(p.eligible), p.reason, p.benefit)
    _out().print(table)


def catalog(c: Catalog, version: int | None) -> None:
    from rich.table import Table

    from guihua.core.record_format import record_formats

    s = c.scheme
    label = f"version {version}" if version else "packaged default (not yet stored)"
    _out().print(
        f"[bold]{s.name}[/] ({label}): base {s.base}, range {s.min}-{s.max}, "
        f"at most {s.max_points_per_record} points per record, retention {s.retention_years} years, "
        f"days in {s.timezone}"
    )
    cats = Table(title="Categories (yearly caps)")
    for col in ("Code", "Name", "Max gain/yr", "Max loss/yr"):
        cats.add_column(col)
    for cat in c.categories:
        cats.add_row(cat.code, cat.name, _cap(cat.max_gain_per_year), _cap(cat.max_loss_per_year))
    _out().print(cats)
    depts = Table(title="Departments and their data-sharing agreements")
    for col in ("Code", "Name", "Metrics", "Agreement", "Legal basis"):
        depts.add_column(col)
    for d in c.departments:
        depts.add_row(d.code, d.name, ", ".join(d.metrics), _agreement(d), d.legal_basis)
    _out().print(depts)
    metrics = Table(title="Metrics: what a department sends (`guihua catalog template METRIC` for a file)")
    for col in (
        "Code",
        "Kind",
        "Category",
        "Sent by",
        "Fields (after source_id, subject_id, metric, occurred_at)",
    ):
        metrics.add_column(col)
    for f in record_formats(c):
        own = ", ".join(f"{col.name}: {col.type}" for col in f.columns[4:]) or "none"
        kind = f.kind + (" (protected: audits only)" if f.protected else "")
        metrics.add_row(f.code, kind, f.category or "-", ", ".join(f.departments) or "nobody", own)
    _out().print(metrics)
    rules = Table(title="Rules (first match wins)")
    for col in ("Id", "Metric", "When", "Points", "Valid", "Notice", "Effective", "Legal basis"):
        rules.add_column(col)
    for r in c.rules:
        when = ", ".join(f"{f} {op} {v}" for f, op, v in r.conditions()) or "always"
        eff = f"{r.effective_from}" + (f" to {r.effective_to}" if r.effective_to else " on")
        rules.add_row(
            r.id + (f"\n{r.name}" if r.name else ""),  # the words residents read, under the id
            r.metric,
            when,
            f"{r.points:+d}",
            f"{r.valid_days} d" if r.valid_days else "no expiry",
            f"{r.notice_days} d",
            eff,
            r.legal_basis,
        )
    _out().print(rules)
    perks_t = Table(title="Perks")
    for col in ("Code", "Name", "Provider", "Min score", "Clean record", "Consent", "Benefit"):
        perks_t.add_column(col)
    for p in c.perks:
        perks_t.add_row(
            p.code,
            p.name,
            p.provider,
            str(p.min_score),
            _yes(p.clean_record_required),
            _yes(p.consent_required),
            p.benefit,
        )
    _out().print(perks_t)


def _agreement(d: Department) -> str:
    a = d.agreement
    span = f"{a.valid_from or 'always'} to {a.valid_to or 'open'}"
    every = f", every {a.frequency_days} d" if a.frequency_days else ""
    return f"{a.status}, {span}{every}"


def _cap(value: int | None) -> str:
    return "no cap" if value is None else str(value)


def distribution(d: Distribution) -> None:
    from rich.table import Table

    n = d.subjects or 1
    _out().print(f"[bold]Score distribution on {d.at}[/] ({d.subjects:,} residents with records)")
    t = Table()
    for col in ("", "Residents", "Share"):
        t.add_column(col, justify="right")
    for label, value in (
        (f"above {d.base}", d.above),
        (f"at {d.base}", d.at_base),
        (f"below {d.base}", d.below),
        ("defaulters", d.defaulters),
        ("below base and defaulters", d.below_and_defaulter),
    ):
        t.add_row(label, f"{value:,}", f"{100 * value / n:.3f}%")
    _out().print(t)
    peak = max((b["count"] for b in d.histogram), default=1)
    for b in d.histogram:
        bar = "█" * max(1, round(40 * b["count"] / peak))
        _out().print(f"  {b['from']:>3}-{b['to'] - 1:<3} {bar} {b['count']:,}")
