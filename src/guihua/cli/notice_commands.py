"""Commands of the notice outbox (`guihua notices deliver|list`) and of contacts (`guihua contacts`)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer

from guihua.cli import render
from guihua.cli.options import As, Db, Json, Lang, Purpose, lang_of, staff_actor

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.progress import Progress

    from guihua.usecases.feed_outbox import Routes as FeedRoutes
    from guihua.usecases.outbox import Channel, DeliveryRun

notices_app = typer.Typer(
    rich_markup_mode=None,
    help="Notices to residents: deliver the outbox, list a resident's.",
    no_args_is_help=True,
)
contacts_app = typer.Typer(
    rich_markup_mode=None, help="How to reach residents (e-mail).", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(notices_app, name="notices")
    app.add_typer(contacts_app, name="contacts")


DEFAULT_FROM = "notices@guihua.local"


def channels_from(
    smtp: str | None, smtp_from: str | None, webhook: str | None, optional: bool = False
) -> list[Channel]:
    """The configured channels; one left unconfigured is simply not used (``optional``: none is fine,
    another channel was given)."""
    from guihua.core.errors import InvalidInput
    from guihua.delivery.channels import EmailChannel, WebhookChannel, check_webhook_url, parse_smtp

    out: list[Channel] = []
    if smtp:
        host, port = parse_smtp(smtp)
        out.append(EmailChannel(host, port, smtp_from or DEFAULT_FROM))
    if webhook:
        out.append(WebhookChannel(check_webhook_url(webhook)))
    if not out and not optional:
        raise InvalidInput(
            "no delivery channel configured: give --smtp HOST:PORT and/or --webhook URL "
            "(or set GUIHUA_SMTP / GUIHUA_WEBHOOK_URL)"
        )
    return out


def _line(run: DeliveryRun) -> str:
    text = f"sent {run.sent}, failed {run.failed}, no_address {run.no_address}, pending {run.pending}"
    if run.errors:
        text += f"; first error: {run.errors[0]}"
    return text


def _ticker(bar: Progress, what: str) -> Callable[[int], None]:
    """A callback advancing a new task of ``bar`` (one per run, so a loop's runs do not share it)."""
    task = bar.add_task(what, total=None)
    return lambda n: bar.advance(task, n)


@notices_app.command("deliver")
def deliver_cmd(
    once: Annotated[bool, typer.Option("--once", help="One run, then exit (the default).")] = False,
    loop: Annotated[
        bool, typer.Option("--loop", help="Run again every --interval seconds until stopped.")
    ] = False,
    interval: Annotated[
        float, typer.Option("--interval", help="Seconds between runs with --loop.", min=0.1)
    ] = 30.0,
    smtp: Annotated[
        str | None,
        typer.Option("--smtp", envvar="GUIHUA_SMTP", help="SMTP relay HOST:PORT (e-mail channel)."),
    ] = None,
    smtp_from: Annotated[
        str | None,
        typer.Option("--smtp-from", envvar="GUIHUA_SMTP_FROM", help=f"Sender (default {DEFAULT_FROM})."),
    ] = None,
    webhook: Annotated[
        str | None, typer.Option("--webhook", envvar="GUIHUA_WEBHOOK_URL", help="URL to POST each notice to.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many sends per run.", min=1)] = 1000,
    operator_email: Annotated[
        str | None,
        typer.Option(
            "--operator-email",
            envvar="GUIHUA_OPERATOR_EMAIL",
            help="The operators' address: feed alerts (overdue, failing) are e-mailed there too.",
        ),
    ] = None,
    ops_webhook: Annotated[
        str | None,
        typer.Option(
            "--ops-webhook",
            envvar="GUIHUA_OPS_WEBHOOK_URL",
            help="URL to POST each feed alert to (the operators'; residents' notices never go there).",
        ),
    ] = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Send due notices on each configured channel; one line (or JSON object) per run.

    Before each run the feeds are checked (`guihua feeds --alert`): a feed that became overdue or
    failing gets one alert to its department's contact and the operators, once per episode.
    Feed notices go by e-mail (the department's contact, --operator-email) and --ops-webhook.
    Each notice is committed as delivered right after its send; failures are retried with a
    back-off (30 s doubling, at most 1 h). Run one worker per SQLite store. A single run exits 1
    when a send failed (the failures stay queued for the next run), 0 when every send went.
    """
    from guihua.core.errors import InvalidInput
    from guihua.store.database import open_store
    from guihua.usecases import feed_outbox, feeds
    from guihua.usecases.outbox import deliver_due

    if once and loop:
        raise InvalidInput("give --once or --loop, not both")
    channels = channels_from(smtp, smtp_from, webhook, optional=ops_webhook is not None)
    routes = _feed_routes(channels, operator_email, ops_webhook)
    store = open_store(db, create=False)
    try:
        while True:
            feeds.check_alerts(store)
            with render.progress() as bar:
                run = deliver_due(store, channels, limit, on_progress=_ticker(bar, "sending notices"))
                run = feed_outbox.deliver_due(store, routes, run, limit)
            if as_json:
                render.print_json(run.as_dict())
            else:
                render.console.print(_line(run), markup=False)
            if not loop:
                if run.failed:
                    raise typer.Exit(1)
                return
            if run.sent + run.failed < limit:  # a full run: more may be due already
                time.sleep(interval)
    except KeyboardInterrupt:
        render.err.print("stopped; every notice sent so far is recorded")
    finally:
        for ch in [*channels, *([routes.ops_webhook] if routes.ops_webhook else [])]:
            ch.close()


def _feed_routes(channels: list[Channel], operator_email: str | None, ops_webhook: str | None) -> FeedRoutes:
    """Where feed notices go: the e-mail channel (the same relay), the operators' address and webhook."""
    from guihua.delivery.channels import WebhookChannel, check_webhook_url
    from guihua.usecases.contacts import check_email
    from guihua.usecases.feed_outbox import Routes

    email = next((ch for ch in channels if ch.name == "email"), None)
    operators = check_email(operator_email, "--operator-email") if operator_email else None
    hook = WebhookChannel(check_webhook_url(ops_webhook)) if ops_webhook else None
    return Routes(email, operators, hook)


@notices_app.command("list")
def list_cmd(
    subject_id: Annotated[str, typer.Argument(help="The resident.")],
    purpose: Purpose = None,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang", help="Word them in zh-CN or en (default: the resident's language, else zh-CN)."
        ),
    ] = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """A resident's notices, newest first, with the state of each delivery (audited read)."""
    from rich.table import Table

    from guihua.store.database import open_store
    from guihua.usecases.notices import subject_notices
    from guihua.usecases.subjects import check_subject

    sid = check_subject(subject_id)
    chosen = lang_of(lang) if lang is not None else None
    rows = subject_notices(open_store(db, create=False), sid, purpose=purpose, lang=chosen)
    if as_json:
        render.print_json({"subject_id": sid, "notices": rows, "count": len(rows)})
        return
    if not rows:
        render.console.print(f"no notices for {sid}")
        return
    table = Table(title=f"Notices to {sid}")
    for col in ("Id", "Created", "Kind", "Title", "Deliveries"):
        table.add_column(col)
    for r in rows:
        states = ", ".join(
            f"{d['channel']} {d['status']}"
            + (f" ({d['attempts']} tries)" if d["status"] == "pending" else "")
            for d in r["deliveries"]
        )
        table.add_row(str(r["id"]), r["created_at"], r["kind"], r["title"], states or "not queued")
    render.console.print(table)


@contacts_app.command("set")
def contacts_set(
    subject_id: Annotated[str, typer.Argument(help="The resident.")],
    email: Annotated[str, typer.Option("--email", help="The resident's e-mail address.")],
    lang: Lang = None,
    clerk: As = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Record a resident's e-mail address (and with --lang the language of its notices; else the
    one kept stays, zh-CN if none); e-mails that waited for an address are queued again."""
    from guihua.store.database import open_store
    from guihua.usecases import contacts

    chosen = lang_of(lang) if lang is not None else None
    contact = contacts.set_email(
        open_store(db, create=False), subject_id, email, staff_actor(clerk, "service_desk"), chosen
    )
    if as_json:
        render.print_json(contact.as_dict())
        return
    render.console.print(
        f"{contact.subject_id}: e-mail {contact.email}, notices in {contact.lang}; "
        f"{contact.requeued} waiting e-mail(s) queued again",
        markup=False,
    )


@contacts_app.command("show")
def contacts_show(
    subject_id: Annotated[str, typer.Argument(help="The resident.")],
    purpose: Purpose = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """A resident's contact (audited read)."""
    from guihua.store.database import open_store
    from guihua.usecases import audit, contacts

    contact = contacts.show(open_store(db, create=False), subject_id, audit.cli_actor(), purpose)
    if as_json:
        render.print_json(contact.as_dict())
        return
    render.console.print(
        f"{contact.subject_id}: e-mail {contact.email or 'none'}, notices in {contact.lang}"
        + (f" (since {contact.updated_at})" if contact.updated_at else ""),
        markup=False,
    )


@contacts_app.command("set-department")
def contacts_set_department(
    department: Annotated[str, typer.Argument(help="The department's code.")],
    email: Annotated[str, typer.Option("--email", help="Where the department hears about its feed.")],
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Record the address a department is told at about its feed (alerts, quality warnings); audited."""
    from guihua.store.database import open_store
    from guihua.usecases import agreements, audit

    done = agreements.set_contact(open_store(db, create=False), department, email, audit.cli_actor())
    if as_json:
        render.print_json(done)
        return
    render.console.print(
        f"{done['department']}: feed e-mail {done['email']}; "
        f"{done['requeued']} waiting e-mail(s) queued again",
        markup=False,
    )
