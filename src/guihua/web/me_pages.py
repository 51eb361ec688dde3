"""``/me``: a resident's own pages: the score and why, perks, notices, who looked, objections,
credit repair, the report and a certificate, and consent codes for perk checks.

Every page is the signed-in resident's own: the resident's id comes from the session, never from
the address, so there is no way to ask for someone else's (a staff account is refused: staff
look residents up at the counter, with a purpose). Each page calls the use case the API calls
for the same thing (``GET /api/v1/subjects/{id}/...``: ``scores.explain``, ``scores.perks``,
``notices.subject_notices``, ``audit.access_log``, ``objections``, ``reports``) after asking
``core/policy.py`` as the API does, so every read is audited once, as the API's is, and every
refusal too. No rule of the scheme is computed here: the pages order and word what the use
cases answered (:mod:`guihua.web.me_views`).

Contesting a record follows the GOV.UK pattern: the record and a question (``GET
/me/objection``), check your answers (``POST /me/objection``), then the objection is sent
(``POST /me/objections``) and the confirmation page (``/me/objections/{id}?filed=1``) gives the
reference number, the 30-day clock and what happens next. Only the first step reads the record
(one audited read); the check page shows what the resident typed.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from guihua.core import policy
from guihua.core.catalog import Catalog
from guihua.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from guihua.core.languages import Language
from guihua.core.policy import Actor
from guihua.core.results import Objection
from guihua.documents import report_text
from guihua.documents.words import Words
from guihua.kit.clock import today
from guihua.store.database import Store
from guihua.usecases import (
    audit,
    catalogs,
    certificates,
    consents,
    listings,
    notices,
    objections,
    reports,
    scores,
)
from guihua.web import me_views, qr_image
from guihua.web.actors import require_actor, store_of
from guihua.web.locales import N_, language
from guihua.web.page_errors import PageError
from guihua.web.portal import portal_router
from guihua.web.rendering import gettext, render

router = portal_router()
ACCESS_PAGE = 50  # entries of the access log a page shows (the API's limit/before paging)
MAX_KEY = 200  # a department code or record id as a form sends it back
STAFF_HERE = N_(
    "These pages are a resident's own. Staff look a resident up at the service counter, with a purpose."
)


# --------------------------------------------------------------------------- who, and may they


def _store(request: Request) -> Store:
    return store_of(request)


def _me(request: Request) -> tuple[Actor, str]:
    """The signed-in resident and its id; anyone else is refused (audited) or sent to sign in."""
    actor = require_actor(request)
    refusal = policy.own_pages(actor)
    if refusal is not None or actor.subject_id is None:
        audit.record(_store(request), actor, "portal.me", outcome="refused", detail=refusal)
        raise PageError(403, "forbidden", gettext(language(request), STAFF_HERE))
    return actor, actor.subject_id


def _allow(request: Request, actor: Actor, refusal: str | None, action: str, sid: str) -> None:
    """As the API's ``enforce``: a refusal of the access policy is audited, then a 403 page."""
    if refusal is not None:
        audit.record(_store(request), actor, action, outcome="refused", subject_id=sid, detail=refusal)
        raise PageError(403, "forbidden", refusal)


def _words(request: Request) -> tuple[Language, Catalog, Words]:
    """The page's language, the active catalog and its words in that language (rules, metrics,
    departments by name; the documents' fixed sentences), so a page says what the report says."""
    lang = language(request)
    _, catalog = catalogs.active(_store(request))
    return lang, catalog, Words(catalog, lang)


def _page(
    request: Request, template: str, section: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    """A /me page: its section (for the pages' own navigation) and what every one words with."""
    _, catalog, words = _words(request)
    shared = {
        "section": section,
        "w": words,
        "zone": catalog.scheme.timezone,
        "local_time": me_views.local_time,
        "points_text": report_text.points_text,
        "fields_text": report_text.fields_text,
        "story": report_text.item_story,
    }
    return render(request, template, {**shared, **context}, status=status)


# --------------------------------------------------------------------------- the score, and why


@router.get("/me")
def overview(request: Request) -> HTMLResponse:
    """The score, what each category adds after its caps, the timeline, credit repair and every
    record as a card (``GET .../explanation``: one audited read)."""
    actor, sid = _me(request)
    _allow(request, actor, policy.read_subject(actor, sid, None), "subject.explain", sid)
    store = _store(request)
    found = scores.explain(store, sid, actor=actor, categories=True)
    day = found.score.at
    # the cases of the same day as the explanation's (already audited): their rule and legal basis
    _, cases = listings.cases_of(store, sid, dt.date.fromisoformat(day))
    return _page(
        request,
        "me.html",
        "overview",
        {
            "x": found,
            "records": me_views.newest_first(found.items),
            "events": me_views.timeline(found.items, day),
            "listings": me_views.listing_views(cases),
            "can_object": me_views.can_object,
            "bounds": _bounds(request),
        },
    )


def _bounds(request: Request) -> dict[str, int]:
    """The scheme's lowest and highest score (the catalog's, said beside the score)."""
    _, catalog = catalogs.active(_store(request))
    return {"min": catalog.scheme.min, "max": catalog.scheme.max}


@router.get("/me/perks")
def perks(request: Request) -> HTMLResponse:
    """Each perk: eligible or not, with every reason (``scores.perks``, audited as subject.perks)."""
    actor, sid = _me(request)
    _allow(request, actor, policy.read_subject(actor, sid, None), "subject.perks", sid)
    score, answers = scores.perks(_store(request), sid, actor=actor)
    _, catalog = catalogs.active(_store(request))
    return _page(
        request,
        "me_perks.html",
        "perks",
        {"score": score, "perks": me_views.perk_views(catalog, answers, language(request))},
    )


# --------------------------------------------------------------------------- consent codes


@router.get("/me/consent")
def consent_form(request: Request) -> HTMLResponse:
    """The perks that need the resident's consent for each check, and the form to make a code."""
    _me(request)
    return _consent_page(request)


def _consent_page(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    base: dict[str, Any] = {
        "consent_perks": consents.consent_perks(_store(request)),
        "made": None,
        "qr": None,
        "errors": {},
        "chosen": "",
        "minutes": consents.CONSENT_MINUTES,
    }
    return _page(request, "me_consent.html", "consent", {**base, **context}, status=status)


@router.post("/me/consent")
def make_consent(request: Request, perk: Annotated[str, Form(max_length=MAX_KEY)] = "") -> HTMLResponse:
    """A new consent code for one check of ``perk`` by its provider: shown once, as text and QR."""
    actor, sid = _me(request)
    if not perk:
        return _consent_page(request, 400, errors={"perk": "choose"})
    try:
        made = consents.give(_store(request), actor, sid, perk)
    except Forbidden as exc:
        raise PageError(403, "forbidden", str(exc)) from None
    except (NotFound, InvalidInput):
        return _consent_page(request, 400, errors={"perk": "choose"})
    return _consent_page(request, made=made, qr=qr_image.qr_data_uri(made.check_url), chosen=perk)


# --------------------------------------------------------------------------- notices, who looked


@router.get("/me/notices")
def notice_list(request: Request) -> HTMLResponse:
    """What the resident was told and the state of each delivery, in the page's language."""
    actor, sid = _me(request)
    _allow(request, actor, policy.read_subject(actor, sid, None), "subject.notices", sid)
    found = notices.subject_notices(_store(request), sid, actor, None, language(request))
    return _page(request, "me_notices.html", "notices", {"notices": found})


@router.get("/me/access-log")
def access_log(request: Request, before: Annotated[int | None, Query(ge=1, le=2**62)] = None) -> HTMLResponse:
    """Who looked at the resident's data: when, who, in which role, why; newest first, a page at a
    time with the API's cursor (``before``), so no entry is out of reach (first page audited).
    The first page also counts the public's checks of its certificates per day, as the API's
    ``certificate_checks`` does (who checked is not known)."""
    actor, sid = _me(request)
    _allow(request, actor, policy.read_access_log(actor, sid), "subject.access_log", sid)
    rows = audit.access_log(_store(request), sid, actor, limit=ACCESS_PAGE, before=before)
    following = int(rows[-1]["seq"]) if len(rows) == ACCESS_PAGE else None
    entries = [{"seq": r["seq"], **{k: r[k] for k in reports.ACCESS_KEYS}} for r in rows]
    checks = certificates.public_checks(_store(request), sid) if before is None else []
    return _page(
        request,
        "me_access_log.html",
        "access",
        {"entries": entries, "next": following, "paged": before is not None, "checks": checks},
    )


# --------------------------------------------------------------------------- objections


@router.get("/me/objections")
def objection_list(request: Request) -> HTMLResponse:
    """The resident's objections with their state today (``GET .../objections``)."""
    actor, sid = _me(request)
    _allow(request, actor, policy.read_subject(actor, sid, None), "subject.objections", sid)
    found = objections.subject_objections(_store(request), sid, actor)
    return _page(request, "me_objections.html", "objections", {"objections": list(reversed(found))})


@router.get("/me/objections/{objection_id}")
def objection_page(request: Request, objection_id: int, filed: bool = False) -> HTMLResponse:
    """One objection: its state and clock; with ``filed`` the confirmation of a new one (its
    reference number, the 30-day clock, what happens next)."""
    actor, sid = _me(request)
    _allow(request, actor, policy.read_subject(actor, sid, None), "subject.objections", sid)
    found = next(
        (o for o in objections.subject_objections(_store(request), sid, actor) if o.id == objection_id), None
    )
    if found is None:  # none of this resident's: nothing says whether it exists
        raise PageError(404, "not_found")
    return _page(
        request, "me_objection.html", "objections", {"o": found, "filed": filed, **_clock(request, found)}
    )


def _clock(request: Request, found: Objection) -> dict[str, Any]:
    """The days left before an undecided objection's record stops counting (the engine's day)."""
    _, catalog = catalogs.active(_store(request))
    now = today(catalog.scheme.timezone)
    left = (dt.date.fromisoformat(found.suspends_on) - now).days
    return {"days_left": left, "today": now.isoformat()}


def _object_form(
    request: Request,
    department: str,
    record: str,
    reason: str = "",
    errors: dict[str, str] | None = None,
    item: Any = None,
    status: int = 200,
) -> HTMLResponse:
    return _page(
        request,
        "me_object.html",
        "overview",
        {
            "department": department,
            "record": record,
            "reason": reason,
            "errors": errors or {},
            "item": item,
            "max_reason": objections.MAX_REASON,
        },
        status=status,
    )


@router.get("/me/objection")
def object_form(
    request: Request,
    department: Annotated[str, Query(max_length=MAX_KEY)] = "",
    record: Annotated[str, Query(max_length=MAX_KEY)] = "",
) -> HTMLResponse:
    """The record to contest and the question: why is it wrong? (reads the record: audited)."""
    actor, sid = _me(request)
    _allow(request, actor, policy.act_for_subject(actor, sid, "object"), "objection.file", sid)
    _allow(request, actor, policy.read_subject(actor, sid, None), "subject.explain", sid)
    found = scores.explain(_store(request), sid, actor=actor)
    item = next((i for i in found.items if i.department == department and i.source_id == record), None)
    if item is None:  # not this resident's record: nothing says whether it exists
        raise PageError(404, "not_found")
    return _object_form(request, department, record, item=item)


def _reason_error(reason: str) -> str | None:
    """What is wrong with the reason as typed, as the error summary names it (or None)."""
    if not reason.strip():
        return "reason_missing"
    if len(reason.strip()) > objections.MAX_REASON:
        return "reason_long"
    return None


@router.post("/me/objection")
def check_answers(
    request: Request,
    department: Annotated[str, Form(max_length=MAX_KEY)] = "",
    record: Annotated[str, Form(max_length=MAX_KEY)] = "",
    reason: Annotated[str, Form(max_length=4 * objections.MAX_REASON)] = "",
    step: Annotated[str, Form(max_length=10)] = "check",
) -> HTMLResponse:
    """Check your answers (or, with ``step=edit``, the question again with the answer kept)."""
    actor, sid = _me(request)
    _allow(request, actor, policy.act_for_subject(actor, sid, "object"), "objection.file", sid)
    if not department or not record:
        raise PageError(404, "not_found")
    if step == "edit":
        return _object_form(request, department, record, reason)
    problem = _reason_error(reason)
    if problem is not None:
        return _object_form(request, department, record, reason, {"reason": problem}, status=400)
    return _page(
        request,
        "me_object_check.html",
        "overview",
        {"department": department, "record": record, "reason": reason.strip()},
    )


@router.post("/me/objections")
def send_objection(
    request: Request,
    department: Annotated[str, Form(max_length=MAX_KEY)] = "",
    record: Annotated[str, Form(max_length=MAX_KEY)] = "",
    reason: Annotated[str, Form(max_length=4 * objections.MAX_REASON)] = "",
) -> Response:
    """File the objection (``POST .../objections``), then the confirmation page (303, so a reload
    does not send it twice)."""
    actor, sid = _me(request)
    _allow(request, actor, policy.act_for_subject(actor, sid, "object"), "objection.file", sid)
    problem = _reason_error(reason)
    if problem is not None:
        return _object_form(request, department, record, reason, {"reason": problem}, status=400)
    try:
        filed = objections.file(_store(request), sid, department, record, reason, actor)
    except NotFound:
        raise PageError(404, "not_found") from None
    except Conflict:
        return _object_form(request, department, record, reason, {"reason": "conflict"}, status=409)
    except InvalidInput:
        return _object_form(request, department, record, reason, {"reason": "retracted"}, status=422)
    return RedirectResponse(f"/me/objections/{filed.id}?filed=1", status_code=303)


# --------------------------------------------------------------------------- documents


@router.get("/me/documents")
def documents(request: Request) -> HTMLResponse:
    """The report (HTML or PDF) and a certificate of listing status, to download."""
    _me(request)
    return _page(request, "me_documents.html", "documents", {"valid_days": certificates.valid_days_default()})


@router.get("/me/report")
def report(request: Request, format: Annotated[str, Query(max_length=10)] = "pdf") -> Response:
    """The resident's report (``GET .../report``, audited as subject.report) as a file: PDF, or the
    HTML page (which carries its own styles, so it is a download, read outside the portal)."""
    actor, sid = _me(request)
    if format not in ("pdf", "html"):
        raise PageError(404, "not_found")
    _allow(request, actor, policy.read_subject(actor, sid, None), reports.ACTION, sid)
    lang = language(request)
    kind: reports.DocumentKind = "pdf" if format == "pdf" else "html"
    made, content = reports.subject_document(_store(request), sid, kind, actor=actor, lang=lang)
    name = f"report-{made.subject_id}-{made.at}.{format}"
    media = "application/pdf" if kind == "pdf" else "text/html; charset=utf-8"
    return Response(
        content,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Content-Language": lang,
            "Cache-Control": "no-store",
        },
    )


@router.post("/me/certificate")
def certificate(request: Request) -> Response:
    """A signed certificate of the resident's listing status today, as a PDF in the page's language
    (``certificates.issue``, audited as certificate.issue)."""
    actor, sid = _me(request)
    _allow(request, actor, policy.act_for_subject(actor, sid, "get a certificate"), "certificate.issue", sid)
    keys: Path = request.app.state.key_dir
    with tempfile.TemporaryDirectory(prefix="guihua-cert-") as folder:
        issued = certificates.issue(
            _store(request), sid, Path(folder) / "certificate.pdf", keys, actor=actor, lang=language(request)
        )
        content = issued.out.read_bytes()
    code = issued.as_dict()["display_code"]
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="certificate-{code}.pdf"',
            "Cache-Control": "no-store",
        },
    )
