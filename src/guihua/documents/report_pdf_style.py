"""The look of the report PDF: page geometry, colours, text styles, and the building blocks.

Every section of :mod:`guihua.documents.report_pdf_sections` is a heading and a grid table made
here, so all sections share one style and a change of look is made in one place.
"""

from __future__ import annotations

from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from guihua.documents.pdf_fonts import markup

NAVY = colors.HexColor("#1f3a5f")
GOLD = colors.HexColor("#b8860b")
GRID = colors.HexColor("#b4b9c6")
HEAD_BG = colors.HexColor("#e8edf4")
RED = colors.HexColor("#a61b1b")
GREY = colors.HexColor("#666666")

PAGE = landscape(A4)  # nine-column tables of fields and legal bases need the width
MARGIN = 14 * mm
WIDTH = PAGE[0] - 2 * MARGIN

# wordWrap="CJK": Chinese lines break between characters, as Chinese is written, while Latin
# words (ids, legal citations) stay whole; without it a run of Chinese never wraps at all.
BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=9, leading=12, wordWrap="CJK")
NOTE = ParagraphStyle("note", parent=BODY, fontSize=8, leading=10.5, textColor=colors.HexColor("#444444"))
BOX = ParagraphStyle(
    "box",
    parent=BODY,
    fontSize=8.5,
    leading=11,
    textColor=NAVY,
    borderPadding=4,
    borderColor=NAVY,
    borderWidth=0.6,
    backColor=colors.HexColor("#f2f5f9"),
)
H1 = ParagraphStyle("h1", fontName="Helvetica-Bold", fontSize=17, leading=21, textColor=NAVY, wordWrap="CJK")
H2 = ParagraphStyle(
    "h2",
    fontName="Helvetica-Bold",
    fontSize=12,
    leading=15,
    textColor=NAVY,
    spaceBefore=10,
    spaceAfter=4,
    wordWrap="CJK",
)
CELL = ParagraphStyle(
    "cell", fontName="Helvetica", fontSize=7.5, leading=9.2, alignment=TA_LEFT, wordWrap="CJK"
)
HEAD = ParagraphStyle("head", parent=CELL, fontName="Helvetica-Bold")
STRUCK = ParagraphStyle("struck", parent=CELL, textColor=GREY)


def para(text: object, style: ParagraphStyle = CELL) -> Paragraph:
    """A paragraph of plain text (escaped, CJK in the CJK font): the default is a table cell."""
    return Paragraph(markup(text), style)


def status_cell(text: str, alarming: bool) -> Paragraph:
    """A status cell; an alarming status (retracted) in bold red so a reader cannot miss it."""
    if alarming:
        return Paragraph(f'<font color="#a61b1b"><b>{markup(text)}</b></font>', CELL)
    return para(text)


def lines_cell(text: str) -> Paragraph:
    """A cell with one line per ``\\n`` in ``text`` (Paragraph markup ignores newlines)."""
    return Paragraph("<br/>".join(markup(line) for line in text.split("\n")), CELL)


def section(title: str, empty: str | None, table: Table | None, note: str | None = None) -> list[Flowable]:
    """A heading kept with the start of what follows it (never alone at the foot of a page)."""
    head: list[Flowable] = [Paragraph(markup(title), H2)]
    if note:
        head += [para(note, NOTE), Spacer(1, 2 * mm)]
    if table is None:
        return [KeepTogether([*head, para(empty or "", NOTE)])]
    return [KeepTogether(head), table]


def grid_table(
    header: list[str], rows: list[list[Any]], widths: list[float], struck: list[int] | None = None
) -> Table | None:
    """A grid whose header repeats on each page it spans; ``widths`` are fractions of the page.

    None when there are no rows, so the section says in words that there is nothing. Rows whose
    index is in ``struck`` are greyed (a retracted record stays in the report, but reads as gone).
    """
    if not rows:
        return None
    data = [[para(h, HEAD) for h in header]]
    for i, row in enumerate(rows):
        style = STRUCK if struck and i in struck else CELL
        data.append([c if isinstance(c, Flowable) else para(c, style) for c in row])
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
