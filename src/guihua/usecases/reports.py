"""A resident's full report: everything the centre holds on one resident, in one document.

It is what the service centre prints and the resident's right to a copy of its data: the score
and defaulter flag at a date, every record with every stored version, the adjustments and the
caps that bit, objections and their outcomes, notices and their delivery, listing cases, and
who read the data. Each part comes from the use case that owns it (``scores.explain``,
``objections.list_objections``, ``notices.subject_notices``, ``listings.cases_of``,
``audit.entries``): this module gathers and shapes, it never re-derives a rule. The only data
read here directly is the record history (older versions), which no other use case lists.

``at`` fixes the date of the score, the record statuses and the listing cases; the lists of
what is held (versions, objections, notices, access log) are everything stored when the
report is made, objections with their state on that day.

Reading the report is audited once, as ``subject.report``, before the access log is read: the
report shows its own reading.

:func:`subject_document` renders it for a person (HTML or PDF) in the reader's language, with
the words of the catalog it was made with: metrics and rules by name, why each record gives or
takes points, and how to object on the portal or at the counter.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Literal

from guihua.core.catalog import Catalog
from guihua.core.errors import InvalidInput
from guihua.core.languages import DEFAULT_LANGUAGE, Language
from guihua.core.policy import Actor
from guihua.core.results import (
    AccessEntry,
    Delivery,
    ExplanationItem,
    NoticeSent,
    RecordVersion,
    ReportRecord,
    SubjectReport,
)
from guihua.kit.clock import as_date, now
from guihua.store import record_queries
from guihua.store.catalog_queries import active_catalog
from guihua.store.database import Store
from guihua.usecases import audit, listings, notices, objections, scores
from guihua.usecases.subjects import check_subject

Format = Literal["json", "html", "pdf"]
DocumentKind = Literal["html", "pdf"]  # what a person reads; JSON is for programs
FORMATS: tuple[Format, ...] = ("json", "html", "pdf")
ACTION = "subject.report"
# Objections and the access log are listed in full; this bound only keeps a runaway log from
# exhausting memory (the use cases it calls take a limit).
MAX_ROWS = 100_000
ACCESS_KEYS = ("at", "account", "role", "action", "purpose", "outcome")  # as GET .../access-log shows


def format_of(out: Path) -> DocumentKind:
    """The document kind a file name asks for (the CLI's ``--out``)."""
    suffix = out.suffix.lower()
    if suffix in (".pdf", ".html"):
        return "pdf" if suffix == ".pdf" else "html"
    raise InvalidInput(f"--out {out}: name a .pdf or a .html file")


def subject_report(
    store: Store,
    subject_id: str,
    at: dt.date | None = None,
    actor: Actor | None = None,
    purpose: str | None = None,
    lang: Language | None = None,
) -> SubjectReport:
    """Everything held on one resident at ``at`` (default today); the read is audited as subject.report.

    ``lang`` is the language of the notices' text (None: the resident's own, else zh-CN).
    """
    return _gathered(store, subject_id, at, actor, purpose, lang)[0]


def subject_document(
    store: Store,
    subject_id: str,
    kind: DocumentKind,
    at: dt.date | None = None,
    actor: Actor | None = None,
    purpose: str | None = None,
    lang: Language = DEFAULT_LANGUAGE,
) -> tuple[SubjectReport, bytes]:
    """The report as a person reads it: an HTML page (UTF-8) or a PDF, in ``lang``; audited like
    :func:`subject_report`, whose report it returns too."""
    from guihua.documents import report_html, report_pdf
    from guihua.documents.words import Words

    report, catalog = _gathered(store, subject_id, at, actor, purpose, lang)
    words = Words(catalog, lang)
    if kind == "pdf":
        return report, report_pdf.render(report, words)
    return report, report_html.render(report, words).encode("utf-8")


def _gathered(
    store: Store,
    subject_id: str,
    at: dt.date | None,
    actor: Actor | None,
    purpose: str | None,
    lang: Language | None,
) -> tuple[SubjectReport, Catalog]:
    """The report and the catalog it was worded with (the active one when it was made)."""
    sid = check_subject(subject_id)
    actor = actor or audit.cli_actor()
    explanation = scores.explain(store, sid, at, actor=actor, purpose=purpose, action=ACTION)
    day = dt.date.fromisoformat(explanation.score.at)
    catalog, history = _history(store, sid)
    found_objections = objections.list_objections(store, subject_id=sid, limit=MAX_ROWS)
    _, cases = listings.cases_of(store, sid, day)
    sent = [_notice(n) for n in notices.notices_of(store, sid, lang)]
    access = [
        AccessEntry(**{k: r[k] for k in ACCESS_KEYS}) for r in audit.entries(store, sid, limit=MAX_ROWS)
    ]
    s = explanation.score
    report = SubjectReport(
        subject_id=sid,
        at=s.at,
        generated_at=now().isoformat(timespec="seconds"),
        scheme=catalog.scheme.name,
        catalog_version=s.catalog_version,
        base=s.base,
        score=s.score,
        defaulter=s.defaulter,
        records=_records(explanation.items, history, catalog),
        objections=found_objections,
        notices=sent,
        listings=cases,
        access_log=access,
    )
    return report, catalog


def _history(store: Store, sid: str) -> tuple[Catalog, dict[tuple[str, str], list[RecordVersion]]]:
    """Every stored version of the resident's records, by (department, source_id), oldest first."""
    with store.begin() as conn:
        catalog = active_catalog(conn).catalog
        rows = record_queries.subject_history(conn, sid)
    found: dict[tuple[str, str], list[RecordVersion]] = {}
    for row in rows:
        rule = catalog.rule_by_id.get(row.rule_id) if row.rule_id else None
        found.setdefault((row.department, row.source_id), []).append(
            RecordVersion(
                version=int(row.version),
                current=bool(row.is_current),
                metric=row.metric,
                occurred_at=str(as_date(row.occurred_at)),
                received_on=str(as_date(row.received_on)) if row.received_on else None,
                fields=json.loads(row.fields),
                submitted_at=_stamp(row.received_at),
                submission=row.origin,
                retracted_at=_stamp(row.retracted_at),
                rule_id=row.rule_id,
                rule_legal_basis=rule.legal_basis if rule else None,
            )
        )
    return catalog, found


def _stamp(value: Any) -> str | None:
    """A stored timestamp as ``YYYY-MM-DD HH:MM:SS`` (SQLite gives text, PostgreSQL a datetime)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.UTC) if value.tzinfo else value
        return str(value.strftime("%Y-%m-%d %H:%M:%S"))
    return str(value)[:19]


def _records(
    items: list[ExplanationItem], history: dict[tuple[str, str], list[RecordVersion]], catalog: Catalog
) -> list[ReportRecord]:
    """Current versions (from the explanation) joined with their history, by date then key."""
    out: list[ReportRecord] = []
    by_key = {(i.department, i.source_id): i for i in items}
    for key in sorted(set(by_key) | set(history)):
        item, versions = by_key.get(key), history.get(key, [])
        if item is not None:
            out.append(
                ReportRecord(
                    department=item.department,
                    department_name=item.department_name,
                    department_legal_basis=item.department_legal_basis,
                    source_id=item.source_id,
                    metric=item.metric,
                    metric_name=item.metric_name,
                    retracted=item.status == "retracted",
                    current=item,
                    versions=versions,
                )
            )
            continue
        last = versions[-1]  # every version moved to another resident by a correction: history only
        metric_code = last.metric
        dept = catalog.department_by_code.get(key[0])
        metric = catalog.metric_by_code.get(metric_code)
        out.append(
            ReportRecord(
                department=key[0],
                department_name=dept.name if dept else key[0],
                department_legal_basis=dept.legal_basis if dept else "",
                source_id=key[1],
                metric=metric_code,
                metric_name=metric.name if metric else metric_code,
                retracted=last.retracted_at is not None,
                current=None,
                versions=versions,
            )
        )
    out.sort(key=lambda r: (r.current.occurred_at if r.current else r.versions[-1].occurred_at, r.department))
    return out


def _notice(row: dict[str, Any]) -> NoticeSent:
    return NoticeSent(
        id=int(row["id"]),
        kind=row["kind"],
        created_at=row["created_at"],
        effective_on=row["effective_on"],
        department=row["department"],
        source_id=row["source_id"],
        title=row["title"],
        body=row["body"],
        deliveries=[Delivery(**d) for d in row["deliveries"]],
    )
