"""QR codes as SVG images for pages: the consent code a resident shows a provider's desk.

Drawn with the QR encoder of reportlab, which the certificate already uses for its own QR
code, so the portal adds no dependency. The page shows the image as a ``data:`` URI
(``img-src 'self' data:`` in the Content-Security-Policy), not inline SVG markup: nothing to
style, nothing that could carry a script, and the ``alt`` text says what it holds.
"""

from __future__ import annotations

import base64

from reportlab.graphics.barcode import qrencoder

QUIET = 4  # modules of white around the code, as the standard asks, so phones find its edges


def svg(text: str) -> str:
    """An SVG drawing of the QR code of ``text`` (error correction M: survives a scratched screen)."""
    qr = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    qr.addData(text)
    qr.make()
    size = qr.getModuleCount()
    runs = []
    for row in range(size):
        col = 0
        while col < size:
            if qr.isDark(row, col):
                start = col
                while col < size and qr.isDark(row, col):
                    col += 1
                runs.append(f"M{start + QUIET} {row + QUIET}h{col - start}v1h-{col - start}z")
            else:
                col += 1
    side = size + 2 * QUIET
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}" '
        f'width="{side * 8}" height="{side * 8}" shape-rendering="crispEdges">'
        f'<rect width="{side}" height="{side}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(runs)}"/></svg>'
    )


def data_uri(text: str) -> str:
    """The QR code of ``text`` as an ``<img src>`` value."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg(text).encode()).decode("ascii")
