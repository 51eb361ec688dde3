"""``guihua simulate`` (a what-if simulation of a proposed catalog) and ``guihua report fairness``.

Both are whole-population analysis for the centre's analysts and auditors, both are audited,
and neither changes anything stored: a simulation reads the store through a read-only
connection (see :mod:`guihua.usecases.simulation`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from guihua.cli import render
from guihua.cli.options import At, Db, Json, at_date

if TYPE_CHECKING:
    from guihua.core.errors import CatalogRefused

Public = Annotated[
    bool,
    typer.Option(
        "--public",
        help="Fit for publication: groups of fewer than 10 residents (and their complements) suppressed.",
    ),
]


def register(app: typer.Typer, report_app: typer.Typer) -> None:
    app.command("simulate")(simulate_cmd)
    report_app.command("fairness")(fairness_cmd)


def simulate_cmd(
    catalog: Annotated[Path, typer.Option("--catalog", help="The proposed catalog (YAML).")],
    at: At = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="duckdb (in-process, over the records' columnar copy), sql (the store's own SQL, "
            "for a check: it re-reads the records) or spark (PySpark, the extra guihua[spark]; "
            "local[2] unless --spark-master). Only the records whose match the proposal changes "
            "are matched again.",
        ),
    ] = "duckdb",
    spark_master: Annotated[
        str | None,
        typer.Option(
            "--spark-master",
            help="A Spark cluster's master, spark://HOST:PORT (with --engine spark).",
            show_default=False,
        ),
    ] = None,
    work_dir: Annotated[
        Path | None,
        typer.Option(
            "--work-dir",
            help="Folder for the records' re-matched Parquet copies (default: a temporary one); on a "
            "Spark cluster, shared storage every executor reads at the same path.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the report as HTML (figures inline).")
    ] = None,
    changes: Annotated[
        Path | None,
        typer.Option("--changes", help="Write one row per resident who changes (.csv or .parquet)."),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", help="Compare with this proposal instead of the active catalog."),
    ] = None,
    public: Public = False,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Re-score every resident under a proposed catalog and report who wins and who loses.

    Nothing stored changes (the store is opened read-only); the run is audited. A proposal that
    fails validation is refused with every problem listed, as catalog load refuses it.
    """
    from guihua.core.errors import CatalogRefused
    from guihua.store.database import open_store
    from guihua.usecases import simulation

    simulation.check_engine(engine, spark_master)
    proposal_text = _read(catalog)
    baseline_text = _read(baseline) if baseline is not None else None
    if out is not None:
        _check_html(out)
    if changes is not None:
        simulation.check_changes_path(changes)
    store = open_store(db, create=False)
    try:
        with render.working(f"re-scoring every resident under {catalog.name} on {engine}"):
            result = simulation.simulate(
                store,
                proposal_text,
                baseline_text=baseline_text,
                at=at_date(at),
                engine=engine,
                spark_master=spark_master,
                work_dir=work_dir,
                public=public,
                changes_out=changes,
                keep_tables=False,  # the changes are streamed to their file; a city's may be millions
            )
    except CatalogRefused as refused:
        _refused(refused, as_json)
    s = result.summary
    if out is not None:
        from guihua.documents import simulation_html

        _write(out, simulation_html.render_simulation(s))
    if as_json:
        render.print_json(s)
        return
    _print_summary(s)
    if changes is not None:
        render.console.print(f"wrote {s['changed']:,} residents who change to {changes}", markup=False)
    if out is not None:
        render.console.print(f"wrote the report to {out}", markup=False)


def fairness_cmd(
    at: At = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the audit as HTML (figures inline).")
    ] = None,
    public: Public = False,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """The fairness audit: by district, sex, age band and protected attribute, each group's scores,
    defaulters and perk eligibility with its ratio to the most favoured group (audited)."""
    from guihua.store.database import open_store
    from guihua.usecases import fairness

    if out is not None:
        _check_html(out)
    with render.working("scoring every resident and grouping them"):
        report = fairness.fairness_report(open_store(db, create=False), at_date(at), public=public)
    if out is not None:
        from guihua.documents import simulation_html

        _write(out, simulation_html.render_fairness(report))
    if as_json:
        render.print_json(report)
        return
    render.console.print(
        f"fairness audit at {report['at']}: {report['subjects']:,} residents, "
        f"{len(report['rows'])} groups in {len(report['dimensions'])} dimensions",
        markup=False,
    )
    _print_flags("flagged disparities", report["flags"])
    if out is not None:
        render.console.print(f"wrote the audit to {out}", markup=False)


# --------------------------------------------------------------------------- helpers


def _read(path: Path) -> str:
    from guihua.core.errors import InvalidInput

    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None


def _check_html(out: Path) -> None:
    from guihua.core.errors import CannotWrite, InvalidInput

    if out.suffix.lower() not in (".html", ".htm"):
        raise InvalidInput(f"cannot write {out.name}: --out takes an .html file name")
    if not out.parent.exists():
        raise CannotWrite(f"cannot write {out}: folder {out.parent} does not exist")


def _write(out: Path, text: str) -> None:
    from guihua.core.errors import CannotWrite

    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CannotWrite(f"cannot write {out}: {exc.strerror or exc}") from None


def _refused(refused: CatalogRefused, as_json: bool) -> NoReturn:
    """As ``catalog load`` prints a refused catalog: a count on one line, then every problem."""
    if as_json:
        render.print_json({"error": refused.code, "detail": refused.message, "problems": refused.problems})
    render.err.print(f"[red]catalog refused[/]: {len(refused.problems)} problem(s); nothing was simulated")
    for p in refused.problems:
        render.err.print(f"  - {p}", markup=False)
    raise typer.Exit(2) from None


def _print_summary(s: dict[str, Any]) -> None:
    say = render.console.print
    b = s["baseline"]
    against = (
        f"active catalog version {b['catalog_version']}"
        if b["kind"] == "active" and b["catalog_version"] is not None
        else "the packaged default"
        if b["kind"] == "active"
        else f"baseline {b['name']}"
    )
    say(
        f"simulated {s['proposal']['name']} against {against} at {s['at']}: "
        f"{s['subjects']:,} residents, {s['changed']:,} change",
        markup=False,
    )
    say(
        f"  score higher {s['gainers']:,}, lower {s['losers']:,}; mean {s['mean_score_before']} -> "
        f"{s['mean_score_after']}",
        markup=False,
    )
    say("  " + " | ".join(f"{x['label']}: {x['subjects']:,}" for x in s["buckets"]), markup=False)
    c = s["crossings"]
    say(
        f"  fall below base {c['falls_below_base']:,}, back to base {c['rises_to_base']:,}; "
        f"become defaulters {c['becomes_defaulter']:,}, stop {c['stops_defaulter']:,}",
        markup=False,
    )
    for code, p in s["perks"].items():
        say(f"  perk {code}: gained {p['gained']:,}, lost {p['lost']:,}", markup=False)
    for r in [r for r in s["rules"] if r["change"]][:10]:
        say(
            f"  rule {r['rule_id']} ({r['rule']}): {r['points_before']:,} -> {r['points_after']:,} points",
            markup=False,
        )
    _print_flags("flagged disparities under the proposal", s["flags"]["after"])


def _print_flags(title: str, flags: list[dict[str, Any]]) -> None:
    if not flags:
        render.console.print(f"  {title}: none", markup=False)
        return
    render.console.print(f"  {title}:", markup=False)
    for f in flags:
        render.console.print(
            f"    {f['perk']} for {f['dimension']} {f['group']}: rate {f['rate']:.1%}, "
            f"ratio {f['ratio']:.2f} (at most {f['ratio_interval'][1]:.2f})",
            markup=False,
        )
