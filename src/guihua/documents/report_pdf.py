"""A resident's report as a PDF for the service centre's printer (reportlab platypus).

Sections with headings, tables whose header row repeats when they split across pages, and on
every page a header (scheme, resident, date of the report) and a footer "page N of M".

Names, fields and reasons may be Chinese: runs of CJK characters are set in a CJK font, embedded
when one is found (see :mod:`guihua.documents.pdf_fonts` for which font and why).

The parts, each in its own module:

- :mod:`~guihua.documents.pdf_fonts`: the CJK font and mixed Latin/CJK text;
- :mod:`~guihua.documents.report_pdf_style`: page geometry, colours, styles, tables;
- :mod:`~guihua.documents.report_pdf_page`: the header and footer of every page;
- :mod:`~guihua.documents.report_pdf_sections`: the title block and the numbered sections.
"""

from __future__ import annotations

import io

from reportlab.lib.units import mm
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

from guihua.core.results import SubjectReport
from guihua.documents import report_text as text
from guihua.documents.pdf_fonts import CID_FONT, EMBEDDED_FONT, cjk_font, markup
from guihua.documents.report_pdf_page import numbered_canvas, page_header
from guihua.documents.report_pdf_sections import story
from guihua.documents.report_pdf_style import MARGIN, PAGE
from guihua.documents.words import Words

__all__ = ["CID_FONT", "EMBEDDED_FONT", "cjk_font", "markup", "render"]


def render(report: SubjectReport, words: Words) -> bytes:
    """The PDF bytes of the report, in ``words``' language."""
    buf = io.BytesIO()
    doc = BaseDocTemplate(
        buf,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + 10 * mm,
        bottomMargin=MARGIN + 4 * mm,
        title=f"{text.title(words)}: {report.subject_id} {report.at}",
        author=words.scheme(),
        subject=words._("Everything held on resident {subject}", subject=report.subject_id),
        creator="Guihua",
        lang=words.lang,
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=page_header(report, words))])
    doc.build(story(report, words), canvasmaker=numbered_canvas(words))
    return buf.getvalue()
