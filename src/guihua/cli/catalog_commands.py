"""``guihua catalog``: load, show, export and list the scheme's catalog versions; record templates."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from guihua.cli import render
from guihua.cli.options import Db, Json


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        rich_markup_mode=None, help="Load, show and export the scheme's catalog.", no_args_is_help=True
    )
    group.command("load")(catalog_load)
    group.command("show")(catalog_show)
    group.command("template")(catalog_template)
    group.command("export")(catalog_export)
    group.command("versions")(catalog_versions)
    app.add_typer(group, name="catalog")


def catalog_load(
    file: Annotated[Path, typer.Argument(help="Catalog YAML file.")], db: Db = None, as_json: Json = False
) -> None:
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
        with render.working("checking the catalog and re-matching every stored record"):
            result = catalogs.load_catalog(store, text)
    except CatalogRefused as refused:
        if as_json:
            render.print_json(
                {"error": refused.code, "detail": refused.message, "problems": refused.problems}
            )
        render.err.print(f"[red]catalog refused[/]: {len(refused.problems)} problem(s); nothing was changed")
        for p in refused.problems:
            render.err.print(f"  - {p}", markup=False)
        raise typer.Exit(2) from None
    if as_json:
        render.print_json(
            {
                "version": result.version,
                "scheme": result.catalog.scheme.name,
                "unchanged": result.unchanged,
                "rematched": result.rematched,
            }
        )
    elif result.unchanged:
        render.console.print(f"catalog unchanged: identical to active version {result.version}")
    else:
        render.console.print(
            f"catalog version {result.version} ({result.catalog.scheme.name}) is active; "
            f"{result.rematched:,} stored records re-matched"
        )


def catalog_show(db: Db = None, as_json: Json = False) -> None:
    """Print the active scheme: caps, departments, metrics with their fields, rules, perks."""
    from guihua.store.catalog_queries import active_catalog
    from guihua.store.database import open_store
    from guihua.usecases import catalogs

    store = open_store(db, create=False)
    if as_json:
        render.print_json(catalogs.published(store))
        return
    with store.begin() as conn:
        active = active_catalog(conn)
    render.catalog(active.catalog, active.version)


def catalog_template(
    metric: Annotated[str, typer.Argument(help="The metric's code (see `guihua catalog show`).")],
    form: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Print a header and an example row of METRIC that a department can fill in and send.

    With ``--json``: the metric's format (columns, types, senders, the example) and the text.
    """
    from guihua.core.record_format import record_format
    from guihua.store.catalog_queries import active_catalog
    from guihua.store.database import open_store
    from guihua.usecases import catalogs

    store = open_store(db, create=False)
    text = catalogs.template(store, metric, form)
    if not as_json:
        print(text, end="")
        return
    with store.begin() as conn:
        found = record_format(active_catalog(conn).catalog, metric)
    assert found is not None  # template() refused an unknown metric
    render.print_json({**found.as_dict(), "format": form, "text": text})


def catalog_export(
    out: Annotated[Path, typer.Option("--out", help="The YAML file to write.")],
    version: Annotated[
        int | None, typer.Option("--version", min=1, help="A version other than the active one.")
    ] = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Write the active catalog (or --version N) back out as YAML, exactly as it was loaded."""
    from guihua.store.database import open_store
    from guihua.usecases import catalogs

    number = catalogs.export_catalog(open_store(db, create=False), out, version)
    label = f"version {number}" if number else "the packaged default"
    if as_json:
        render.print_json({"version": number, "out": str(out)})
    else:
        render.console.print(f"wrote {label} to {out}", markup=False)


def catalog_versions(db: Db = None, as_json: Json = False) -> None:
    """List every catalog version ever loaded."""
    from guihua.store.database import open_store
    from guihua.usecases import catalogs

    rows = catalogs.catalog_versions(open_store(db, create=False))
    if as_json:
        keys = ("version", "name", "loaded_at", "digest")
        render.print_json({"versions": [dict(zip(keys, r, strict=True)) for r in rows]})
        return
    for version, name, loaded, digest in rows:
        render.console.print(f"{version:>4}  {loaded}  {digest}  {name}", markup=False)
