"""Running the centre: accounts, the audit trail, the service, the synthetic city and the demo."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from guihua.cli import render
from guihua.cli.options import Db, Json, KeyDir, at_date

if TYPE_CHECKING:
    from guihua.store.database import Store


def register(app: typer.Typer) -> None:
    app.command("init")(init_cmd)
    app.command("synth")(synth_cmd)
    app.command("demo")(demo_cmd)
    app.command("serve")(serve)
    accounts_app = typer.Typer(
        rich_markup_mode=None,
        help="Accounts and roles of the service (tokens are shown once).",
        no_args_is_help=True,
    )
    accounts_app.command("create")(accounts_create)
    accounts_app.command("list")(accounts_list)
    accounts_app.command("revoke")(accounts_revoke)
    accounts_app.command("rotate")(accounts_rotate)
    app.add_typer(accounts_app, name="accounts")


def init_cmd(db: Db = None, as_json: Json = False) -> None:
    """Create a store (a SQLite file or a PostgreSQL database's tables) with the packaged default scheme.

    Loading your own catalog afterwards (`guihua catalog load`) makes it the active version.
    """
    from guihua.store.catalog_queries import ensure_catalog
    from guihua.store.database import open_store, resolve_url

    store = open_store(db)
    with store.begin() as conn:
        active = ensure_catalog(conn)
    _warn_if_exposed(store)
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


def _warn_if_exposed(store: Store) -> None:
    from guihua.store.database import exposure

    warning = exposure(store)
    if warning:
        render.err.print(f"warning: {warning}", markup=False)


def synth_cmd(
    people: Annotated[int, typer.Option("--people", min=1, max=20_000_000, help="Residents.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    seed: Annotated[int, typer.Option("--seed")] = 1,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Last record date (default: today).")] = None,
    as_json: Json = False,
) -> None:
    """Write a synthetic city for the default scheme: one Parquet file per department and a manifest.

    Any size from one resident: a department with no records this time writes a file of no rows
    (with all its columns), so `guihua ingest-manifest` loads every city.
    """
    from guihua.usecases.demo import synth_city

    with render.progress() as bar:
        task = bar.add_task("synthesising residents", total=people)
        manifest = synth_city(people, seed, out, at_date(as_of), lambda n: bar.advance(task, n))
    if as_json:
        render.print_json({"out": str(out), "manifest": str(out / "manifest.json"), "files": manifest})
        return
    render.console.print(f"wrote {len(manifest)} department files and manifest.json to {out}", markup=False)


def demo_cmd(
    people: Annotated[int, typer.Option("--people", min=1, max=20_000_000, help="Residents.")] = 50_000,
    seed: Annotated[int, typer.Option("--seed")] = 1,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Build a fresh demo store from a synthetic city, report it, explain two residents.

    Any size from one resident; a city too small to have a resident above base or a defaulter says so.
    """
    from guihua.store.database import open_store
    from guihua.usecases import scores
    from guihua.usecases.demo import build_demo
    from guihua.usecases.manifests import ManifestEntry

    where = db or "demo/guihua-demo.db"
    with render.progress() as bar:
        synth = bar.add_task("synthesising residents", total=people)
        files = bar.add_task("ingesting department files", total=None, visible=False)

        def next_file(entry: ManifestEntry, i: int, n: int) -> None:
            bar.update(synth, visible=False)
            bar.update(files, total=n, completed=i, visible=True, description=f"ingesting {entry.department}")

        demo = build_demo(people, seed, where, lambda n: bar.advance(synth, n), next_file)
    if as_json:
        render.print_json(demo.as_dict())
        return
    residents = f"{people:,} resident{'' if people == 1 else 's'}"
    render.console.print(f"Demo store {where}: {residents} from {demo.departments} departments\n")
    render.distribution(demo.distribution)
    store = open_store(where, create=False)
    for e in demo.examples:
        if e.subject_id is None:
            render.console.print(f"\n{e.note}.", markup=False)
            continue
        render.console.print(
            f"\n[bold]A resident {e.label} base[/]: guihua explain {e.subject_id} --db {where}"
        )
        render.explanation(scores.explain(store, e.subject_id))
    _portal_help(store, demo.examples, where)


def _portal_help(store: Any, examples: Any, where: str) -> None:
    """How to open the portal on the demo store, with a ready sign-in for each role."""
    from guihua.usecases.demo import portal_sign_ins

    render.console.print(
        f"\n[bold]The portal[/]: guihua serve --db {where}   then open http://127.0.0.1:8000/ "
        "(zh-CN; add ?lang=en for English)"
    )
    for s in portal_sign_ins(store, examples):
        if s.code:
            render.console.print(
                f"  resident ({s.who}): /login, id {s.subject_id}, counter code {s.code} (30 minutes; "
                f"a new one: guihua sign-in-code {s.subject_id} --as demo-desk --db {where})",
                markup=False,
            )
        else:
            render.console.print(f"  {s.role} {s.who}: /login with the token {s.token}", markup=False)


def serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="One line per request.")
    ] = True,
    checkpoint_dir: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint-dir",
            envvar="GUIHUA_CHECKPOINT_DIR",
            help="Keep a signed checkpoint of the audit trail here (outside the store) on a schedule.",
        ),
    ] = None,
    checkpoint_every: Annotated[
        float, typer.Option("--checkpoint-every", min=0.01, help="Minutes between checkpoints.")
    ] = 60.0,
    feed_check_every: Annotated[
        float,
        typer.Option(
            "--feed-check-every",
            min=0,
            help="Minutes between checks of the departments' feeds (overdue, failing: alerts once "
            "per episode); 0: never.",
        ),
    ] = 60.0,
    key_dir: KeyDir = None,
    db: Db = None,
) -> None:
    """Run the HTTP service (OpenAPI at /openapi.json, docs at /docs, endpoints under /api/v1)."""
    import uvicorn

    from guihua.http import logs
    from guihua.http.service import create_app
    from guihua.store.database import open_store

    store = open_store(db, create=False)
    _warn_if_exposed(store)
    config = uvicorn.Config(
        create_app(
            store,
            key_dir=key_dir,
            checkpoint_dir=checkpoint_dir,
            checkpoint_every=checkpoint_every * 60,
            feed_check_every=feed_check_every * 60 or None,
        ),
        host=host,
        port=port,
        workers=1,
        access_log=access_log,
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
    valid_days: Annotated[
        int, typer.Option("--valid-days", help="Days the token works (1-730); then rotate it.")
    ] = 90,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Create an account; its bearer token is printed this once (only a hash is stored)."""
    from guihua.store.database import open_store
    from guihua.usecases import accounts, audit

    token = accounts.create(
        open_store(db, create=False),
        audit.cli_actor(),
        role,
        name,
        department,
        provider,
        subject,
        valid_days=valid_days,
    )
    if as_json:
        render.print_json({"name": name, "role": role, "token": token, "valid_days": valid_days})
        return
    render.console.print(f"account {name} ({role}) created; its token, shown only now:", markup=False)
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
        state = "revoked" if a.revoked else "expired" if a.expired else "active"
        ends = f"token until {a.expires_at[:10]}" if a.expires_at else "token without end: rotate it"
        render.console.print(
            f"{a.name:<24} {a.role:<13} {bound or '-':<20} {state:<8} since {a.created_at}, {ends}",
            markup=False,
        )


def accounts_revoke(name: str, db: Db = None, as_json: Json = False) -> None:
    """Revoke an account: its token stops working at once."""
    from guihua.store.database import open_store
    from guihua.usecases import accounts, audit

    accounts.revoke(open_store(db, create=False), audit.cli_actor(), name)
    if as_json:
        render.print_json({"name": name, "revoked": True})
        return
    render.console.print(f"account {name} revoked", markup=False)


def accounts_rotate(
    name: str,
    valid_days: Annotated[int, typer.Option("--valid-days", help="Days the new token works (1-730).")] = 90,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Give an account a new token (printed this once); its old token stops working at once."""
    from guihua.store.database import open_store
    from guihua.usecases import accounts, audit

    token, expires = accounts.rotate(open_store(db, create=False), audit.cli_actor(), name, valid_days)
    if as_json:
        render.print_json({"name": name, "token": token, "expires_at": expires})
        return
    render.console.print(
        f"account {name}: new token until {expires[:10]}, shown only now (the old one no longer works):",
        markup=False,
    )
    print(token)
