"""The public check of a certificate: anyone holding one (a landlord, an employer) asks by its code.

No token: the code printed on the certificate is the credential, and 60 random bits make
guessing one hopeless. The answer masks the resident's id and never says what the resident's
status is *now*, only whether the certificate still holds. Each check is audited under the
resident's id (account ``public``), so the resident sees when their certificate was looked at.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from guihua.http import problems
from guihua.http.auth import store_of
from guihua.usecases import certificates

router = APIRouter(prefix="/api/v1")


@router.get("/certificates/{code}", tags=["public"], responses=problems.problem_responses(404))
def check_certificate(request: Request, code: str) -> dict[str, Any]:
    """``status``: valid, superseded (the listing status certified no longer holds at the
    certificate's date or today: ``superseded_on`` says which) or expired. An unknown code is a
    404 problem document with ``code: certificate_unknown`` (RFC 9457 keeps ``status`` for the
    HTTP status, so "unknown" is told by the problem's code).
    """
    return certificates.check_code(store_of(request), code).as_dict()
