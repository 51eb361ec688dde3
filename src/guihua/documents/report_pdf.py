"""A resident's report as a PDF for the service centre's printer (reportlab platypus).

Sections with headings, tables whose header row repeats when they split across pages, and on
every page a header (scheme, resident, date of the report) and a footer "page N of M".

Names, fields and reasons may be Chinese. The standard PDF fonts have no CJK glyphs, so runs of
CJK characters get a CJK font; Latin text stays in Helvetica, so ids, rule ids and legal bases
stay extractable as plain text. The CJK font is, first found:

1. a TrueType font named by ``GUIHUA_PDF_CJK_FONT`` (a .ttf, or a .ttc with TrueType outlines),
   or one of the usual system ones (Droid Sans Fallback, WenQuanYi, AR PL, SimSun/SimHei):
   embedded as a subset, so every viewer shows the characters;
2. else reportlab's built-in CID font ``STSong-Light`` (Adobe-GB1), which is *not* embedded: the
   text is right (copy, search, extraction) but the viewer must supply the glyphs. Acrobat does
   (Asian font pack); poppler (pdftoppm, evince) showed empty boxes in our trial even with a
   Chinese font installed. Hence the embedded font when one is available.
"""

from __future__ import annotations

import io
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.pdfmetrics import registerFontFamily
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from guihua.core.results import SubjectReport
from guihua.documents import report_text as words

CID_FONT = "STSong-Light"
EMBEDDED_FONT = "GuihuaCJK"
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/droid/DroidSansFallback.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
    "C:/Windows/Fonts/simsun.ttc",
    "C:/Windows/Fonts/simhei.ttf",
)


@cache
def cjk_font() -> str:
    """The font for CJK runs: an embeddable TrueType font if one is found, else the CID font."""
    chosen = os.environ.get("GUIHUA_PDF_CJK_FONT")
    for path in (chosen,) if chosen else FONT_CANDIDATES:
        if path and Path(path).is_file():
            try:
                pdfmetrics.registerFont(TTFont(EMBEDDED_FONT, path, subfontIndex=0))
            except Exception:  # a CFF-outline or damaged font: reportlab cannot embed it, try the next
                continue
            return _as_family(EMBEDDED_FONT)
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    return _as_family(CID_FONT)


def _as_family(name: str) -> str:
    """Bold and italic CJK (inside a bold title) fall back to the one face instead of failing."""
    registerFontFamily(name, normal=name, bold=name, italic=name, boldItalic=name)
    return name


NAVY = colors.HexColor("#1f3a5f")
GOLD = colors.HexColor("#b8860b")
GRID = colors.HexColor("#b4b9c6")
HEAD_BG = colors.HexColor("#e8edf4")
RED = colors.HexColor("#a61b1b")
GREY = colors.HexColor("#666666")

PAGE = landscape(A4)  # nine-column tables of fields and legal bases need the width
MARGIN = 14 * mm
WIDTH = PAGE[0] - 2 * MARGIN

_BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=9, leading=12)
_NOTE = ParagraphStyle("note", parent=_BODY, fontSize=8, leading=10.5, textColor=colors.HexColor("#444444"))
_H1 = ParagraphStyle("h1", fontName="Helvetica-Bold", fontSize=17, leading=21, textColor=NAVY)
_H2 = ParagraphStyle(
    "h2", fontName="Helvetica-Bold", fontSize=12, leading=15, textColor=NAVY, spaceBefore=10, spaceAfter=4
)
_CELL = ParagraphStyle("cell", fontName="Helvetica", fontSize=7.5, leading=9.2, alignment=TA_LEFT)
_HEAD = ParagraphStyle("head", parent=_CELL, fontName="Helvetica-Bold")
_STRUCK = ParagraphStyle("struck", parent=_CELL, textColor=GREY)

# CJK ideographs, punctuation, kana, hangul and full-width forms: set in the CID font.
_CJK = re.compile(r"([\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]+)")


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markup(text: object) -> str:
    """Paragraph markup for any text: escaped (department data is never markup), CJK in the CID font."""
    return _CJK.sub(rf'<font name="{cjk_font()}">\1</font>', _esc(str(text)))


def _p(text: object, style: ParagraphStyle = _CELL) -> Paragraph:
    return Paragraph(markup(text), style)


def render(report: SubjectReport) -> bytes:
    """The PDF bytes of the report."""
    buf = io.BytesIO()
    doc = BaseDocTemplate(
        buf,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + 10 * mm,
        bottomMargin=MARGIN + 4 * mm,
        title=f"{words.TITLE}: {report.subject_id} at {report.at}",
        author=report.scheme,
        subject=f"Everything held on resident {report.subject_id}",
        creator="Guihua",
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=_header(report))])
    doc.build(_story(report), canvasmaker=_NumberedCanvas)
    return buf.getvalue()


def _header(report: SubjectReport) -> Any:
    """The band at the top of every page: scheme, whose report, which date."""

    def draw(canvas: Canvas, _doc: Any) -> None:
        width, height = PAGE
        canvas.saveState()
        top = height - MARGIN
        _draw_mixed(canvas, MARGIN, top - 4 * mm, report.scheme, "Helvetica-Bold", 10, NAVY)
        right = f"Resident {report.subject_id}  ·  report date {report.at}"
        canvas.setFont("Helvetica", 9)
        canvas.setFillColor(NAVY)
        canvas.drawRightString(width - MARGIN, top - 4 * mm, right)
        canvas.setStrokeColor(GOLD)
        canvas.setLineWidth(1.5)
        canvas.line(MARGIN, top - 6.5 * mm, width - MARGIN, top - 6.5 * mm)
        canvas.restoreState()

    return draw


def _draw_mixed(canvas: Canvas, x: float, y: float, text: str, font: str, size: float, color: Any) -> None:
    """One line of text whose CJK runs use the CID font (canvas strings have no markup)."""
    canvas.setFillColor(color)
    for part in _CJK.split(text):
        if not part:
            continue
        face = cjk_font() if _CJK.fullmatch(part) else font
        canvas.setFont(face, size)
        canvas.drawString(x, y, part)
        x += pdfmetrics.stringWidth(part, face, size)


class _NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab ships no type hints
    """Keeps every page until the end so the footer can say "page N of M"."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # reportlab calls it by this name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont("Helvetica", 8)
            self.setFillColor(GREY)
            self.drawRightString(PAGE[0] - MARGIN, MARGIN, f"page {self._pageNumber} of {total}")
            self.drawString(MARGIN, MARGIN, "Guihua: a copy of the data held on this resident")
            super().showPage()
        super().save()


# --------------------------------------------------------------------------- the story


def _story(r: SubjectReport) -> list[Flowable]:
    out: list[Flowable] = [
        Paragraph(markup(words.TITLE), _H1),
        Spacer(1, 2 * mm),
        _p(
            f"Resident {r.subject_id}  ·  report date {r.at}  ·  made {words.stamp_text(r.generated_at)}  ·  "
            f"catalog version {r.catalog_version if r.catalog_version is not None else 'default'}",
            _BODY,
        ),
        Spacer(1, 2 * mm),
        _p(words.INTRO, _NOTE),
    ]
    out += _section("1. Score", None, _summary(r))
    out += _section("2. Records", "No records are held on this resident.", _records(r))
    out += _section("3. Record history (every stored version)", "No versions are stored.", _history(r))
    out += _section(
        "4. Adjustments and caps",
        "No record matched a rule: the score is the base.",
        _adjustments(r),
        note="Points a rule gives a record, from its start (after any notice period) to its end "
        "(exclusive). Within a category and calendar year gains and losses are capped: 'gain cap' or "
        f"'loss cap' means that cap limited this adjustment's group on {r.at}.",
    )
    out += _section("5. Defaulter-list cases", "No defaulter-list case.", _listings(r))
    out += _section("6. Objections", "No objection was filed.", _objections(r))
    out += _section("7. Notices sent", "No notice was made.", _notices(r))
    out += _section(
        "8. Who accessed this data",
        "No access is recorded.",
        _access(r),
        note="Every read and change of this resident's data, newest first, "
        "including the making of this report.",
    )
    return out


def _section(title: str, empty: str | None, table: Table | None, note: str | None = None) -> list[Flowable]:
    """A heading kept with the start of what follows it (never alone at the foot of a page)."""
    head: list[Flowable] = [Paragraph(markup(title), _H2)]
    if note:
        head += [_p(note, _NOTE), Spacer(1, 2 * mm)]
    if table is None:
        return [KeepTogether([*head, _p(empty or "", _NOTE)])]
    return [KeepTogether(head), table]


def _table(
    header: list[str], rows: list[list[Any]], widths: list[float], struck: list[int] | None = None
) -> Table | None:
    """A grid whose header repeats on each page it spans; ``widths`` are fractions of the page."""
    if not rows:
        return None
    data = [[_p(h, _HEAD) for h in header]]
    for i, row in enumerate(rows):
        style = _STRUCK if struck and i in struck else _CELL
        data.append([c if isinstance(c, Flowable) else _p(c, style) for c in row])
    table = Table(data, colWidths=[w * WIDTH for w in widths], repeatRows=1, splitByRow=True)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, GRID),
                ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _summary(r: SubjectReport) -> Table:
    versions = sum(len(rec.versions) for rec in r.records)
    listed = Paragraph(
        f'<font color="#a61b1b"><b>ON THE DEFAULTER LIST</b></font> on {r.at}'
        if r.defaulter
        else f"not on the defaulter list on {r.at}",
        _BODY,
    )
    rows = [
        [_p(f"Score on {r.at}", _HEAD), _p(f"{r.score}   (everyone starts at {r.base})", _BODY)],
        [_p("Defaulter list", _HEAD), listed],
        [_p("Records held", _HEAD), _p(f"{len(r.records)} ({versions} stored versions)", _BODY)],
    ]
    table = Table(rows, colWidths=[0.2 * WIDTH, 0.5 * WIDTH], hAlign="LEFT")
    table.setStyle(
        TableStyle([("GRID", (0, 0), (-1, -1), 0.4, GRID), ("BACKGROUND", (0, 0), (0, -1), HEAD_BG)])
    )
    return table


def _records(r: SubjectReport) -> Table | None:
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
                _status_cell(words.status_text(rec), rec.retracted),
                _lines(basis),
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
    return _table(header, rows, [0.12, 0.08, 0.1, 0.07, 0.2, 0.07, 0.05, 0.11, 0.2], struck)


def _status_cell(text: str, alarming: bool) -> Paragraph:
    if alarming:
        return Paragraph(f'<font color="#a61b1b"><b>{markup(text)}</b></font>', _CELL)
    return _p(text)


def _lines(text: str) -> Paragraph:
    return Paragraph("<br/>".join(markup(line) for line in text.split("\n")), _CELL)


def _history(r: SubjectReport) -> Table | None:
    rows: list[list[Any]] = []
    struck: list[int] = []
    for rec in r.records:
        for v in rec.versions:
            if v.retracted_at:
                state: Any = _status_cell(f"retracted {v.retracted_at}", True)
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
    return _table(header, rows, [0.07, 0.08, 0.05, 0.07, 0.25, 0.1, 0.17, 0.08, 0.13], struck)


def _adjustments(r: SubjectReport) -> Table | None:
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
    return _table(header, rows, [0.12, 0.09, 0.06, 0.1, 0.08, 0.08, 0.11, 0.1, 0.26])


def _listings(r: SubjectReport) -> Table | None:
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
    return _table(header, rows, [0.1, 0.16, 0.1, 0.09, 0.09, 0.08, 0.1, 0.28])


def _objections(r: SubjectReport) -> Table | None:
    rows = [
        [
            str(o.id),
            f"{o.department} {o.source_id} v{o.record_version}",
            f"{o.filed_on} by {o.filed_by}",
            o.reason,
            o.state,
            f"{o.decided_on} by {o.decided_by}" if o.decided_on else f"undecided (suspends {o.suspends_on})",
            o.decision_reason or "-",
        ]
        for o in r.objections
    ]
    header = ["No.", "Record", "Filed", "Reason", "State", "Decided", "Decision reason"]
    return _table(header, rows, [0.04, 0.12, 0.13, 0.25, 0.07, 0.14, 0.25])


def _notices(r: SubjectReport) -> Table | None:
    rows = [
        [
            n.created_at,
            n.kind,
            Paragraph(f"<b>{markup(n.title)}</b><br/>{markup(n.body)}", _CELL),
            words.deliveries_text(n.deliveries),
        ]
        for n in r.notices
    ]
    return _table(["Made (UTC)", "Kind", "Notice", "Delivery"], rows, [0.1, 0.06, 0.62, 0.22])


def _access(r: SubjectReport) -> Table | None:
    rows = [
        [e.at[:19].replace("T", " "), e.account, e.role, e.action, e.purpose or "-", e.outcome]
        for e in r.access_log
    ]
    header = ["When (UTC)", "Account", "Role", "Action", "Purpose", "Outcome"]
    return _table(header, rows, [0.13, 0.17, 0.1, 0.17, 0.33, 0.1])
