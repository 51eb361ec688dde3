"""The body of the report PDF: the title block and the eight numbered sections, in order.

Each section is one table of what the centre holds (or a sentence saying there is none), so a
resident can check every record, every version, every adjustment and every access to their data.
Records and listing cases name their metric and rule in words and say why, in the reader's
language (:class:`~guihua.documents.words.Words`); the rule's id follows in brackets for the
counter.
"""

from __future__ import annotations

from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from guihua.core.results import SubjectReport
from guihua.documents import report_text as text
from guihua.documents.pdf_fonts import markup
from guihua.documents.report_pdf_style import (
    BODY,
    BOX,
    CELL,
    GRID,
    H1,
    HEAD,
    HEAD_BG,
    NOTE,
    WIDTH,
    grid_table,
    lines_cell,
    para,
    section,
    status_cell,
)
from guihua.documents.words import Words


def story(r: SubjectReport, w: Words) -> list[Flowable]:
    """Everything in the body of the report, top to bottom."""
    _ = w._
    out = _title_block(r, w)
    out += section("1. " + _("Score"), None, _summary(r, w))
    out += section(
        "2. " + _("Records: what each one did to the score, and why"),
        _("No records are held on this resident."),
        _records(r, w),
    )
    out += section(
        "3. " + _("Record history (every stored version)"), _("No versions are stored."), _history(r, w)
    )
    out += section(
        "4. " + _("Points and caps"),
        _("No record matched a rule: the score is the base."),
        _adjustments(r, w),
        note=_(
            "The points a rule gives a record count from their start (after any notice period) up to "
            "the day they stop counting. Within a category and calendar year, gains and losses are "
            "capped; the last column says when a cap limited the record's group on {day}.",
            day=r.at,
        ),
    )
    out += section("5. " + _("Defaulter-list cases"), _("No defaulter-list case."), _listings(r, w))
    out += section("6. " + _("Objections"), _("No objection was filed."), _objections(r, w))
    out += section("7. " + _("Notices sent"), _("No notice was made."), _notices(r, w))
    out += section(
        "8. " + _("Who accessed this data"),
        _("No access is recorded."),
        _access(r, w),
        note=_(
            "Every read and change of this resident's data, newest first, "
            "including the making of this report."
        ),
    )
    return out


def _title_block(r: SubjectReport, w: Words) -> list[Flowable]:
    """The title, whose report at which date (and which catalog), what it contains, how to object."""
    catalog = r.catalog_version if r.catalog_version is not None else w._("default")
    facts = "  ·  ".join(
        [
            w._("Resident") + f" {r.subject_id}",
            w._("report date") + f" {r.at}",
            w._("made") + f" {text.stamp_text(r.generated_at)}",
            w._("catalog version") + f" {catalog}",
        ]
    )
    return [
        Paragraph(markup(text.title(w)), H1),
        Spacer(1, 2 * mm),
        para(facts, BODY),
        Spacer(1, 2 * mm),
        para(text.intro(w), NOTE),
        Spacer(1, 3 * mm),
        para(text.how_to_object(w), BOX),
        Spacer(1, 2 * mm),
    ]


def _summary(r: SubjectReport, w: Words) -> Table:
    """Section 1: the score, the defaulter status (in red if listed) and how many records are held."""
    versions = sum(len(rec.versions) for rec in r.records)
    listed = (
        Paragraph(f'<font color="#a61b1b"><b>{markup(w._("ON THE DEFAULTER LIST"))}</b></font>', BODY)
        if r.defaulter
        else para(w._("not on the defaulter list"), BODY)
    )
    records = w.n_("{n} record", "{n} records", len(r.records))
    held = records + " (" + w.n_("{n} stored version", "{n} stored versions", versions) + ")"
    rows = [
        [
            para(w._("Score on {day}", day=r.at), HEAD),
            para(f"{r.score}   (" + w._("everyone starts at {base}", base=r.base) + ")", BODY),
        ],
        [para(w._("Defaulter list"), HEAD), listed],
        [para(w._("Records held"), HEAD), para(held, BODY)],
    ]
    table = Table(rows, colWidths=[0.2 * WIDTH, 0.5 * WIDTH], hAlign="LEFT")
    table.setStyle(
        TableStyle([("GRID", (0, 0), (-1, -1), 0.4, GRID), ("BACKGROUND", (0, 0), (0, -1), HEAD_BG)])
    )
    return table


def _rule_cell(w: Words, rule_id: str | None, metric: str | None) -> str:
    return f"“{w.rule(rule_id, metric)}” ({rule_id})" if rule_id else "-"


def _records(r: SubjectReport, w: Words) -> Table | None:
    """Section 2: each record as it stands now: what it is, the rule in words and why, both legal bases."""
    rows: list[list[Any]] = []
    struck: list[int] = []
    for rec in r.records:
        c = rec.current
        latest = rec.versions[-1] if rec.versions else None
        rule_basis = (w.rule_basis(c.rule_id) or c.rule_legal_basis) if c and c.rule_id else None
        basis = (w._("Rule: {basis}", basis=rule_basis) + "\n" if rule_basis else "") + w._(
            "Data: {basis}", basis=w.department_basis(rec.department) or rec.department_legal_basis
        )
        happened = c.occurred_at if c else (latest.occurred_at if latest else "-")
        fields = text.fields_text(c.fields if c else (latest.fields if latest else {}), w)
        if rec.retracted:
            struck.append(len(rows))
        why = text.story(rec, w)
        if not rec.retracted and c is not None:
            why += "\n" + w.object_line(rec.department, rec.source_id)
        rows.append(
            [
                w.department(rec.department),
                f"{rec.source_id} v{c.version}" if c else rec.source_id,
                lines_cell(f"{w.metric(rec.metric)}\n{happened}\n{fields}"),
                _rule_cell(w, c.rule_id if c else None, rec.metric),
                lines_cell(why),
                text.points_text(c.points) if c else "-",
                status_cell(text.status_text(rec, w), rec.retracted),
                lines_cell(basis),
            ]
        )
    header = [
        w._("Department"),
        w._("Record"),
        w._("What happened"),
        w._("Rule"),
        w._("Why"),
        w._("Points"),
        w._("Status"),
        w._("Legal basis"),
    ]
    return grid_table(header, rows, [0.1, 0.07, 0.16, 0.1, 0.26, 0.05, 0.1, 0.16], struck)


def _history(r: SubjectReport, w: Words) -> Table | None:
    """Section 3: every stored version of every record, with where it came from and what became of it."""
    rows: list[list[Any]] = []
    struck: list[int] = []
    for rec in r.records:
        for v in rec.versions:
            if v.retracted_at:
                state: Any = status_cell(w._("retracted {when}", when=v.retracted_at), True)
                struck.append(len(rows))
            else:
                state = w._("current") if v.current else w._("replaced by a later version")
            rows.append(
                [
                    w.department(rec.department),
                    rec.source_id,
                    str(v.version),
                    v.occurred_at,
                    text.fields_text(v.fields, w),
                    v.submitted_at or "-",
                    v.submission or "-",
                    _rule_cell(w, v.rule_id, v.metric),
                    state,
                ]
            )
    header = [
        w._("Department"),
        w._("Record"),
        w._("Version"),
        w._("Happened on"),
        w._("Details sent"),
        w._("Received (UTC)"),
        w._("Submission"),
        w._("Rule when stored"),
        w._("State"),
    ]
    return grid_table(header, rows, [0.1, 0.07, 0.05, 0.07, 0.22, 0.1, 0.15, 0.12, 0.12], struck)


def _adjustments(r: SubjectReport, w: Words) -> Table | None:
    """Section 4: the points each rule gave, when they count, and the caps that limited them."""
    rows = [
        [
            f"{w.metric(a.metric)}: {w.department(a.department)} {a.source_id}",
            _rule_cell(w, a.rule_id, a.metric),
            text.points_text(a.points),
            w.category(a.category),
            a.start or "-",
            a.end or w._("no end date"),
            w._("yes") if a.active else w._("no") + f" ({w.record_status(a.status)})",
            w.caps(a.caps_bit, a.category),
            w.rule_basis(a.rule_id) or a.rule_legal_basis or "-",
        ]
        for a in r.adjustments
    ]
    header = [
        w._("Record"),
        w._("Rule"),
        w._("Points"),
        w._("Category"),
        w._("Counts from"),
        w._("Stops counting on"),
        w._("Counts on {day}", day=r.at),
        w._("Cap"),
        w._("Legal basis"),
    ]
    return grid_table(header, rows, [0.14, 0.12, 0.05, 0.1, 0.08, 0.08, 0.11, 0.12, 0.2])


def _listings(r: SubjectReport, w: Words) -> Table | None:
    """Section 5: the defaulter-list cases, open or resolved, why, and their legal basis."""
    rows = []
    for c in r.listings:
        why = w.why(c.rule_id, c.department, c.metric, c.listed_on) if c.rule_id else ""
        rows.append(
            [
                c.case_id,
                w.department(c.department),
                w.metric(c.metric),
                c.listed_on,
                c.resolved_on or "-",
                w.yes_no(c.open),
                lines_cell(f"{_rule_cell(w, c.rule_id, c.metric)}\n{why}".strip()),
                w.rule_basis(c.rule_id) or c.legal_basis,
            ]
        )
    header = [
        w._("Case"),
        w._("Department"),
        w._("What"),
        w._("Listed since"),
        w._("Resolved"),
        w._("Open on {day}", day=r.at),
        w._("Rule and why"),
        w._("Legal basis"),
    ]
    return grid_table(header, rows, [0.08, 0.14, 0.12, 0.08, 0.08, 0.07, 0.25, 0.18])


def _objections(r: SubjectReport, w: Words) -> Table | None:
    """Section 6: the objections filed, and who decided them, when and why."""
    rows = [
        [
            str(o.id),
            f"{w.department(o.department)} {o.source_id} v{o.record_version}",
            w._("{day} by {who}", day=o.filed_on, who=o.filed_by),
            text.shown(o.reason, w),
            w.objection_state(o.state),
            w._("{day} by {who}", day=o.decided_on, who=o.decided_by)
            if o.decided_on
            else w._("undecided (stops counting from {day} if still undecided)", day=o.suspends_on),
            text.shown(o.decision_reason or "-", w),
        ]
        for o in r.objections
    ]
    header = [
        w._("No."),
        w._("Record"),
        w._("Filed"),
        w._("Reason"),
        w._("State"),
        w._("Decided"),
        w._("Reason for the decision"),
    ]
    return grid_table(header, rows, [0.04, 0.14, 0.12, 0.24, 0.1, 0.13, 0.23])


def _notices(r: SubjectReport, w: Words) -> Table | None:
    """Section 7: each notice made, its text, and how its delivery went."""
    rows = [
        [
            n.created_at,
            w.notice_kind(n.kind),
            Paragraph(f"<b>{markup(n.title)}</b><br/>{markup(n.body)}", CELL),
            text.deliveries_text(n.deliveries, w),
        ]
        for n in r.notices
    ]
    header = [w._("Made (UTC)"), w._("Kind"), w._("Notice"), w._("Delivery")]
    return grid_table(header, rows, [0.1, 0.08, 0.6, 0.22])


def _access(r: SubjectReport, w: Words) -> Table | None:
    """Section 8: the access log of this resident's data (reads and changes, by whom, why)."""
    rows = [
        [
            e.at[:19].replace("T", " "),
            e.account,
            w.role(e.role),
            w.action(e.action),
            text.shown(e.purpose or "-", w),
            w.outcome(e.outcome),
        ]
        for e in r.access_log
    ]
    header = [w._("When (UTC)"), w._("Who"), w._("Role"), w._("What"), w._("Purpose"), w._("Outcome")]
    return grid_table(header, rows, [0.13, 0.15, 0.13, 0.19, 0.3, 0.1])
