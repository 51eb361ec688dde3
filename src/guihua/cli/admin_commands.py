"""Running the centre: accounts, the audit trail, the service, the synthetic city and the demo."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from guihua.cli import render
from guihua.cli.options import Db, Json, at_date


def register(app: typer.Typer) -> None:
    app.command("init")(init_cmd)
    app.command("synth")(synth_cmd)
    app.command("demo")(demo_cmd)
    app.command("serve")(serve)
    accounts_app = typer.Typer(
        help="Accounts and roles of the service (tokens are shown once).", no_args_is_help=True
    )
    accounts_app.command("create")(accounts_create)
    accounts_app.command("list")(accounts_list)
    accounts_app.command("revoke")(accounts_revoke)
    app.add_typer(accounts_app, name="accounts")
    audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
    audit_app.command("verify")(audit_verify)
    audit_app.command("log")(audit_log)
    app.add_typer(audit_app, name="audit")


def init_cmd(db: Db = None, as_json: Json = False) -> None:
    """Create a store (a SQLite file or a PostgreSQL database's tables) with the packaged default scheme.

    Loading your own catalog afterwards (`guihua catalog load`) makes it the active version.
    """
    from guihua.store.catalog_queries import ensure_catalog
    from guihua.store.database import open_store, resolve_url

    store = open_store(db)
    with store.begin() as conn:
        active = ensure_catalog(conn)
    where = store.engine.url.database if store.dialect == "sqlite" else resolve_url(db).split("@")[-1]
    if as_json:
        render.print_json(
            {"store": where, "catalog_version": active.version, "scheme": active.catalog.scheme.name}
        )
        return
    render.console.print(
        f"store ready at {where}: catalog version {active.version} ({active.catalog.scheme.name}) is active",
        markup=False,
    )


def synth_cmd(
    people: Annotated[int, typer.Option("--people", min=1, max=20_000_000, help="Residents.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    seed: Annotated[int, typer.Option("--seed")] = 1,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Last record date (default: today).")] = None,
) -> None:
    """Write a synthetic city for the default scheme: one Parquet file per department and a manifest."""
    from guihua.usecases.demo import synth_city

    with render.progress() as bar:
        task = bar.add_task("synthesising residents", total=people)
        manifest = synth_city(people, seed, out, at_date(as_of), lambda n: bar.advance(task, n))
    render.console.print(f"wrote {len(manifest)} department files and manifest.json to {out}")


def demo_cmd(
    people: Annotated[int, typer.Option("--people", min=100)] = 50_000,
    seed: Annotated[int, typer.Option("--seed")] = 1,
    db: Db = None,
) -> None:
    """Build a fresh demo store from a synthetic city, report it, explain two residents."""
    from guihua.usecases.demo import run_demo

    run_demo(people, seed, db or "demo/guihua-demo.db", render.progress, render)


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
    from guihua.http.service import create_app
    from guihua.store.database import open_store

    config = uvicorn.Config(
        create_app(open_store(db, create=False)), host=host, port=port, workers=1, access_log=access_log
    )
    server = uvicorn.Server(config)
    logs.install()
    server.run()


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
    from guihua.store.database import open_store
    from guihua.usecases import accounts, audit

    token = accounts.create(
        open_store(db, create=False), audit.cli_actor(), role, name, department, provider, subject
    )
    render.console.print(f"account {name} ({role}) created; its token, shown only now:")
    print(token)


def accounts_list(db: Db = None, as_json: Json = False) -> None:
    """Accounts, their roles and bindings (never their tokens)."""
    from guihua.store.database import open_store
    from guihua.usecases import accounts, audit

    rows = accounts.list_accounts(open_store(db, create=False))
    if as_json:
        render.print_json({"accounts": [vars(a) for a in rows]})
        return
    for a in rows:
        bound = a.department or a.provider or (audit.mask(a.subject_id) if a.subject_id else "")
        state = "revoked" if a.revoked else "active"
        render.console.print(f"{a.name:<24} {a.role:<13} {bound or '-':<20} {state:<8} since {a.created_at}")


def accounts_revoke(name: str, db: Db = None) -> None:
    """Revoke an account: its token stops working at once."""
    from guihua.store.database import open_store
    from guihua.usecases import accounts, audit

    accounts.revoke(open_store(db, create=False), audit.cli_actor(), name)
    render.console.print(f"account {name} revoked")


def audit_verify(db: Db = None) -> None:
    """Check the audit trail's hash chain; exit non-zero naming the first broken entry."""
    from guihua.store.database import open_store
    from guihua.usecases import audit

    result = audit.verify(open_store(db, create=False))
    if not result.intact:
        render.err.print(f"audit trail broken at entry {result.broken_at}: {result.reason}", markup=False)
        raise typer.Exit(1)
    render.console.print(f"audit trail intact: {result.entries:,} entries; head {result.head}")


def audit_log(
    subject: Annotated[
        str | None, typer.Option("--subject", help="Only entries about this resident.")
    ] = None,
    limit: Annotated[int, typer.Option()] = 50,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Recent audit entries, newest first (resident ids masked)."""
    from guihua.store.database import open_store
    from guihua.usecases import audit
    from guihua.usecases.subjects import check_subject

    store = open_store(db, create=False)
    sid = check_subject(subject) if subject else None
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
