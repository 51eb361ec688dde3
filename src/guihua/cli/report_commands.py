"""``guihua report subject``: a resident's full report, printed at the service centre.

It is the resident's copy of everything held on it (see :mod:`guihua.usecases.reports`).
The file kind follows ``--out``'s extension (.pdf or .html), in ``--lang`` (zh-CN by default, or
en); ``--json`` prints the same report as one JSON object, the document
``GET /api/v1/subjects/{id}/report`` returns by default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from guihua.cli import render
from guihua.cli.options import At, Db, Json, Lang, at_date, lang_of


def register(report_app: typer.Typer) -> None:
    report_app.command("subject")(subject_report_cmd)


def subject_report_cmd(
    subject_id: Annotated[str, typer.Argument(help="The resident's identity number.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Where to write it: FILE.pdf or FILE.html.")
    ] = None,
    at: At = None,
    purpose: Annotated[
        str | None, typer.Option("--purpose", help="Why it is read (kept in the audit trail).")
    ] = None,
    lang: Lang = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Everything held on a resident: score, records and their history, what each record did and
    why, caps, objections, notices, listing cases, and who accessed the data. Reading it is audited."""
    from guihua.core.errors import InvalidInput
    from guihua.store.database import open_store
    from guihua.usecases import reports
    from guihua.usecases.subjects import check_subject

    sid = check_subject(subject_id)
    chosen = lang_of(lang)
    if out is None and not as_json:
        raise InvalidInput("say where the report goes: --out FILE.pdf or --out FILE.html, or --json")
    kind = reports.format_of(out) if out is not None else None  # refused before anything is read
    if out is not None and not out.parent.exists():
        raise InvalidInput(f"cannot write {out}: folder {out.parent} does not exist")
    with render.working("gathering everything held on the resident"):
        store = open_store(db, create=False)
        if kind is not None and out is not None:
            report, content = reports.subject_document(
                store, sid, kind, at_date(at), purpose=purpose, lang=chosen
            )
            out.write_bytes(content)
        else:
            report = reports.subject_report(store, sid, at_date(at), purpose=purpose, lang=chosen)
    if as_json:
        render.print_json(report.as_dict())
    elif out is not None:
        render.console.print(
            f"report on {report.subject_id} at {report.at} written to {out}: {len(report.records)} records, "
            f"{len(report.access_log)} access entries",
            markup=False,
        )
