"""A QR code as an image a page can show: an SVG in a ``data:`` URI.

The printed certificate at the counter carries the same QR code as the PDF (the check page
``/verify/{code}``), made by the same encoder (reportlab's, which the PDF uses). It is one SVG
path of the dark modules, small enough to inline; as an ``<img>`` it needs no script and no
inline style, which the Content-Security-Policy would refuse (``img-src 'self' data:``).
"""

from __future__ import annotations

import base64

from reportlab.graphics.barcode import qrencoder

QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks


def qr_svg(text: str) -> str:
    """The QR code of ``text`` (error correction M, as on the PDF) as an SVG document."""
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(text)
    code.make()
    n = code.getModuleCount()
    dark = "".join(
        f"M{col + QUIET_ZONE},{row + QUIET_ZONE}h1v1h-1z"
        for row in range(n)
        for col in range(n)
        if code.isDark(row, col)
    )
    size = n + 2 * QUIET_ZONE
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges"><rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path d="{dark}" fill="#000"/></svg>'
    )


def qr_data_uri(text: str) -> str:
    """:func:`qr_svg` as a ``data:image/svg+xml`` URI for an ``<img src>``."""
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(text).encode()).decode()
