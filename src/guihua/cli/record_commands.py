"""Records from departments: ``guihua ingest``, ``ingest-manifest``, ``rejects``, ``retract``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from guihua.cli import render
from guihua.cli.options import Db, Json

if TYPE_CHECKING:
    from guihua.usecases.manifests import ManifestLoad


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
        f"(submission {result.submission_id}, sha256 {result.sha256})",
        soft_wrap=True,
    )
    for reason, n in sorted(result.rejected_by_reason.items()):
        render.console.print(
            f"  rejected {reason}: {n:,}  (see: guihua rejects --submission {result.submission_id})"
        )
    for w in result.warnings:  # quality warnings: no row was rejected for these
        render.console.print(f"  warning {w['kind']}: {w['message']}", markup=False, soft_wrap=True)


def ingest_manifest(
    manifest: Annotated[Path, typer.Argument(help="manifest.json listing {file, department} entries.")],
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Ingest every file a manifest lists (as written by `guihua synth`), each in its own transaction.

    The whole manifest is checked first (files readable, departments known and in force); on any
    problem nothing is loaded. A file that fails stops the load with a report of what was loaded,
    what failed and what was not attempted (exit 2); the same command again completes it, and
    the files already loaded count as duplicates.
    """
    from rich.progress import TaskID

    from guihua.store.database import open_store
    from guihua.usecases import manifests

    store = open_store(db)
    with render.progress() as bar:
        files = bar.add_task("department files", total=None)
        current: list[TaskID] = []  # the file being read: its rows

        def next_file(entry: manifests.ManifestEntry, i: int, n: int) -> None:
            bar.update(files, completed=i, total=n, description=f"department files ({entry.department})")
            if current:
                bar.remove_task(current.pop())
            current.append(bar.add_task(f"  {entry.file}", total=entry.rows or None))

        def rows_read(k: int) -> None:
            if current:
                bar.advance(current[0], k)

        load = manifests.load_manifest(store, manifest, on_file=next_file, on_rows=rows_read)
    _manifest_report(load, as_json)


def _manifest_report(load: ManifestLoad, as_json: bool) -> None:
    """What was loaded, then (if a file failed) what failed and what was not attempted; exit 2 on failure.

    On a failure, stderr has one line saying so; with ``--json`` stdout has one object, the report.
    """
    from rich.markup import escape

    failure = _manifest_failure(load)
    if as_json:
        error = {"error": load.failed.exc.code, "detail": failure} if load.failed and failure else {}
        render.print_json({**load.as_dict(), **error})
    else:
        out = render.console
        if load.failed:
            out.print(f"loaded {len(load.loaded)} of {len(load.entries)} files:", soft_wrap=True)
        for f in load.loaded:
            r = f.result
            out.print(
                f"  {f.entry.file} ({f.entry.department}): {r.accepted:,} accepted, "
                f"{r.duplicates:,} duplicates, {r.corrected:,} corrected, {r.superseded:,} superseded, "
                f"{r.rejected:,} rejected (submission {r.submission_id})",
                markup=False,
                soft_wrap=True,
            )
        if load.failed:
            failed = load.failed
            out.print(
                f"failed: {failed.entry.file} ({failed.entry.department}): {failed.error}; "
                "nothing of it was stored",
                markup=False,
                soft_wrap=True,
            )
            out.print(f"not attempted: {len(load.not_attempted)} files", soft_wrap=True)
            for e in load.not_attempted:
                out.print(f"  {e.file} ({e.department})", markup=False, soft_wrap=True)
        else:
            t = load.totals()
            out.print(
                f"{len(load.entries)} files: {t['accepted']:,} accepted, {t['duplicates']:,} duplicates, "
                f"{t['corrected']:,} corrected, {t['superseded']:,} superseded, {t['rejected']:,} rejected"
            )
    if load.failed and failure:
        render.err.print(f"[red]error[/]: {escape(failure)}")
        raise typer.Exit(_exit_code(load.failed.exc))


def _manifest_failure(load: ManifestLoad) -> str | None:
    """The one line for a load stopped by a file, else None."""
    if load.failed is None:
        return None
    failed = load.failed
    return (
        f"stopped at file {len(load.loaded) + 1} of {len(load.entries)} ({failed.entry.file}): "
        f"{failed.error}; {len(load.loaded)} loaded, {len(load.not_attempted)} not attempted: "
        "fix it and run the same command again (files already loaded count as duplicates)"
    )


def _exit_code(exc: Exception) -> int:
    """As the entry point exits for the error: 75 when the store was busy (try again), else 2."""
    from guihua.core.errors import StoreBusy

    return int(getattr(exc, "exit_code", 75 if isinstance(exc, StoreBusy) else 2))


def rejects_cmd(
    department: Annotated[str | None, typer.Option("--department", "-d")] = None,
    submission: Annotated[
        int | None,
        typer.Option(
            "--submission", "-s", help="Only the rows this submission refused (as `ingest` prints it)."
        ),
    ] = None,
    open_only: Annotated[
        bool,
        typer.Option("--open", help="Only rows whose key has not been accepted since: what needs fixing."),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write the rows to a .csv file in the department's own columns, plus line, reason and "
            "detail: fix the cells, delete those columns, send it again.",
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="At most this many rows (default 1000; with --out: all).")
    ] = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """List quarantined rows with their reasons, so a department can fix and resubmit them."""
    from rich.markup import escape

    from guihua.store.database import open_store
    from guihua.usecases import records

    store = open_store(db, create=False)
    if out is not None:
        written = records.write_rejects(store, out, department, submission, open_only, limit)
        if as_json:
            render.print_json(
                {"out": str(written.path), "rows": written.rows, "note_columns": written.note_columns}
            )
            return
        render.console.print(
            f"{written.rows:,} rows written to {out}; fix them, delete the columns "
            f"{', '.join(written.note_columns)}, and send the file again",
            markup=False,
            soft_wrap=True,
        )
        return
    rows = records.list_rejects(store, department, 1000 if limit is None else limit, submission, open_only)
    if as_json:
        render.print_json({"rejects": rows, "count": len(rows)})
        return
    if not rows:
        render.console.print("no open quarantined rows" if open_only else "no quarantined rows")
    for r in rows:
        again = [str(n) for n in cast(list[int], r["submissions"]) if n != r["submission_id"]]
        notes = (f" (refused again by submission {', '.join(again)})" if again else "") + (
            "" if r["open"] else " (its key was accepted since)"
        )
        render.console.print(
            f"{r['department']} submission {r['submission_id']} line {r['line']}: "
            f"[bold]{r['reason']}[/] - {escape(str(r['detail']))}{notes}",
            soft_wrap=True,
        )
        render.console.print(f"    {r['raw']}", markup=False, soft_wrap=True)


def retract_cmd(
    source_id: Annotated[str, typer.Argument(help="The department's own id of the record.")],
    department: Annotated[str, typer.Option("--department", "-d")],
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Retract a record: it no longer counts; its history stays."""
    from guihua.store.database import open_store
    from guihua.usecases import records

    when = records.retract(open_store(db, create=False), department, source_id)
    if as_json:
        render.print_json(
            {"department": department, "source_id": source_id, "retracted_at": when.isoformat()}
        )
        return
    render.console.print(
        f"retracted {source_id} from {department} at {when:%Y-%m-%d %H:%M} UTC", markup=False
    )
