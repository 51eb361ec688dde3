"""Chinese text in reportlab PDFs: which CJK font to use, and how to set mixed Latin/CJK text.

The standard PDF fonts have no CJK glyphs, so runs of CJK characters get a CJK font; Latin text
stays in Helvetica, so ids, rule ids and legal bases stay extractable as plain text. The CJK font
is, first found:

1. a TrueType font named by ``GUIHUA_PDF_CJK_FONT`` (a .ttf, or a .ttc with TrueType outlines),
   or one of the usual system ones (Droid Sans Fallback, WenQuanYi, AR PL, SimSun/SimHei):
   embedded as a subset, so every viewer shows the characters;
2. else reportlab's built-in CID font ``STSong-Light`` (Adobe-GB1), which is *not* embedded: the
   text is right (copy, search, extraction) but the viewer must supply the glyphs. Acrobat does
   (Asian font pack); poppler (pdftoppm, evince) showed empty boxes in our trial even with a
   Chinese font installed. Hence the embedded font when one is available.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import Any

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.pdfmetrics import registerFontFamily
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

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

# CJK ideographs, punctuation, kana, hangul and full-width forms: set in the CJK font.
CJK_RUN = re.compile(r"([\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]+)")


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


def escape(text: str) -> str:
    """Escape text for Paragraph markup, so ``<`` or ``&`` in data print as themselves."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markup(text: object) -> str:
    """Paragraph markup for any text: escaped (department data is never markup), CJK in the CJK font."""
    return CJK_RUN.sub(rf'<font name="{cjk_font()}">\1</font>', escape(str(text)))


def _runs(text: str, font: str) -> list[tuple[str, str]]:
    """``text`` cut into (part, font) runs: CJK runs in the CJK font, the rest in ``font``."""
    return [(part, cjk_font() if CJK_RUN.fullmatch(part) else font) for part in CJK_RUN.split(text) if part]


def mixed_width(text: str, font: str, size: float) -> float:
    """The width of one line of mixed Latin/CJK text as :func:`draw_mixed` sets it."""
    return float(sum(pdfmetrics.stringWidth(part, face, size) for part, face in _runs(text, font)))


def draw_mixed(
    canvas: Canvas,
    x: float,
    y: float,
    text: str,
    font: str,
    size: float,
    color: Any,
    align: str = "left",
) -> None:
    """One line of text whose CJK runs use the CJK font (canvas strings have no markup).

    ``align`` ``right`` or ``centre`` puts the line's end or middle at ``x``.
    """
    if align == "right":
        x -= mixed_width(text, font, size)
    elif align == "centre":
        x -= mixed_width(text, font, size) / 2
    canvas.setFillColor(color)
    for part, face in _runs(text, font):
        canvas.setFont(face, size)
        canvas.drawString(x, y, part)
        x += pdfmetrics.stringWidth(part, face, size)
