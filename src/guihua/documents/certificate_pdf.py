"""A certificate as a one-page PDF: what a landlord or employer reads, and what a machine checks.

The page says the statement in words, with the code to type and a QR code of the public check;
the signed statement itself travels inside the PDF as the attachment ``certificate.json``, which
:func:`embedded_certificate` reads back for offline verification. The page is for people, the
attachment is what the signature covers: changing the page text proves nothing either way.
"""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader, PdfWriter
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, Table, TableStyle

from guihua.core.statement import Statement, display_code

ATTACHMENT = "certificate.json"
NAVY = colors.HexColor("#1f3a5f")
GOLD = colors.HexColor("#b8860b")
STATUS_LINE = {
    "not_listed": "NOT ON THE DEFAULTER LIST",
    "resolved": "NOT ON THE DEFAULTER LIST (earlier cases resolved)",
    "listed": "ON THE DEFAULTER LIST",
}
WIDTH, HEIGHT = A4
LEFT, RIGHT = 20 * mm, WIDTH - 20 * mm  # the text column: 20 mm margins
QR_SIZE = 42 * mm

_BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=11, leading=15)
_SMALL = ParagraphStyle(
    "small", fontName="Helvetica", fontSize=8, leading=10, textColor=colors.HexColor("#444444")
)
_CELL = ParagraphStyle("cell", fontName="Helvetica", fontSize=8.5, leading=10.5)


def _esc(text: str) -> str:
    """Escape text for Paragraph markup: statement texts and case data are never markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(statement: Statement, signed_json: bytes, url: str) -> bytes:
    """The PDF bytes: the readable page, with ``signed_json`` (the certificate file) attached."""
    buf = io.BytesIO()
    page = Canvas(buf, pagesize=A4)
    page.setTitle(f"Certificate of listing status {display_code(statement.code)}")
    page.setAuthor(statement.authority)
    page.setSubject(statement.text)
    page.setCreator("Guihua")
    _draw(page, statement, url)
    page.showPage()
    page.save()

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buf.getvalue())))
    writer.add_attachment(ATTACHMENT, signed_json)
    writer.add_metadata({"/GuihuaCertificateCode": statement.code})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def embedded_certificate(pdf: bytes) -> bytes | None:
    """The attached certificate file of a PDF made by :func:`render`, or None if it has none."""
    reader = PdfReader(io.BytesIO(pdf))
    found = reader.attachments.get(ATTACHMENT)
    return found[0] if found else None


def _draw(page: Canvas, s: Statement, url: str) -> None:
    """The whole page, top to bottom; each part starts where the one above it ended."""
    _letterhead(page, s)
    y = _title(page, s)
    y = _status_box(page, s, y)
    y = _flow(page, Paragraph(_esc(s.text), _BODY), LEFT, y - 12 * mm, RIGHT - LEFT)
    if s.finding.cases:
        y = _flow(page, _cases_table(s), LEFT, y - 4 * mm, RIGHT - LEFT)
    y = _particulars_and_qr(page, s, url, y - 8 * mm)
    _flow(page, Paragraph(_check_text(s, url), _SMALL), LEFT, y - 10 * mm, RIGHT - LEFT)
    _seal_line(page, s)


def _letterhead(page: Canvas, s: Statement) -> None:
    """The navy band with the issuing authority and scheme, and a gold rule under it."""
    page.setFillColor(NAVY)
    page.rect(0, HEIGHT - 38 * mm, WIDTH, 38 * mm, stroke=0, fill=1)
    page.setFillColor(colors.white)
    page.setFont("Helvetica-Bold", 20)
    page.drawString(LEFT, HEIGHT - 17 * mm, s.authority)
    page.setFont("Helvetica", 11)
    page.drawString(LEFT, HEIGHT - 25 * mm, f"Public credit scheme: {s.scheme}")
    page.setFont("Helvetica", 9)
    page.drawString(
        LEFT,
        HEIGHT - 31 * mm,
        "Issued under the scheme's published catalog; every listing names its legal basis.",
    )
    page.setFillColor(GOLD)
    page.rect(0, HEIGHT - 40 * mm, WIDTH, 2 * mm, stroke=0, fill=1)


def _title(page: Canvas, s: Statement) -> float:
    """The centred title and the date the status is certified for; returns the title's baseline."""
    y: float = HEIGHT - 56 * mm
    page.setFillColor(NAVY)
    page.setFont("Helvetica-Bold", 17)
    page.drawCentredString(WIDTH / 2, y, "CERTIFICATE OF LISTING STATUS")
    page.setFont("Helvetica", 10)
    page.setFillColor(colors.black)
    page.drawCentredString(WIDTH / 2, y - 6 * mm, f"Defaulter list status on {s.at}")
    return y


def _status_box(page: Canvas, s: Statement, y: float) -> float:
    """The status in one boxed line, red if listed and green if not: what a reader looks for first."""
    y -= 20 * mm
    tone = colors.HexColor("#a61b1b") if s.finding.status == "listed" else colors.HexColor("#1b6e3a")
    page.setStrokeColor(tone)
    page.setLineWidth(1.5)
    page.rect(LEFT, y - 4 * mm, RIGHT - LEFT, 12 * mm, stroke=1, fill=0)
    page.setFillColor(tone)
    page.setFont("Helvetica-Bold", 13)
    page.drawCentredString(WIDTH / 2, y, STATUS_LINE[s.finding.status])
    page.setFillColor(colors.black)
    return y


def _cases_table(s: Statement) -> Table:
    """The listing cases behind the status, each with its department and legal basis."""
    rows: list[list[Any]] = [["Case", "Department", "Listed on", "Resolved on", "Legal basis"]]
    for c in s.finding.cases:
        rows.append(
            [
                Paragraph(_esc(c.case_id), _CELL),
                Paragraph(_esc(c.department_name), _CELL),
                c.listed_on,
                c.resolved_on or "open",
                Paragraph(_esc(c.legal_basis), _CELL),
            ]
        )
    table = Table(rows, colWidths=[25 * mm, 45 * mm, 22 * mm, 22 * mm, 56 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8.5),
                ("FONT", (0, 1), (-1, -1), "Helvetica", 8.5),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edf3")),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#8a9bb0")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _particulars_and_qr(page: Canvas, s: Statement, url: str, y: float) -> float:
    """The particulars table with the QR code of the public check beside it; returns the y below both."""
    facts = _particulars_table(s)
    _, facts_h = facts.wrapOn(page, RIGHT - LEFT - QR_SIZE, HEIGHT)
    facts.drawOn(page, LEFT, y - facts_h)
    _qr_code(page, url, y)
    return float(min(y - facts_h, y - QR_SIZE - 3 * mm))


def _particulars_table(s: Statement) -> Table:
    """Who, which date, the code to type (large, monospaced) and the key that signed it."""
    particulars = [
        ["Resident ID", s.subject_id],
        ["Status on", s.at],
        ["Verification code", display_code(s.code)],
        ["Issued", s.issued_at.replace("T", " ").replace("Z", " UTC")],
        ["Valid until", s.valid_until],
        ["Signing key", f"Ed25519, key id {s.key_id}"],
    ]
    facts = Table(particulars, colWidths=[35 * mm, RIGHT - LEFT - QR_SIZE - 40 * mm])
    facts.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (0, -1), "Helvetica-Bold", 9.5),
                ("FONT", (1, 0), (1, -1), "Helvetica", 9.5),
                ("FONT", (1, 2), (1, 2), "Courier-Bold", 12),
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, colors.HexColor("#c9d2dd")),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return facts


def _qr_code(page: Canvas, url: str, y: float) -> None:
    """The QR code of the check URL at the right margin, top at ``y``, with a caption under it."""
    qr = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = qr.getBounds()
    drawing = Drawing(QR_SIZE, QR_SIZE, transform=[QR_SIZE / (x1 - x0), 0, 0, QR_SIZE / (y1 - y0), 0, 0])
    drawing.add(qr)
    renderPDF.draw(drawing, page, RIGHT - QR_SIZE, y - QR_SIZE)
    page.setFont("Helvetica", 7)
    page.drawCentredString(RIGHT - QR_SIZE / 2, y - QR_SIZE - 3 * mm, "Scan to check this certificate")


def _check_text(s: Statement, url: str) -> str:
    """How to check the certificate online and offline, and that only the attachment is signed."""
    return (
        f"<b>Check this certificate.</b> Online: {_esc(url)} (or enter the code "
        f"<font face='Courier-Bold'>{display_code(s.code)}</font>) tells whether it is still valid, "
        "has expired, or has been superseded by a later change in the resident's listing status. "
        "Offline: the signed statement is attached to this PDF as certificate.json; "
        "<font face='Courier'>guihua certificate verify FILE</font> checks its Ed25519 signature against the "
        "centre's published public key. Only the attached statement is signed: a change to this page "
        "does not change what is certified."
    )


def _seal_line(page: Canvas, s: Statement) -> None:
    """The footer at a fixed height: the authority, the key fingerprint, the code and validity."""
    page.setStrokeColor(NAVY)
    page.setLineWidth(0.6)
    page.line(LEFT, 28 * mm, RIGHT, 28 * mm)
    page.setFont("Helvetica-Bold", 9)
    page.setFillColor(NAVY)
    page.drawString(LEFT, 22 * mm, f"{s.authority}")
    page.setFont("Helvetica", 8)
    page.setFillColor(colors.black)
    page.drawString(LEFT, 17 * mm, f"Digitally signed, Ed25519 key fingerprint {s.key_id}")
    page.drawRightString(RIGHT, 22 * mm, f"Certificate {display_code(s.code)}")
    page.drawRightString(RIGHT, 17 * mm, f"Valid until {s.valid_until}")


def _flow(page: Canvas, flowable: Paragraph | Table, x: float, y: float, width: float) -> float:
    """Draw ``flowable`` with its top at ``y``; return the y below it."""
    _, h = flowable.wrapOn(page, width, y)
    flowable.drawOn(page, x, y - h)
    return float(y - h)
