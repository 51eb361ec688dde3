"""Commands of due process: objections, the defaulter list (spec section 7), retention (section 8)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from guihua.cli import render
from guihua.cli.options import At, Db, Json, Purpose, at_date, staff_actor

objections_app = typer.Typer(
    rich_markup_mode=None, help="Objections to records: file, list, decide.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(objections_app, name="objections")
    app.command("defaulters")(defaulters_cmd)
    app.command("purge")(purge_cmd)


Reason = Annotated[str, typer.Option("--reason", help="Why: kept, audited and shown to the resident.")]


@objections_app.command("file")
def objections_file(
    subject_id: Annotated[str, typer.Argument(help="The resident who objects.")],
    department: Annotated[str, typer.Option("--department", "-d", help="Department that sent the record.")],
    source_id: Annotated[str, typer.Option("--record", help="The department's id of the record.")],
    reason: Reason,
    clerk: Annotated[str | None, typer.Option("--as", help="Counter clerk filing it.")] = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """File a resident's objection at the counter: the record is disputed from today."""
    from guihua.store.database import open_store
    from guihua.usecases import objections

    o = objections.file(
        open_store(db, create=False),
        subject_id,
        department,
        source_id,
        reason,
        staff_actor(clerk, "service_desk"),
    )
    if as_json:
        render.print_json(o.as_dict())
        return
    render.console.print(
        f"objection {o.id} filed on {o.filed_on}: {department} {source_id} is disputed; "
        f"undecided on {o.suspends_on} it is suspended and stops counting"
    )


@objections_app.command("list")
def objections_list(
    open_only: Annotated[bool, typer.Option("--open", help="Only undecided objections.")] = False,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only those undecided past 30 days.")] = False,
    department: Annotated[str | None, typer.Option("--department", "-d")] = None,
    subject_id: Annotated[
        str | None, typer.Option("--subject", help="One resident's (an audited read).")
    ] = None,
    purpose: Purpose = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Objections, oldest first, with their state today."""
    from rich.table import Table

    from guihua.store.database import open_store
    from guihua.usecases import objections

    store = open_store(db, create=False)
    if subject_id is not None:
        mine = objections.subject_objections(store, subject_id, None, purpose, open_only, overdue)
        rows = [o for o in mine if department is None or o.department == department]
    else:
        rows = objections.list_objections(store, open_only, overdue, department)
    if as_json:
        render.print_json({"objections": [o.as_dict() for o in rows], "count": len(rows)})
        return
    if not rows:
        render.console.print("no objections")
        return
    table = Table(title="Objections")
    for col in ("Id", "Resident", "Record", "Filed", "Suspends", "State", "Decided", "By", "Reason"):
        table.add_column(col)
    for o in rows:
        table.add_row(
            str(o.id),
            o.subject_id,
            f"{o.department} {o.source_id} v{o.record_version}",
            o.filed_on,
            o.suspends_on,
            o.state,
            o.decided_on or "-",
            o.decided_by or "-",
            o.decision_reason or o.reason,
        )
    render.console.print(table)


@objections_app.command("decide")
def objections_decide(
    objection_id: Annotated[int, typer.Argument(help="The objection's number.")],
    decision: Annotated[str, typer.Argument(help="uphold, correct or revoke.")],
    reason: Reason,
    changes: Annotated[
        list[str] | None,
        typer.Option("--set", help="For correct: NAME=VALUE of a field (JSON values allowed); repeatable."),
    ] = None,
    occurred_at: Annotated[str | None, typer.Option("--occurred-at", help="For correct: a new date.")] = None,
    reviewer: Annotated[str | None, typer.Option("--as", help="The reviewer deciding.")] = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """A reviewer's decision: uphold, correct (a new version of the record) or revoke."""
    from guihua.store.database import open_store
    from guihua.usecases import objections

    o = objections.decide(
        open_store(db, create=False),
        objection_id,
        decision,
        reason,
        staff_actor(reviewer, "reviewer"),
        changes=_changes(changes or []),
        occurred_at=at_date(occurred_at),
    )
    if as_json:
        render.print_json(o.as_dict())
        return
    render.console.print(f"objection {o.id}: {o.state} on {o.decided_on} by {o.decided_by}")


def _changes(pairs: list[str]) -> dict[str, Any]:
    from guihua.core.errors import InvalidInput

    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"--set {pair!r}: write NAME=VALUE, e.g. --set paid=true")
        try:
            out[name.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[name.strip()] = value
    return out


def defaulters_cmd(at: At = None, purpose: Purpose = None, db: Db = None, as_json: Json = False) -> None:
    """Current listings on the defaulter list: case, department, since, legal basis."""
    from rich.table import Table

    from guihua.store.database import open_store
    from guihua.usecases import listings

    day, rows = listings.defaulter_list(open_store(db, create=False), at_date(at), purpose=purpose)
    if as_json:
        render.print_json({"at": day, "listings": [r.as_dict() for r in rows], "count": len(rows)})
        return
    if not rows:
        render.console.print("nobody is on the defaulter list")
        return
    table = Table(title=f"Defaulter list on {day} ({len(rows)})")
    for col in ("Resident", "Department", "Case", "Since", "Legal basis"):
        table.add_column(col)
    for r in rows:
        table.add_row(r.subject_id, r.department_name, r.case_id, r.listed_on, r.legal_basis)
    render.console.print(table)


def purge_cmd(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would go; delete nothing.")] = False,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Delete records whose effect ended more than the scheme's retention_years ago (spec section 8)."""
    from guihua.store.database import open_store
    from guihua.usecases import purge

    with render.working("finding records past retention"):
        result = purge.purge(open_store(db, create=False), dry_run=dry_run)
    if as_json:
        render.print_json(result.as_dict())
        return
    verb = "would delete" if dry_run else "deleted"
    render.console.print(
        f"{verb} {result.records} record versions of {result.keys} records whose effect ended before "
        f"{result.cutoff} (retention {result.retention_years} years); {result.held} kept for open objections"
    )
    for row in result.by_department:
        render.console.print(f"  {row['department']:<12} {row['metric']:<32} {row['keys']:>8,} records")
