"""Public endpoints: health, the published catalog, suppressed statistics, the check of a certificate.

No token. The certificate's code is the credential (60 random bits); the
answer masks the resident's id and never says what the status is *now*, only
whether the certificate still holds. Each check is audited under the
resident's id (account ``public``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from guihua.http import problems
from guihua.http.auth import store_of
from guihua.http.params import At, CertificateCode
from guihua.store.catalog_queries import active_catalog
from guihua.usecases import catalogs, certificates, public_stats

router = APIRouter(prefix="/api/v1", tags=["public"])


@router.get("/health")
def health(request: Request) -> dict[str, Any]:
    with store_of(request).begin() as conn:
        version = active_catalog(conn).version
    return {"status": "ok", "catalog_version": version}


@router.get("/catalog")
def catalog(request: Request) -> dict[str, Any]:
    """The published scheme: categories and caps, departments and agreements, rules with their
    legal bases, perks, and ``record_formats``: every metric's columns, types and senders, with an
    example row that passes validation as it stands."""
    return catalogs.published(store_of(request))


@router.get("/stats/distribution")
def distribution(request: Request, at: At = None) -> dict[str, Any]:
    """Counts above, at and below base, defaulters and a histogram; cells under 10 suppressed."""
    return public_stats.distribution(store_of(request), at)


@router.get("/stats/feeds")
def feed_stats(request: Request, at: At = None) -> dict[str, Any]:
    """Each department's feed at the level of departments only (no resident in it): agreement in
    force, submissions, last one, rows accepted and rejected in the last 30 days and overall, reject
    rate, top reasons, overdue, silent, failing; counts under 10 rows suppressed (null)."""
    return public_stats.feed_status(store_of(request), at)


@router.get("/certificates/{code}", responses=problems.problem_responses(404))
def check_certificate(request: Request, code: CertificateCode) -> dict[str, Any]:
    """``status``: valid, superseded (the listing status certified no longer holds at the
    certificate's date or today: ``superseded_on`` says which) or expired. An unknown code is a
    404 problem document with ``code: certificate_unknown`` (RFC 9457 keeps ``status`` for the
    HTTP status, so "unknown" is told by the problem's code).
    """
    return certificates.check_code(store_of(request), code).as_dict()
