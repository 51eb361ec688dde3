"""``GET /api/v1/subjects/{id}/report``: a resident's full report as JSON, HTML or PDF.

JSON is the default: it is what programs (the resident's app, the centre's own tools) read, and
it matches every other endpoint; a browser or the counter's printer asks for ``format=html`` or
``format=pdf``. The same people may read it as the explanation (``may_read_subject``): the
resident itself, a service desk giving a purpose, reviewers, auditors and admins. Reading it is
audited as ``subject.report``, refusals included.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from guihua.documents import report_html, report_pdf
from guihua.http.auth import may_read_subject, store_of
from guihua.http.params import At, Who
from guihua.usecases import reports

router = APIRouter(prefix="/api/v1")

FormatQuery = Annotated[
    reports.Format,
    Query(alias="format", description="json (default), html (a printable page) or pdf (a download)"),
]
_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report, in the format asked for",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "text/html": {"schema": {"type": "string"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.get(
    "/subjects/{subject_id}/report", tags=["residents"], response_class=JSONResponse, responses=_CONTENT
)
def subject_report(
    request: Request,
    subject_id: str,
    who: Who,
    at: At = None,
    purpose: str | None = None,
    format_: FormatQuery = "json",
) -> Response:
    """Everything held on the resident: score and defaulter flag at the date, every record and its
    versions with rule and legal basis, adjustments and the caps that bit, objections, notices and
    their delivery, listing cases, and who accessed the data (this reading included)."""
    sid = may_read_subject(request, who, subject_id, purpose, reports.ACTION)
    report = reports.subject_report(store_of(request), sid, at, actor=who.actor, purpose=purpose)
    if format_ == "html":
        return HTMLResponse(report_html.render(report))
    if format_ == "pdf":
        name = f"report-{report.subject_id}-{report.at}.pdf"
        return Response(
            report_pdf.render(report),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return JSONResponse(report.as_dict())
