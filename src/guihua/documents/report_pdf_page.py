"""What the report PDF prints on every page: a header band and a "page N of M" footer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from guihua.core.results import SubjectReport
from guihua.documents.pdf_fonts import draw_mixed
from guihua.documents.report_pdf_style import GOLD, GREY, MARGIN, NAVY, PAGE
from guihua.documents.words import Words


def page_header(report: SubjectReport, w: Words) -> Callable[[Canvas, Any], None]:
    """The band at the top of every page: scheme, whose report, which date.

    A page printed and separated from the rest still says whose data it is.
    """
    right = w._("Resident {subject}  ·  report date {day}", subject=report.subject_id, day=report.at)

    def draw(canvas: Canvas, _doc: Any) -> None:
        width, height = PAGE
        canvas.saveState()
        top = height - MARGIN
        draw_mixed(canvas, MARGIN, top - 4 * mm, w.scheme(), "Helvetica-Bold", 10, NAVY)
        draw_mixed(canvas, width - MARGIN, top - 4 * mm, right, "Helvetica", 9, NAVY, align="right")
        canvas.setStrokeColor(GOLD)
        canvas.setLineWidth(1.5)
        canvas.line(MARGIN, top - 6.5 * mm, width - MARGIN, top - 6.5 * mm)
        canvas.restoreState()

    return draw


def numbered_canvas(w: Words) -> type[Canvas]:
    """A canvas class whose footer says "page N of M" in ``w``'s language."""

    class NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab ships no type hints
        """Keeps every page until the end so the footer can say "page N of M"."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # reportlab calls it by this name
            """Hold the finished page back: the total is not known until the last one."""
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            """Write every held page with its footer, now that the number of pages is known."""
            total = len(self._pages)
            footer = w._("Guihua: a copy of the data held on this resident")
            for state in self._pages:
                self.__dict__.update(state)
                page = w._("page {n} of {total}", n=self._pageNumber, total=total)
                draw_mixed(self, PAGE[0] - MARGIN, MARGIN, page, "Helvetica", 8, GREY, align="right")
                draw_mixed(self, MARGIN, MARGIN, footer, "Helvetica", 8, GREY)
                super().showPage()
            super().save()

    return NumberedCanvas
