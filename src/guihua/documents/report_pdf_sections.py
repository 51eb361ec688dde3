"""The body of the report PDF: the title block and the eight numbered sections, in order.

Each section is one table of what the centre holds (or a sentence saying there is none), so a
resident can check every record, every version, every adjustment and every access to their data.
"""

from __future__ import annotations

from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from guihua.core.results import SubjectReport
from guihua.documents import report_text as words
from guihua.documents.pdf_fonts import markup
from guihua.documents.report_pdf_style import (
    BODY,
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


def story(r: SubjectReport) -> list[Flowable]:
    """Everything in the body of the report, top to bottom."""
    out = _title_block(r)
    out += section("1. Score", None, _summary(r))
    out += section("2. Records", "No records are held on this resident.", _records(r))
    out += section("3. Record history (every stored version)", "No versions are stored.", _history(r))
    out += section(
        "4. Adjustments and caps",
        "No record matched a rule: the score is the base.",
        _adjustments(r),
        note="Points a rule gives a record, from its start (after any notice period) to its end "
        "(exclusive). Within a category and calendar year gains and losses are capped: 'gain cap' or "
        f"'loss cap' means that cap limited this adjustment's group on {r.at}.",
    )
    out += section("5. Defaulter-list cases", "No defaulter-list case.", _listings(r))
    out += section("6. Objections", "No objection was filed.", _objections(r))
    out += section("7. Notices sent", "No notice was made.", _notices(r))
    out += section(
        "8. Who accessed this data",
        "No access is recorded.",
        _access(r),
        note="Every read and change of this resident's data, newest first, "
        "including the making of this report.",
    )
    return out


def _title_block(r: SubjectReport) -> list[Flowable]:
    """The title, whose report at which date (and which catalog), and what the report contains."""
    catalog = r.catalog_version if r.catalog_version is not None else "default"
    return [
        Paragraph(markup(words.TITLE), H1),
        Spacer(1, 2 * mm),
        para(
            f"Resident {r.subject_id}  ·  report date {r.at}  ·  made {words.stamp_text(r.generated_at)}  ·  "
            f"catalog version {catalog}",
            BODY,
        ),
        Spacer(1, 2 * mm),
        para(words.INTRO, NOTE),
    ]


def _summary(r: SubjectReport) -> Table:
    """Section 1: the score, the defaulter status (in red if listed) and how many records are held."""
    versions = sum(len(rec.versions) for rec in r.records)
    listed = Paragraph(
        f'<font color="#a61b1b"><b>ON THE DEFAULTER LIST</b></font> on {r.at}'
        if r.defaulter
        else f"not on the defaulter list on {r.at}",
        BODY,
    )
    rows = [
        [para(f"Score on {r.at}", HEAD), para(f"{r.score}   (everyone starts at {r.base})", BODY)],
        [para("Defaulter list", HEAD), listed],
        [para("Records held", HEAD), para(f"{len(r.records)} ({versions} stored versions)", BODY)],
    ]
    table = Table(rows, colWidths=[0.2 * WIDTH, 0.5 * WIDTH], hAlign="LEFT")
    table.setStyle(
        TableStyle([("GRID", (0, 0), (-1, -1), 0.4, GRID), ("BACKGROUND", (0, 0), (0, -1), HEAD_BG)])
    )
    return table


def _records(r: SubjectReport) -> Table | None:
    """Section 2: each record as it stands now, with the rule it matched and both legal bases."""
    rows: list[list[Any]] = []
    struck: list[int] = []
    for rec in r.records:
        c = rec.current
        latest = rec.versions[-1] if rec.versions else None
        basis = (f"Rule: {c.rule_legal_basis}\n" if c and c.rule_legal_basis else "") + (
            f"Data: {rec.department_legal_basis}"
        )
        if rec.retracted:
            struck.append(len(rows))
        rows.append(
            [
                f"{rec.department_name} ({rec.department})",
                f"{rec.source_id} v{c.version}" if c else rec.source_id,
                rec.metric_name,
                c.occurred_at if c else (latest.occurred_at if latest else "-"),
                words.fields_text(c.fields if c else (latest.fields if latest else {})),
                c.rule_id if c and c.rule_id else "-",
                words.points_text(c.points) if c else "-",
                status_cell(words.status_text(rec), rec.retracted),
                lines_cell(basis),
            ]
        )
    header = [
        "Department",
        "Record",
        "Metric",
        "Occurred",
        "Fields",
        "Rule",
        "Points",
        "Status",
        "Legal basis",
    ]
    return grid_table(header, rows, [0.12, 0.08, 0.1, 0.07, 0.2, 0.07, 0.05, 0.11, 0.2], struck)


def _history(r: SubjectReport) -> Table | None:
    """Section 3: every stored version of every record, with where it came from and what became of it."""
    rows: list[list[Any]] = []
    struck: list[int] = []
    for rec in r.records:
        for v in rec.versions:
            if v.retracted_at:
                state: Any = status_cell(f"retracted {v.retracted_at}", True)
                struck.append(len(rows))
            else:
                state = "current" if v.current else "replaced by a later version"
            rows.append(
                [
                    rec.department,
                    rec.source_id,
                    str(v.version),
                    v.occurred_at,
                    words.fields_text(v.fields),
                    v.submitted_at or "-",
                    v.submission or "-",
                    v.rule_id or "-",
                    state,
                ]
            )
    header = [
        "Dept.",
        "Record",
        "Version",
        "Occurred",
        "Fields",
        "Received (UTC)",
        "Submission",
        "Rule when stored",
        "State",
    ]
    return grid_table(header, rows, [0.07, 0.08, 0.05, 0.07, 0.25, 0.1, 0.17, 0.08, 0.13], struck)


def _adjustments(r: SubjectReport) -> Table | None:
    """Section 4: the points each rule gave, when they count, and the caps that limited them."""
    rows = [
        [
            f"{a.department} {a.source_id}",
            a.rule_id or "-",
            words.points_text(a.points),
            a.category or "-",
            a.start or "-",
            a.end or "none",
            "yes" if a.active else f"no ({a.status})",
            words.caps_text(a.caps_bit),
            a.rule_legal_basis or "-",
        ]
        for a in r.adjustments
    ]
    header = [
        "Record",
        "Rule",
        "Points",
        "Category",
        "Start",
        "End",
        f"Active on {r.at}",
        "Cap that bit",
        "Legal basis",
    ]
    return grid_table(header, rows, [0.12, 0.09, 0.06, 0.1, 0.08, 0.08, 0.11, 0.1, 0.26])


def _listings(r: SubjectReport) -> Table | None:
    """Section 5: the defaulter-list cases, open or resolved, with their legal basis."""
    rows = [
        [
            c.case_id,
            f"{c.department_name} ({c.department})",
            c.metric,
            c.listed_on,
            c.resolved_on or "-",
            "yes" if c.open else "no",
            c.rule_id or "-",
            c.legal_basis,
        ]
        for c in r.listings
    ]
    header = [
        "Case",
        "Department",
        "Metric",
        "Listed since",
        "Resolved",
        f"Open on {r.at}",
        "Rule",
        "Legal basis",
    ]
    return grid_table(header, rows, [0.1, 0.16, 0.1, 0.09, 0.09, 0.08, 0.1, 0.28])


def _objections(r: SubjectReport) -> Table | None:
    """Section 6: the objections filed, and who decided them, when and why."""
    rows = [
        [
            str(o.id),
            f"{o.department} {o.source_id} v{o.record_version}",
            f"{o.filed_on} by {o.filed_by}",
            words.shown(o.reason),
            o.state,
            f"{o.decided_on} by {o.decided_by}" if o.decided_on else f"undecided (suspends {o.suspends_on})",
            words.shown(o.decision_reason or "-"),
        ]
        for o in r.objections
    ]
    header = ["No.", "Record", "Filed", "Reason", "State", "Decided", "Decision reason"]
    return grid_table(header, rows, [0.04, 0.12, 0.13, 0.25, 0.07, 0.14, 0.25])


def _notices(r: SubjectReport) -> Table | None:
    """Section 7: each notice made, its text, and how its delivery went."""
    rows = [
        [
            n.created_at,
            n.kind,
            Paragraph(f"<b>{markup(n.title)}</b><br/>{markup(n.body)}", CELL),
            words.deliveries_text(n.deliveries),
        ]
        for n in r.notices
    ]
    return grid_table(["Made (UTC)", "Kind", "Notice", "Delivery"], rows, [0.1, 0.06, 0.62, 0.22])


def _access(r: SubjectReport) -> Table | None:
    """Section 8: the access log of this resident's data (reads and changes, by whom, why)."""
    rows = [
        [e.at[:19].replace("T", " "), e.account, e.role, e.action, words.shown(e.purpose or "-"), e.outcome]
        for e in r.access_log
    ]
    header = ["When (UTC)", "Account", "Role", "Action", "Purpose", "Outcome"]
    return grid_table(header, rows, [0.13, 0.17, 0.1, 0.17, 0.33, 0.1])
