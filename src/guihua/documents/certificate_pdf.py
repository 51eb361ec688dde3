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

_BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=11, leading=15)
_SMALL = ParagraphStyle(
    "small", fontName="Helvetica", fontSize=8, leading=10, textColor=colors.HexColor("#444444")
)
_CELL = ParagraphStyle("cell", fontName="Helvetica", fontSize=8.5, leading=10.5)


def _esc(text: str) -> str:
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
    width, height = A4
    left, right = 20 * mm, width - 20 * mm

    # letterhead
    page.setFillColor(NAVY)
    page.rect(0, height - 38 * mm, width, 38 * mm, stroke=0, fill=1)
    page.setFillColor(colors.white)
    page.setFont("Helvetica-Bold", 20)
    page.drawString(left, height - 17 * mm, s.authority)
    page.setFont("Helvetica", 11)
    page.drawString(left, height - 25 * mm, f"Public credit scheme: {s.scheme}")
    page.setFont("Helvetica", 9)
    page.drawString(
        left,
        height - 31 * mm,
        "Issued under the scheme's published catalog; every listing names its legal basis.",
    )
    page.setFillColor(GOLD)
    page.rect(0, height - 40 * mm, width, 2 * mm, stroke=0, fill=1)

    # title
    y = height - 56 * mm
    page.setFillColor(NAVY)
    page.setFont("Helvetica-Bold", 17)
    page.drawCentredString(width / 2, y, "CERTIFICATE OF LISTING STATUS")
    page.setFont("Helvetica", 10)
    page.setFillColor(colors.black)
    page.drawCentredString(width / 2, y - 6 * mm, f"Defaulter list status on {s.at}")

    # the status, in a box
    y -= 20 * mm
    listed = s.finding.status == "listed"
    page.setStrokeColor(colors.HexColor("#a61b1b") if listed else colors.HexColor("#1b6e3a"))
    page.setLineWidth(1.5)
    page.rect(left, y - 4 * mm, right - left, 12 * mm, stroke=1, fill=0)
    page.setFillColor(colors.HexColor("#a61b1b") if listed else colors.HexColor("#1b6e3a"))
    page.setFont("Helvetica-Bold", 13)
    page.drawCentredString(width / 2, y, STATUS_LINE[s.finding.status])
    page.setFillColor(colors.black)

    # the statement in words
    y -= 12 * mm
    y = _flow(page, Paragraph(_esc(s.text), _BODY), left, y, right - left)

    # the cases
    if s.finding.cases:
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
        y = _flow(page, table, left, y - 4 * mm, right - left)

    # particulars and the QR code
    y -= 8 * mm
    qr_size = 42 * mm
    particulars = [
        ["Resident ID", s.subject_id],
        ["Status on", s.at],
        ["Verification code", display_code(s.code)],
        ["Issued", s.issued_at.replace("T", " ").replace("Z", " UTC")],
        ["Valid until", s.valid_until],
        ["Signing key", f"Ed25519, key id {s.key_id}"],
    ]
    facts = Table(particulars, colWidths=[35 * mm, right - left - qr_size - 40 * mm])
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
    _, facts_h = facts.wrapOn(page, right - left - qr_size, height)
    facts.drawOn(page, left, y - facts_h)

    qr = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = qr.getBounds()
    drawing = Drawing(qr_size, qr_size, transform=[qr_size / (x1 - x0), 0, 0, qr_size / (y1 - y0), 0, 0])
    drawing.add(qr)
    renderPDF.draw(drawing, page, right - qr_size, y - qr_size)
    page.setFont("Helvetica", 7)
    page.drawCentredString(right - qr_size / 2, y - qr_size - 3 * mm, "Scan to check this certificate")
    y = min(y - facts_h, y - qr_size - 3 * mm)

    # how to check it
    y -= 10 * mm
    check = (
        f"<b>Check this certificate.</b> Online: {_esc(url)} (or enter the code "
        f"<font face='Courier-Bold'>{display_code(s.code)}</font>) tells whether it is still valid, "
        "has expired, or has been superseded by a later change in the resident's listing status. "
        "Offline: the signed statement is attached to this PDF as certificate.json; "
        "<font face='Courier'>guihua certificate verify FILE</font> checks its Ed25519 signature against the "
        "centre's published public key. Only the attached statement is signed: a change to this page "
        "does not change what is certified."
    )
    y = _flow(page, Paragraph(check, _SMALL), left, y, right - left)

    # seal line
    page.setStrokeColor(NAVY)
    page.setLineWidth(0.6)
    page.line(left, 28 * mm, right, 28 * mm)
    page.setFont("Helvetica-Bold", 9)
    page.setFillColor(NAVY)
    page.drawString(left, 22 * mm, f"{s.authority}")
    page.setFont("Helvetica", 8)
    page.setFillColor(colors.black)
    page.drawString(left, 17 * mm, f"Digitally signed, Ed25519 key fingerprint {s.key_id}")
    page.drawRightString(right, 22 * mm, f"Certificate {display_code(s.code)}")
    page.drawRightString(right, 17 * mm, f"Valid until {s.valid_until}")


def _flow(page: Canvas, flowable: Paragraph | Table, x: float, y: float, width: float) -> float:
    """Draw ``flowable`` with its top at ``y``; return the y below it."""
    _, h = flowable.wrapOn(page, width, y)
    flowable.drawOn(page, x, y - h)
    return float(y - h)
