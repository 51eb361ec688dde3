"""``/verify``: the public check of a certificate as a page (a certificate's QR code leads here).

The same use case as ``GET /api/v1/certificates/{code}``
(:func:`guihua.usecases.certificates.check_code`): valid, superseded or expired, or unknown,
each said in words; every check is audited under the resident, as the API's is.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from guihua.core.statement import UnknownCertificate
from guihua.usecases import certificates
from guihua.web.actors import store_of
from guihua.web.portal import portal_router
from guihua.web.rendering import render

router = portal_router()
MAX_CODE = 40  # a code as typed (with dashes and spaces) is never longer


@router.get("/verify")
def verify_form(request: Request, code: str = "") -> Response:
    """The form; with ``?code=`` (the form sent) the check's own page, so it can be bookmarked."""
    typed = code.strip()[:MAX_CODE]
    if typed:
        return RedirectResponse(f"/verify/{quote(typed, safe='')}", status_code=303)
    return render(request, "verify.html", {"code": ""})


@router.get("/verify/{code}")
def verify_code(request: Request, code: str) -> HTMLResponse:
    """Valid / superseded / expired / unknown, in words (unknown answers 404)."""
    typed = code.strip()[:MAX_CODE]
    try:
        check = certificates.check_code(store_of(request), typed)
    except UnknownCertificate:
        return render(
            request, "verify_result.html", {"status": "unknown", "code": typed, "check": None}, status=404
        )
    return render(request, "verify_result.html", {"status": check.status, "code": check.code, "check": check})
