"""Records from departments: ``guihua ingest``, ``ingest-manifest``, ``rejects``, ``retract``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from guihua.cli import render
from guihua.cli.options import Db, Json


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest_cmd)
    app.command("ingest-manifest")(ingest_manifest)
    app.command("rejects")(rejects_cmd)
    app.command("retract")(retract_cmd)


def ingest_cmd(
    file: Annotated[Path, typer.Argument(help="CSV, JSON Lines (.jsonl) or Parquet file.")],
    department: Annotated[str, typer.Option("--department", "-d", help="Submitting department code.")],
    encoding: Annotated[
        str,
        typer.Option("--encoding", help="Text encoding of a CSV or JSON Lines file: utf-8 or gb18030 (GBK)."),
    ] = "utf-8",
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Take in a department's records; rejected rows go to quarantine with their reason."""
    from guihua.store.database import open_store
    from guihua.usecases import submissions

    store = open_store(db)
    with render.progress() as bar:
        task = bar.add_task(f"ingesting {file.name}", total=None)
        result = submissions.ingest_file(
            store, file, department, on_progress=lambda n: bar.advance(task, n), encoding=encoding
        )
    if as_json:
        render.print_json(result.as_dict())
        return
    render.console.print(
        f"{file.name} from {department}: {result.accepted:,} accepted, {result.duplicates:,} duplicates, "
        f"{result.corrected:,} corrected, {result.superseded:,} superseded, {result.rejected:,} rejected "
        f"(submission {result.submission_id})"
    )
    for reason, n in sorted(result.rejected_by_reason.items()):
        render.console.print(f"  rejected {reason}: {n:,}  (see: guihua rejects --department {department})")


def ingest_manifest(
    manifest: Annotated[Path, typer.Argument(help="manifest.json listing {file, department} entries.")],
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Ingest every file a manifest lists (as written by `guihua synth`)."""
    from guihua.store.database import open_store
    from guihua.usecases import submissions

    entries = _read_manifest(manifest)
    store = open_store(db)
    totals: dict[str, int] = dict.fromkeys(
        ("accepted", "duplicates", "corrected", "superseded", "rejected"), 0
    )
    with render.progress() as bar:
        task = bar.add_task("ingesting", total=len(entries))
        for entry in entries:
            bar.update(task, description=f"ingesting {entry['department']}")
            r = submissions.ingest_file(store, manifest.parent / entry["file"], entry["department"])
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
    from guihua.core.errors import InvalidInput

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


def rejects_cmd(
    department: Annotated[str | None, typer.Option("--department", "-d")] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 1000,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """List quarantined rows with their reasons, so a department can fix and resubmit them."""
    from guihua.store.database import open_store
    from guihua.usecases import records

    rows = records.list_rejects(open_store(db, create=False), department, limit)
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


def retract_cmd(
    source_id: Annotated[str, typer.Argument(help="The department's own id of the record.")],
    department: Annotated[str, typer.Option("--department", "-d")],
    db: Db = None,
) -> None:
    """Retract a record: it no longer counts; its history stays."""
    from guihua.store.database import open_store
    from guihua.usecases import records

    when = records.retract(open_store(db, create=False), department, source_id)
    render.console.print(f"retracted {source_id} from {department} at {when:%Y-%m-%d %H:%M} UTC")
