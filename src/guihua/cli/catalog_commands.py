"""``guihua catalog``: load, show and list the scheme's catalog versions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from guihua.cli import render
from guihua.cli.options import Db, Json


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Load and show the scheme's catalog.", no_args_is_help=True)
    group.command("load")(catalog_load)
    group.command("show")(catalog_show)
    group.command("versions")(catalog_versions)
    app.add_typer(group, name="catalog")


def catalog_load(file: Annotated[Path, typer.Argument(help="Catalog YAML file.")], db: Db = None) -> None:
    """Validate a catalog and make it the active one; stored records are re-matched."""
    from guihua.core.errors import CatalogRefused, InvalidInput
    from guihua.store.database import open_store
    from guihua.usecases import catalogs

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


def catalog_show(db: Db = None, as_json: Json = False) -> None:
    """Print the active scheme: categories and caps, rules with points, validity and legal basis, perks."""
    from guihua.store.catalog_queries import active_catalog
    from guihua.store.database import open_store

    store = open_store(db, create=False)
    with store.begin() as conn:
        active = active_catalog(conn)
    if as_json:
        render.print_json({"version": active.version, **active.catalog.model_dump(mode="json")})
    else:
        render.catalog(active.catalog, active.version)


def catalog_versions(db: Db = None) -> None:
    """List every catalog version ever loaded."""
    from guihua.store.database import open_store
    from guihua.usecases import catalogs

    for version, name, loaded, digest in catalogs.catalog_versions(open_store(db, create=False)):
        render.console.print(f"{version:>4}  {loaded}  {digest}  {name}")
