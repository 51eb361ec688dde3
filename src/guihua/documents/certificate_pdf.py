"""A certificate as a one-page PDF: what a landlord or employer reads, and what a machine checks.

The page says the statement in words, in the reader's language (zh-CN by default, or English),
with the code to type and a QR code of the public check page (``/verify/{code}`` under
``GUIHUA_PUBLIC_URL``); each listing case names its department, what was recorded and the rule
in words, with why. The signed statement itself travels inside the PDF as the attachment
``certificate.json``, which :func:`embedded_certificate` reads back for offline verification.
The page is for people, the attachment is what the signature covers (its sentence is in
English, the same in every copy): changing the page text proves nothing either way.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
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

from guihua.core.statement import Case, Statement, display_code
from guihua.documents.pdf_fonts import draw_mixed, markup
from guihua.documents.words import Words

ATTACHMENT = "certificate.json"
NAVY = colors.HexColor("#1f3a5f")
GOLD = colors.HexColor("#b8860b")
WIDTH, HEIGHT = A4
LEFT, RIGHT = 20 * mm, WIDTH - 20 * mm  # the text column: 20 mm margins
QR_SIZE = 42 * mm

_BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=11, leading=15, wordWrap="CJK")
_SMALL = ParagraphStyle(
    "small",
    fontName="Helvetica",
    fontSize=8,
    leading=10.5,
    textColor=colors.HexColor("#444444"),
    wordWrap="CJK",
)
_CELL = ParagraphStyle("cell", fontName="Helvetica", fontSize=7.5, leading=9.5, wordWrap="CJK")
_HEAD = ParagraphStyle("head", parent=_CELL, fontName="Helvetica-Bold")
_FACT = ParagraphStyle("fact", parent=_CELL, fontSize=9.5, leading=12)
_FACT_HEAD = ParagraphStyle("facthead", parent=_FACT, fontName="Helvetica-Bold")
_CODE = ParagraphStyle("code", parent=_FACT, fontName="Courier-Bold", fontSize=12, leading=14)

Rules = Mapping[tuple[str, str], str | None]  # (department, case id) -> the rule that listed it


def render(
    statement: Statement, signed_json: bytes, url: str, words: Words, rules: Rules | None = None
) -> bytes:
    """The PDF bytes: the readable page in ``words``' language, with ``signed_json`` attached.

    ``rules`` names the rule behind each case, so the page can say it in words and why.
    """
    buf = io.BytesIO()
    page = Canvas(buf, pagesize=A4, lang=words.lang)
    page.setTitle(words._("Certificate of listing status {code}", code=display_code(statement.code)))
    page.setAuthor(words.authority(statement.authority))
    page.setSubject(statement.text)
    page.setCreator("Guihua")
    _draw(page, statement, url, words, rules or {})
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


def _draw(page: Canvas, s: Statement, url: str, w: Words, rules: Rules) -> None:
    """The whole page, top to bottom; each part starts where the one above it ended."""
    _letterhead(page, s, w)
    y = _title(page, s, w)
    y = _status_box(page, s, y, w)
    sentence = w.certificate_statement(s.finding, s.subject_id, s.at, s.scheme)
    y = _flow(page, Paragraph(markup(sentence), _BODY), LEFT, y - 12 * mm, RIGHT - LEFT)
    if s.finding.cases:
        y = _flow(page, _cases_table(s, w, rules), LEFT, y - 4 * mm, RIGHT - LEFT)
    y = _particulars_and_qr(page, s, url, y - 8 * mm, w)
    _flow(page, Paragraph(_check_text(s, url, w), _SMALL), LEFT, y - 8 * mm, RIGHT - LEFT)
    _seal_line(page, s, w)


def _letterhead(page: Canvas, s: Statement, w: Words) -> None:
    """The navy band with the issuing authority and scheme, and a gold rule under it."""
    page.setFillColor(NAVY)
    page.rect(0, HEIGHT - 38 * mm, WIDTH, 38 * mm, stroke=0, fill=1)
    white = colors.white
    draw_mixed(page, LEFT, HEIGHT - 17 * mm, w.authority(s.authority), "Helvetica-Bold", 20, white)
    scheme = w.scheme() if s.scheme == w.catalog.scheme.name else s.scheme
    draw_mixed(
        page,
        LEFT,
        HEIGHT - 25 * mm,
        w._("Public credit scheme: {scheme}", scheme=scheme),
        "Helvetica",
        11,
        white,
    )
    draw_mixed(
        page,
        LEFT,
        HEIGHT - 31 * mm,
        w._("Issued under the scheme's published catalog; every listing names its legal basis."),
        "Helvetica",
        9,
        white,
    )
    page.setFillColor(GOLD)
    page.rect(0, HEIGHT - 40 * mm, WIDTH, 2 * mm, stroke=0, fill=1)


def _title(page: Canvas, s: Statement, w: Words) -> float:
    """The centred title and the date the status is certified for; returns the title's baseline."""
    y: float = HEIGHT - 56 * mm
    draw_mixed(page, WIDTH / 2, y, w._("CERTIFICATE OF LISTING STATUS"), "Helvetica-Bold", 17, NAVY, "centre")
    draw_mixed(
        page,
        WIDTH / 2,
        y - 6 * mm,
        w._("Defaulter list status on {day}", day=s.at),
        "Helvetica",
        10,
        colors.black,
        "centre",
    )
    return y


def _status_box(page: Canvas, s: Statement, y: float, w: Words) -> float:
    """The status in one boxed line, red if listed and green if not: what a reader looks for first."""
    y -= 20 * mm
    tone = colors.HexColor("#a61b1b") if s.finding.status == "listed" else colors.HexColor("#1b6e3a")
    page.setStrokeColor(tone)
    page.setLineWidth(1.5)
    page.rect(LEFT, y - 4 * mm, RIGHT - LEFT, 12 * mm, stroke=1, fill=0)
    draw_mixed(
        page, WIDTH / 2, y, w.certificate_status(s.finding.status), "Helvetica-Bold", 13, tone, "centre"
    )
    page.setFillColor(colors.black)
    return y


def _cell(text: str, style: ParagraphStyle = _CELL) -> Paragraph:
    return Paragraph(markup(text), style)


def _case_words(c: Case, w: Words, rules: Rules) -> Paragraph:
    """The rule behind a case in words, and on the next line why it lists the resident."""
    rule_id = rules.get((c.department, c.case_id))
    if not rule_id:
        return _cell("-")
    lines = [w.rule_ref(rule_id, c.metric), w.why(rule_id, c.department, c.metric, c.listed_on)]
    return Paragraph("<br/>".join(markup(line) for line in lines), _CELL)


def _cases_table(s: Statement, w: Words, rules: Rules) -> Table:
    """The listing cases behind the status: department, what was recorded, the rule and why, the law."""
    header = [
        w._("Case"),
        w._("Department"),
        w._("What"),
        w._("Listed on"),
        w._("Resolved on"),
        w._("Rule and why"),
        w._("Legal basis"),
    ]
    rows: list[list[Any]] = [[_cell(h, _HEAD) for h in header]]
    for c in s.finding.cases:
        rule_id = rules.get((c.department, c.case_id))
        rows.append(
            [
                _cell(c.case_id),
                _cell(w.department(c.department) or c.department_name),
                _cell(w.metric(c.metric)),
                _cell(c.listed_on),
                _cell(c.resolved_on or w._("open")),
                _case_words(c, w, rules),
                _cell(w.rule_basis(rule_id) or c.legal_basis),
            ]
        )
    widths = [18 * mm, 27 * mm, 25 * mm, 17 * mm, 17 * mm, 40 * mm, 26 * mm]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edf3")),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#8a9bb0")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _particulars_and_qr(page: Canvas, s: Statement, url: str, y: float, w: Words) -> float:
    """The particulars table with the QR code of the public check beside it; returns the y below both."""
    facts = _particulars_table(s, w)
    _, facts_h = facts.wrapOn(page, RIGHT - LEFT - QR_SIZE, HEIGHT)
    facts.drawOn(page, LEFT, y - facts_h)
    _qr_code(page, url, y, w)
    return float(min(y - facts_h, y - QR_SIZE - 3 * mm))


def _particulars_table(s: Statement, w: Words) -> Table:
    """Who, which date, the code to type (large, monospaced) and the key that signed it."""
    particulars = [
        [w._("Resident ID"), _cell(s.subject_id, _FACT)],
        [w._("Status on"), _cell(s.at, _FACT)],
        [w._("Verification code"), _cell(display_code(s.code), _CODE)],
        [w._("Issued"), _cell(s.issued_at.replace("T", " ").replace("Z", " UTC"), _FACT)],
        [w._("Valid until"), _cell(s.valid_until, _FACT)],
        [w._("Signing key"), _cell(w._("Ed25519, key id {id}", id=s.key_id), _FACT)],
    ]
    rows = [[_cell(label, _FACT_HEAD), value] for label, value in particulars]
    facts = Table(rows, colWidths=[35 * mm, RIGHT - LEFT - QR_SIZE - 40 * mm])
    facts.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, colors.HexColor("#c9d2dd")),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return facts


def _qr_code(page: Canvas, url: str, y: float, w: Words) -> None:
    """The QR code of the check page at the right margin, top at ``y``, with a caption under it."""
    qr = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = qr.getBounds()
    drawing = Drawing(QR_SIZE, QR_SIZE, transform=[QR_SIZE / (x1 - x0), 0, 0, QR_SIZE / (y1 - y0), 0, 0])
    drawing.add(qr)
    renderPDF.draw(drawing, page, RIGHT - QR_SIZE, y - QR_SIZE)
    caption = w._("Scan to check this certificate")
    draw_mixed(
        page, RIGHT - QR_SIZE / 2, y - QR_SIZE - 3 * mm, caption, "Helvetica", 7, colors.black, "centre"
    )


def _check_text(s: Statement, url: str, w: Words) -> str:
    """How to check the certificate online and offline, how to object, and what is signed (markup).

    Each sentence is escaped as a whole with its placeholders left in, then given its values as
    markup (the code in Courier), so no value is ever read as markup.
    """
    code = f"<font face='Courier-Bold'>{display_code(s.code)}</font>"
    command = "<font face='Courier'>guihua certificate verify FILE</font>"
    parts = [
        "<b>" + markup(w._("Check this certificate.")) + "</b>",
        markup(
            w._(
                "Online: {url} tells whether it is still valid, has expired, or has been superseded by a "
                "later change in the resident's listing status (or enter the code {code} on that page)."
            )
        ).format(url=markup(url), code=code),
        markup(
            w._(
                "Offline: the signed statement is attached to this PDF as certificate.json; {command} checks "
                "its Ed25519 signature against the centre's published public key. Only the attached "
                "statement is signed: a change to this page does not change what is certified."
            )
        ).format(command=command),
    ]
    if s.finding.cases:
        parts.append(
            markup(
                w._(
                    "If a listing shown here is wrong, the resident can object to its record on the portal "
                    "at {portal} or at any service centre counter.",
                    portal=w.portal,
                )
            )
        )
    return w.sentences(parts)


def _seal_line(page: Canvas, s: Statement, w: Words) -> None:
    """The footer at a fixed height: the authority, the key fingerprint, the code and validity."""
    page.setStrokeColor(NAVY)
    page.setLineWidth(0.6)
    page.line(LEFT, 28 * mm, RIGHT, 28 * mm)
    draw_mixed(page, LEFT, 22 * mm, w.authority(s.authority), "Helvetica-Bold", 9, NAVY)
    black = colors.black
    fingerprint = w._("Digitally signed, Ed25519 key fingerprint {id}", id=s.key_id)
    draw_mixed(page, LEFT, 17 * mm, fingerprint, "Helvetica", 8, black)
    certificate = w._("Certificate {code}", code=display_code(s.code))
    draw_mixed(page, RIGHT, 22 * mm, certificate, "Helvetica", 8, black, "right")
    draw_mixed(
        page, RIGHT, 17 * mm, w._("Valid until {day}", day=s.valid_until), "Helvetica", 8, black, "right"
    )


def _flow(page: Canvas, flowable: Paragraph | Table, x: float, y: float, width: float) -> float:
    """Draw ``flowable`` with its top at ``y``; return the y below it."""
    _, h = flowable.wrapOn(page, width, y)
    flowable.drawOn(page, x, y - h)
    return float(y - h)
