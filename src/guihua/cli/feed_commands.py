"""Departments' feeds: ``guihua agreements``, ``submissions``, ``feeds`` and ``feed-notices``.

None of these shows a resident's data (feeds are about departments), so none asks a purpose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from guihua.cli import render
from guihua.cli.options import At, Db, Json, at_date

if TYPE_CHECKING:
    from guihua.usecases.feeds import AlertCheck

Department = Annotated[str | None, typer.Option("--department", "-d", help="Only this department.")]
Limit = Annotated[int, typer.Option("--limit", min=1, max=10_000, help="At most this many, newest first.")]


def register(app: typer.Typer) -> None:
    app.command("agreements")(agreements_cmd)
    app.command("submissions")(submissions_cmd)
    app.command("feeds")(feeds_cmd)
    app.command("feed-notices")(feed_notices_cmd)


def agreements_cmd(at: At = None, db: Db = None, as_json: Json = False) -> None:
    """Each department's data-sharing agreement: state on --at (in force, suspended, ended, expired,
    not yet valid), valid from / to, promised frequency, legal basis, metrics, feed contact."""
    from rich.table import Table

    from guihua.store.database import open_store
    from guihua.usecases import agreements

    listed = agreements.list_agreements(open_store(db, create=False), at_date(at))
    if as_json:
        render.print_json(listed)
        return
    table = Table(
        title=f"Data-sharing agreements on {listed['at']} (catalog version {listed['catalog_version']})"
    )
    for col in ("Department", "State", "Status", "Valid", "Every", "Metrics", "Legal basis", "Contact"):
        table.add_column(col)
    for a in listed["agreements"]:
        state = a["state"].replace("_", " ")
        table.add_row(
            f"{a['department']} {a['name']}".strip(),
            f"[green]{state}[/]" if a["in_force"] else f"[red]{state}[/]",
            a["status"],
            f"{a['valid_from'] or 'always'} to {a['valid_to'] or 'open'}",
            f"{a['frequency_days']} d" if a["frequency_days"] else "-",
            ", ".join(a["metrics"]),
            a["legal_basis"],
            a["contact_email"] or "-",
        )
    render.console.print(table)


def submissions_cmd(
    department: Department = None, limit: Limit = 50, db: Db = None, as_json: Json = False
) -> None:
    """Submissions, newest first: who sent what and when (file, SHA-256, size, account), rows by
    outcome, rejects by reason, the catalog version used, how long it took, quality warnings."""
    from guihua.store.database import open_store
    from guihua.usecases import feeds

    rows = feeds.list_submissions(open_store(db, create=False), department, limit)
    if as_json:
        render.print_json({"count": len(rows), "submissions": rows})
        return
    if not rows:
        render.console.print("no submissions")
    for s in rows:
        what = s["file_name"] or s["origin"]
        render.console.print(
            f"{s['id']:>6}  {s['received_on']}  {s['department']}  {what} by {s['sent_by'] or '?'}"
            + ("  (reviewer's correction)" if s["by_review"] else ""),
            markup=False,
            soft_wrap=True,
        )
        size = f"{s['size_bytes']:,} bytes, " if s["size_bytes"] is not None else ""
        took = f", {s['duration_ms']:,} ms" if s["duration_ms"] is not None else ""
        render.console.print(
            f"        {s['rows']:,} rows: {s['accepted']:,} accepted, {s['duplicates']:,} duplicates, "
            f"{s['corrected']:,} corrected, {s['superseded']:,} superseded, {s['rejected']:,} rejected; "
            f"{size}catalog v{s['catalog_version']}{took}; sha256 {s['sha256'] or '-'}",
            markup=False,
            soft_wrap=True,
        )
        for reason, n in s["rejected_by_reason"].items():
            render.console.print(f"        rejected {reason}: {n:,}", markup=False)
        for w in s["warnings"]:
            render.console.print(f"        warning {w['kind']}: {w['message']}", markup=False, soft_wrap=True)


def feeds_cmd(
    at: At = None,
    alert: Annotated[
        bool,
        typer.Option(
            "--alert",
            help="Also open an alert for each feed now overdue or failing (once per episode, through the "
            "outbox: `guihua notices deliver` sends it) and close the episodes of feeds that recovered.",
        ),
    ] = False,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Every department's feed: agreement in force, submissions, last one, accepted and rejected in
    the last 30 days and overall, reject rate and top reasons, overdue, silent, failing, warnings."""
    from guihua.store.database import open_store
    from guihua.usecases import feeds

    store = open_store(db, create=False)
    check = feeds.check_alerts(store, at_date(at)) if alert else None
    day, rows = feeds.feed_status(store, at_date(at))
    found = [f.as_dict() for f in rows]
    if as_json:
        render.print_json(
            {"at": day.isoformat(), "feeds": found, **({"alerts": check.as_dict()} if check else {})}
        )
        return
    _feed_table(day.isoformat(), found)
    if check is not None:
        _alert_lines(check)


def _feed_table(day: str, rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table(title=f"Data feeds on {day} (30 days: the day and the 29 before it)")
    for col in (
        "Department",
        "Agreement",
        "Sent",
        "Last",
        "Accepted 30d / all",
        "Rejected 30d / all",
        "Top reasons",
        "State",
    ):
        table.add_column(col)
    for f in rows:
        state = [s for s in ("overdue", "silent", "failing") if f[s]]
        if f["warnings"]:
            state.append(f"{len(f['warnings'])} warning(s)")
        rate = f" ({f['reject_rate_30d']:.0%})" if f["reject_rate_30d"] is not None else ""
        reasons = ", ".join(f"{r['reason']} {r['rows']:,}" for r in f["top_reasons_30d"] or f["top_reasons"])
        table.add_row(
            f["department"],
            f["agreement_state"].replace("_", " ")
            + (f", every {f['frequency_days']} d" if f["frequency_days"] else ""),
            f"{f['submissions']:,}",
            f["last_submission_on"] or "never",
            f"{f['accepted_30d']:,} / {f['accepted']:,}",
            f"{f['rejected_30d']:,}{rate} / {f['rejected']:,}",
            reasons or "-",
            ", ".join(state) or "ok",
        )
    render.console.print(table)
    for f in rows:
        for w in f["warnings"]:
            render.console.print(
                f"{f['department']} submission {w['submission_id']} ({w['received_on']}): "
                f"{w['kind']}: {w['message']}",
                markup=False,
                soft_wrap=True,
            )


def _alert_lines(check: AlertCheck) -> None:
    for o in check.opened:
        render.console.print(
            f"alert: {o['department']} {o['kind']} (episode {o['episode']}): {o['detail']}",
            markup=False,
            soft_wrap=True,
        )
    for c in check.closed:
        render.console.print(
            f"recovered: {c['department']} no longer {c['kind']} (episode {c['episode']})", markup=False
        )
    if not check.opened and not check.closed:
        render.console.print("alerts: nothing new (open episodes stay open until their feed recovers)")


def feed_notices_cmd(
    department: Department = None, limit: Limit = 50, db: Db = None, as_json: Json = False
) -> None:
    """What departments were told about their feeds (alerts, quality warnings), newest first, with
    the state of each delivery."""
    from guihua.store.database import open_store
    from guihua.usecases import feeds

    rows = feeds.feed_notices(open_store(db, create=False), department, limit)
    if as_json:
        render.print_json({"count": len(rows), "notices": rows})
        return
    if not rows:
        render.console.print("no feed notices")
    for n in rows:
        states = ", ".join(f"{d['channel']} to {d['recipient']} {d['status']}" for d in n["deliveries"])
        render.console.print(
            f"{n['id']:>5}  {n['created_at']}  {n['department']}  {n['kind']}: {n['title']}  "
            f"[{states or 'not queued'}]",
            markup=False,
            soft_wrap=True,
        )
