"""``guihua audit``: verify the trail (against a signed checkpoint), sign checkpoints, read the log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from guihua.cli import render
from guihua.cli.options import Db, Json, KeyDir, Purpose


def register(app: typer.Typer) -> None:
    audit_app = typer.Typer(
        rich_markup_mode=None, help="The tamper-evident audit trail.", no_args_is_help=True
    )
    audit_app.command("verify")(audit_verify)
    audit_app.command("checkpoint")(audit_checkpoint)
    audit_app.command("log")(audit_log)
    app.add_typer(audit_app, name="audit")


def audit_verify(
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint", help="A signed checkpoint the trail must extend (guihua audit checkpoint)."
        ),
    ] = None,
    public_key: Annotated[
        Path | None, typer.Option("--public-key", help="The centre's public key (default: the key folder's).")
    ] = None,
    key_dir: KeyDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Check the audit trail's hash chain (and that it extends --checkpoint): exit 0 if it holds, 1 if not."""
    from guihua.kit import signing
    from guihua.store.database import open_store
    from guihua.usecases import audit, certificates, checkpoints

    store = open_store(db, create=False)
    signed = checkpoints.read(checkpoint) if checkpoint else None
    result = audit.verify(store)
    extension = None
    if signed is not None:
        trusted = signing.load_public(public_key or certificates.key_dir(key_dir, db) / signing.PUBLIC_FILE)
        extension = checkpoints.verify_against(store, signed, trusted)
    holds = result.intact and (extension is None or extension.holds)
    if as_json:
        shown = {
            "intact": result.intact,
            "entries": result.entries,
            "head": result.head,
            "broken_at": result.broken_at,
            "reason": result.reason,
        }
        render.print_json({**shown, **(extension.as_dict() if extension else {})})
    elif not result.intact:
        render.err.print(f"audit trail broken at entry {result.broken_at}: {result.reason}", markup=False)
    elif extension is not None and not extension.holds:
        render.err.print(f"audit trail does not extend the checkpoint: {extension.problem}", markup=False)
    else:
        since = f"; extends the checkpoint of {extension.checkpoint.at}" if extension else ""
        render.console.print(
            f"audit trail intact: {result.entries:,} entries; head {result.head}{since}", markup=False
        )
    if not holds:
        raise typer.Exit(1)


def audit_checkpoint(
    out: Annotated[Path | None, typer.Option("--out", help="Where to write it (default: print it).")] = None,
    key_dir: KeyDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Sign the trail's count and head hash (Ed25519); keep the file outside the store."""
    from guihua.kit import signing
    from guihua.store.database import open_store
    from guihua.usecases import certificates, checkpoints

    store = open_store(db, create=False)
    signed = checkpoints.make(store, signing.load_or_create(certificates.key_dir(key_dir, db)))
    if out is not None:
        checkpoints.write(signed, out)
    if as_json or out is None:
        render.print_json(signed.as_dict())
    else:
        render.console.print(
            f"checkpoint of {signed.entries:,} entries (head {signed.head[:16]}...) signed with key "
            f"{signed.key_id}, written to {out}",
            markup=False,
        )


def audit_log(
    subject: Annotated[
        str | None, typer.Option("--subject", help="Only entries about this resident.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
    purpose: Purpose = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Recent audit entries, newest first (resident ids masked); one resident's is an audited read."""
    from guihua.store.database import open_store
    from guihua.usecases import audit
    from guihua.usecases.subjects import check_subject

    store = open_store(db, create=False)
    if subject:
        rows = audit.access_log(store, check_subject(subject), audit.cli_actor(), purpose, limit)
    else:
        rows = audit.entries(store, None, limit)
    if as_json:
        render.print_json({"entries": [_masked(r) for r in rows]})
        return
    for r in map(_masked, rows):
        who = f"{r['account']} ({r['role']})"
        about = f" {r['subject_id']}" if r["subject_id"] else ""
        why = f" purpose: {r['purpose']}" if r["purpose"] else ""
        render.console.print(
            f"{r['seq']:>6} {r['at'][:19]} {who} {r['action']}{about} {r['outcome']}{why}", markup=False
        )


def _masked(row: dict[str, Any]) -> dict[str, Any]:
    """An entry as the log shows it: ids masked in its subject and in any text (purpose, detail)."""
    from guihua.core.masking import mask_id, mask_text

    texts = {k: mask_text(row[k]) for k in ("purpose", "detail", "account") if isinstance(row.get(k), str)}
    return {**row, **texts, "subject_id": mask_id(row["subject_id"])}
