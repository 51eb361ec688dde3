"""A resident's data: score, explanation, report, objections, notices, contact, who looked.

The report is JSON by default (what programs read); a browser or the counter's
printer asks for ``format=html`` or ``format=pdf``, in ``lang=zh-CN`` (the default) or
``lang=en``. Notices are worded in ``lang`` when given, else in the resident's own language.

For the resident itself, service desks (with a purpose), reviewers and
auditors, as the access policy says (:mod:`guihua.core.policy`); every read and
every refusal is audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from guihua.core import policy
from guihua.core.languages import LANGUAGE_PATTERN, Language, language
from guihua.http.auth import enforce, store_of, subject_of
from guihua.http.params import At, Lang, Purpose, SubjectId, Who
from guihua.usecases import audit, certificates, contacts, notices, objections, reports, scores

router = APIRouter(prefix="/api/v1/subjects/{subject_id}", tags=["residents"])


def _readable(request: Request, who: Who, subject_id: str, purpose: str | None, action: str) -> str:
    sid = subject_of(subject_id)
    enforce(request, who, policy.read_subject(who.actor, sid, purpose), action, sid)
    return sid


def _actionable(request: Request, who: Who, subject_id: str, action: str, what: str) -> str:
    sid = subject_of(subject_id)
    enforce(request, who, policy.act_for_subject(who.actor, sid, what), action, sid)
    return sid


# The hot lookup runs on the event loop: its store work is well under a millisecond on SQLite, and
# two threadpool hand-offs per request (dependency + endpoint) cost 3x more than it. Slow or remote
# stores would want an async driver instead (see docs/engine.md).
@router.get("/score")
async def score(
    request: Request, subject_id: SubjectId, who: Who, at: At = None, purpose: Purpose = None
) -> dict[str, Any]:
    sid = _readable(request, who, subject_id, purpose, "subject.score")
    s = scores.subject_score(store_of(request), sid, at, actor=who.actor, purpose=purpose)
    return {"subject_id": s.subject_id, "at": s.at, "score": s.score, "defaulter": s.defaulter}


@router.get("/explanation")
def explanation(
    request: Request, subject_id: SubjectId, who: Who, at: At = None, purpose: Purpose = None
) -> dict[str, Any]:
    sid = _readable(request, who, subject_id, purpose, "subject.explain")
    return scores.explain(store_of(request), sid, at, actor=who.actor, purpose=purpose).as_dict()


@router.get("/access-log")
def access_log(
    request: Request,
    subject_id: SubjectId,
    who: Who,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(ge=1, le=2**62, description="`next` of the page before")] = None,
) -> dict[str, Any]:
    """Who read this resident's data, when, in which role and why: for the resident and auditors.

    Newest first, ``limit`` entries a page; ``next`` is the ``before`` of the next (older) page,
    null on the last one, so no entry is ever out of reach. ``certificate_checks``: how often
    the public checked the resident's certificates, per day (counted, not entries of their own,
    so that no flood of checks pushes a real read out of sight)."""
    store = store_of(request)
    sid = subject_of(subject_id)
    enforce(request, who, policy.read_access_log(who.actor, sid), "subject.access_log", sid)
    rows = audit.access_log(store, sid, who.actor, limit=limit, before=before)
    following = int(rows[-1]["seq"]) if len(rows) == limit else None
    entries = [{"seq": r["seq"], **{k: r[k] for k in reports.ACCESS_KEYS}} for r in rows]
    checks = certificates.public_checks(store, sid)
    return {"subject_id": sid, "entries": entries, "next": following, "certificate_checks": checks}


class ObjectionIn(BaseModel):
    """The record objected to (its department and the department's id for it) and why."""

    department: str = Field(min_length=1, max_length=64)
    source_id: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=objections.MAX_REASON)


class ContactIn(BaseModel):
    """How to reach the resident: its e-mail address (checked like at the counter), and the
    language of its notices (zh-CN or en; absent: the one kept, else zh-CN)."""

    email: str = Field(min_length=3, max_length=contacts.MAX_EMAIL)
    lang: str | None = Field(default=None, max_length=35, pattern=LANGUAGE_PATTERN, examples=["zh-CN", "en"])


def _lang(value: str | None) -> Language | None:
    """A ``lang`` given, as a supported language (anything else is a 422 problem); None if absent."""
    return language(value, "lang") if value is not None else None


@router.post("/objections", status_code=201)
def file_objection(request: Request, subject_id: SubjectId, body: ObjectionIn, who: Who) -> dict[str, Any]:
    """A resident objects to one of its records (or a service desk files it at the counter)."""
    sid = _actionable(request, who, subject_id, "objection.file", "object")
    filed = objections.file(store_of(request), sid, body.department, body.source_id, body.reason, who.actor)
    return filed.as_dict()


@router.get("/objections")
def subject_objections(
    request: Request, subject_id: SubjectId, who: Who, purpose: Purpose = None
) -> dict[str, Any]:
    sid = _readable(request, who, subject_id, purpose, "subject.objections")
    rows = objections.subject_objections(store_of(request), sid, who.actor, purpose)
    return {"subject_id": sid, "objections": [o.as_dict() for o in rows]}


@router.put("/contact")
def set_contact(request: Request, subject_id: SubjectId, body: ContactIn, who: Who) -> dict[str, Any]:
    """The resident itself or a service desk sets the e-mail address notices go to (audited)."""
    sid = _actionable(request, who, subject_id, "contact.set", "set a contact")
    return contacts.set_email(store_of(request), sid, body.email, who.actor, _lang(body.lang)).as_dict()


@router.get("/notices")
def subject_notices(
    request: Request, subject_id: SubjectId, who: Who, purpose: Purpose = None, lang: Lang = None
) -> dict[str, Any]:
    """What the resident was told, when, and whether it was delivered (in ``lang``, else the
    resident's own language)."""
    chosen = _lang(lang)
    sid = _readable(request, who, subject_id, purpose, "subject.notices")
    found = notices.subject_notices(store_of(request), sid, who.actor, purpose, chosen)
    return {"subject_id": sid, "notices": found}


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


@router.get("/report", response_class=JSONResponse, responses=_CONTENT)
def subject_report(
    request: Request,
    subject_id: SubjectId,
    who: Who,
    at: At = None,
    purpose: Purpose = None,
    format_: FormatQuery = "json",
    lang: Lang = None,
) -> Response:
    """Everything held on the resident: score and defaulter flag at the date, every record and its
    versions with rule and legal basis, adjustments and the caps that bit, objections, notices and
    their delivery, listing cases, and who accessed the data (this reading included). The HTML
    and PDF forms are in ``lang`` (zh-CN by default, or en)."""
    chosen = _lang(lang)
    sid = _readable(request, who, subject_id, purpose, reports.ACTION)
    store = store_of(request)
    if format_ == "json":
        return JSONResponse(reports.subject_report(store, sid, at, who.actor, purpose, chosen).as_dict())
    words = chosen or language(None)
    report, content = reports.subject_document(store, sid, format_, at, who.actor, purpose, words)
    if format_ == "html":
        return HTMLResponse(content, headers={"Content-Language": words})
    name = f"report-{report.subject_id}-{report.at}.pdf"
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Content-Language": words},
    )
