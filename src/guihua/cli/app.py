"""``guihua``: the command line of the credit centre.

Each command parses its options, calls one use case and renders the answer.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from guihua.cli import certificates, due_process, render
from guihua.cli import notices as notices_cli
from guihua.cli import reports as reports_cli
from guihua.cli.options import At, Db, Json, at_date
from guihua.core.errors import CatalogRefused, GuihuaError, InvalidInput
from guihua.store.database import open_store
from guihua.usecases import accounts, audit, catalogs, ingest, scores

app = typer.Typer(
    name="guihua",
    help="Guihua (桂花): a public-credit scheme run fairly. "
    "Every point traces to a record, a rule and its law.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
catalog_app = typer.Typer(help="Load and show the scheme's catalog.", no_args_is_help=True)
export_app = typer.Typer(help="Export data.", no_args_is_help=True)
report_app = typer.Typer(help="Reports on the store.", no_args_is_help=True)


@app.callback()
def _root(db: Db = None) -> None:
    """Guihua (桂花): a public-credit scheme run fairly.

    Every point traces to a department's record, a published rule and its legal basis.
    """
    if db:  # `guihua --db X score ...` works like `guihua score ... --db X`
        os.environ["GUIHUA_DB"] = db


accounts_app = typer.Typer(
    help="Accounts and roles of the service (tokens are shown once).", no_args_is_help=True
)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
app.add_typer(audit_app, name="audit")
app.add_typer(catalog_app, name="catalog")
app.add_typer(export_app, name="export")
app.add_typer(report_app, name="report")
app.add_typer(due_process.objections_app, name="objections")
app.add_typer(certificates.certificate_app, name="certificate")
app.add_typer(notices_cli.notices_app, name="notices")
app.add_typer(notices_cli.contacts_app, name="contacts")
app.command("defaulters")(due_process.defaulters_cmd)
app.command("purge")(due_process.purge_cmd)
report_app.command("subject")(reports_cli.subject_report_cmd)


def progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=render.err,
        transient=True,
        disable=not render.err.is_terminal,
    )


# --------------------------------------------------------------------------- catalog


@catalog_app.command("load")
def catalog_load(file: Annotated[Path, typer.Argument(help="Catalog YAML file.")], db: Db = None) -> None:
    """Validate a catalog and make it the active one; stored records are re-matched."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {file}: {getattr(exc, 'strerror', None) or exc}") from None
    store = open_store(db)
    try:
        result = catalogs.load_catalog(store, text)
    except CatalogRefused as refused:
        render.err.print(f"[red]catalog refused[/]: {len(refused.problems)} problem(s); nothing was changed")
        for p in refused.problems:
            render.err.print(f"  - {p}", markup=False)
        raise typer.Exit(2) from None
    if result.unchanged:
        render.console.print(f"catalog unchanged: identical to active version {result.version}")
    else:
        render.console.print(
            f"catalog version {result.version} ({result.catalog.scheme.name}) is active; "
            f"{result.rematched:,} stored records re-matched"
        )


@catalog_app.command("show")
def catalog_show(db: Db = None, as_json: Json = False) -> None:
    """Print the active scheme: categories and caps, rules with points, validity and legal basis, perks."""
    store = open_store(db)
    with store.begin() as conn:
        active = catalogs.active_catalog(conn)
    if as_json:
        render.print_json({"version": active.version, **active.catalog.model_dump(mode="json")})
    else:
        render.catalog(active.catalog, active.version)


@catalog_app.command("versions")
def catalog_versions(db: Db = None) -> None:
    """List every catalog version ever loaded."""
    for version, name, loaded, digest in catalogs.catalog_versions(open_store(db)):
        render.console.print(f"{version:>4}  {loaded}  {digest}  {name}")


# --------------------------------------------------------------------------- records


@app.command("ingest")
def ingest_cmd(
    file: Annotated[Path, typer.Argument(help="CSV, JSON Lines (.jsonl) or Parquet file.")],
    department: Annotated[str, typer.Option("--department", "-d", help="Submitting department code.")],
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Take in a department's records; rejected rows go to quarantine with their reason."""
    store = open_store(db)
    with progress() as bar:
        task = bar.add_task(f"ingesting {file.name}", total=None)
        result = ingest.ingest_file(store, file, department, on_progress=lambda n: bar.advance(task, n))
    if as_json:
        render.print_json(result.as_dict())
        return
    render.console.print(
        f"{file.name} from {department}: {result.accepted:,} accepted, {result.duplicates:,} duplicates, "
        f"{result.corrected:,} corrected, {result.rejected:,} rejected (submission {result.submission_id})"
    )
    for reason, n in sorted(result.rejected_by_reason.items()):
        render.console.print(f"  rejected {reason}: {n:,}  (see: guihua rejects --department {department})")


@app.command("ingest-manifest")
def ingest_manifest(
    manifest: Annotated[Path, typer.Argument(help="manifest.json listing {file, department} entries.")],
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Ingest every file a manifest lists (as written by `guihua synth`)."""
    entries = _read_manifest(manifest)
    store = open_store(db)
    totals: dict[str, int] = {"accepted": 0, "duplicates": 0, "corrected": 0, "rejected": 0}
    with progress() as bar:
        task = bar.add_task("ingesting", total=len(entries))
        for entry in entries:
            bar.update(task, description=f"ingesting {entry['department']}")
            r = ingest.ingest_file(store, manifest.parent / entry["file"], entry["department"])
            for k in totals:
                totals[k] += getattr(r, k)
            bar.advance(task)
    if as_json:
        render.print_json({**totals, "files": len(entries)})
    else:
        render.console.print(
            f"{len(entries)} files: {totals['accepted']:,} accepted, {totals['duplicates']:,} duplicates, "
            f"{totals['corrected']:,} corrected, {totals['rejected']:,} rejected"
        )


def _read_manifest(path: Path) -> list[dict[str, str]]:
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("file"), str) and isinstance(e.get("department"), str)
            for e in entries
        ):
            raise ValueError('expected a list of {"file", "department"} objects')
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read manifest {path}: {exc}") from None
    return entries


@app.command("rejects")
def rejects_cmd(
    department: Annotated[str | None, typer.Option("--department", "-d")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 1000,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """List quarantined rows with their reasons, so a department can fix and resubmit them."""
    rows = ingest.list_rejects(open_store(db), department, limit)
    if as_json:
        render.print_json({"rejects": rows, "count": len(rows)})
        return
    if not rows:
        render.console.print("no quarantined rows")
    for r in rows:
        render.console.print(
            f"{r['department']} submission {r['submission_id']} line {r['line']}: "
            f"[bold]{r['reason']}[/] - {r['detail']}"
        )
        render.console.print(f"    {r['raw']}", markup=False)


@app.command("retract")
def retract_cmd(
    source_id: Annotated[str, typer.Argument(help="The department's own id of the record.")],
    department: Annotated[str, typer.Option("--department", "-d")],
    db: Db = None,
) -> None:
    """Retract a record: it no longer counts; its history stays."""
    when = ingest.retract(open_store(db), department, source_id)
    render.console.print(f"retracted {source_id} from {department} at {when:%Y-%m-%d %H:%M} UTC")


# --------------------------------------------------------------------------- scores


@app.command("score")
def score_cmd(subject_id: str, at: At = None, db: Db = None, as_json: Json = False) -> None:
    """A resident's score at a date."""
    s = scores.subject_score(open_store(db), subject_id, at_date(at))
    if as_json:
        render.print_json(s.as_dict())
    else:
        render.score_line(s)


@app.command("explain")
def explain_cmd(subject_id: str, at: At = None, db: Db = None, as_json: Json = False) -> None:
    """Every record behind a score: department, rule, points, dates, caps and legal basis."""
    e = scores.explain(open_store(db), subject_id, at_date(at))
    if as_json:
        render.print_json(e.as_dict())
    else:
        render.explanation(e)


@app.command("perks")
def perks_cmd(subject_id: str, at: At = None, db: Db = None, as_json: Json = False) -> None:
    """Each perk with eligible yes/no and the reason."""
    s, items = scores.perks(open_store(db), subject_id, at_date(at))
    if as_json:
        render.print_json({**s.as_dict(), "perks": [vars(p) for p in items]})
    else:
        render.perks(s, items)


@export_app.command("scores")
def export_scores(
    out: Annotated[Path, typer.Option("--out", help="Output .csv or .parquet file.")],
    at: At = None,
    db: Db = None,
) -> None:
    """Write subject_id, score, defaulter for every resident with a current record."""
    n = scores.export_scores(open_store(db), out, at_date(at))
    render.console.print(f"wrote {n:,} scores to {out}")


@report_app.command("distribution")
def report_distribution(at: At = None, db: Db = None, as_json: Json = False) -> None:
    """Above / at / below base, defaulters, and a histogram."""
    d = scores.distribution(open_store(db), at_date(at))
    if as_json:
        render.print_json(d.as_dict())
    else:
        render.distribution(d)


# --------------------------------------------------------------------------- synthetic city


@app.command("synth")
def synth_cmd(
    people: Annotated[int, typer.Option("--people", min=1, max=20_000_000, help="Residents.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    seed: Annotated[int, typer.Option("--seed")] = 1,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Last record date (default: today).")] = None,
) -> None:
    """Write a synthetic city for the default scheme: one Parquet file per department and a manifest."""
    from guihua.usecases.demo import synth_city

    with progress() as bar:
        task = bar.add_task("synthesising residents", total=people)
        manifest = synth_city(people, seed, out, at_date(as_of), lambda n: bar.advance(task, n))
    render.console.print(f"wrote {len(manifest)} department files and manifest.json to {out}")


@app.command("demo")
def demo_cmd(
    people: Annotated[int, typer.Option("--people", min=100)] = 50_000,
    seed: Annotated[int, typer.Option("--seed")] = 1,
    db: Db = None,
) -> None:
    """Build a fresh demo store from a synthetic city, report it, explain two residents."""
    from guihua.usecases.demo import run_demo

    run_demo(people, seed, db or "demo/guihua-demo.db", progress, render)


# --------------------------------------------------------------------------- service


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="One line per request.")
    ] = True,
    db: Db = None,
) -> None:
    """Run the HTTP service (OpenAPI at /openapi.json, docs at /docs, endpoints under /api/v1)."""
    import uvicorn

    from guihua.http import logs
    from guihua.http.app import create_app

    config = uvicorn.Config(
        create_app(open_store(db)), host=host, port=port, workers=1, access_log=access_log
    )
    server = uvicorn.Server(config)
    logs.install()
    server.run()


# --------------------------------------------------------------------------- accounts and audit


@accounts_app.command("create")
def accounts_create(
    role: Annotated[
        str,
        typer.Option(
            "--role", help="admin, department, provider, resident, service_desk, reviewer or auditor."
        ),
    ],
    name: Annotated[str, typer.Option("--name")],
    department: Annotated[str | None, typer.Option("--department")] = None,
    provider: Annotated[str | None, typer.Option("--provider")] = None,
    subject: Annotated[str | None, typer.Option("--subject")] = None,
    db: Db = None,
) -> None:
    """Create an account; its bearer token is printed this once (only a hash is stored)."""
    token = accounts.create(open_store(db), audit.cli_actor(), role, name, department, provider, subject)
    render.console.print(f"account {name} ({role}) created; its token, shown only now:")
    print(token)


@accounts_app.command("list")
def accounts_list(db: Db = None, as_json: Json = False) -> None:
    """Accounts, their roles and bindings (never their tokens)."""
    rows = accounts.list_accounts(open_store(db))
    if as_json:
        render.print_json({"accounts": [vars(a) for a in rows]})
        return
    for a in rows:
        bound = a.department or a.provider or (audit.mask(a.subject_id) if a.subject_id else "")
        state = "revoked" if a.revoked else "active"
        render.console.print(f"{a.name:<24} {a.role:<13} {bound or '-':<20} {state:<8} since {a.created_at}")


@accounts_app.command("revoke")
def accounts_revoke(name: str, db: Db = None) -> None:
    """Revoke an account: its token stops working at once."""
    accounts.revoke(open_store(db), audit.cli_actor(), name)
    render.console.print(f"account {name} revoked")


@audit_app.command("verify")
def audit_verify(db: Db = None) -> None:
    """Check the audit trail's hash chain; exit non-zero naming the first broken entry."""
    result = audit.verify(open_store(db))
    if not result.intact:
        render.err.print(f"audit trail broken at entry {result.broken_at}: {result.reason}", markup=False)
        raise typer.Exit(1)
    render.console.print(f"audit trail intact: {result.entries:,} entries; head {result.head}")


@audit_app.command("log")
def audit_log(
    subject: Annotated[
        str | None, typer.Option("--subject", help="Only entries about this resident.")
    ] = None,
    limit: Annotated[int, typer.Option()] = 50,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Recent audit entries, newest first (resident ids masked)."""
    store = open_store(db)
    sid = scores.check_subject(subject) if subject else None
    rows = audit.entries(store, sid, limit)
    if as_json:
        render.print_json({"entries": [{**r, "subject_id": audit.mask(r["subject_id"])} for r in rows]})
        return
    for r in rows:
        who = f"{r['account']} ({r['role']})"
        about = f" {audit.mask(r['subject_id'])}" if r["subject_id"] else ""
        why = f" purpose: {r['purpose']}" if r["purpose"] else ""
        render.console.print(
            f"{r['seq']:>6} {r['at'][:19]} {who} {r['action']}{about} {r['outcome']}{why}", markup=False
        )


def main() -> None:
    """Entry point: user errors become one line on stderr, never a traceback."""
    try:
        app()
    except GuihuaError as exc:
        render.err.print(f"[red]error[/]: {escape(exc.message)}")
        sys.exit(2)
    except KeyboardInterrupt:
        render.err.print("interrupted; nothing of the unfinished step was stored")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("GUIHUA_DEBUG"):
            raise
        msg = " ".join(str(exc).split())[:300]
        render.err.print(
            f"internal error: {type(exc).__name__}: {msg} (set GUIHUA_DEBUG=1 for details)",
            markup=False,
        )
        sys.exit(70)
