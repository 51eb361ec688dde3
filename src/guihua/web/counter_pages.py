"""``/counter``: the service centre's counter, for service-desk staff serving a resident in person.

The clerk looks a resident up with the purpose of the visit (refused, in words, without one: the
purpose is kept in the audit trail and the resident sees it in its access log), then sees the
resident's views read-only, files an objection on the resident's behalf (check the answers, then a
confirmation with the reference), issues and prints a certificate, prints a sign-in code, and
checks a certificate by its code or the address in its QR code (a scanner types it, or paste it).

Every action calls the same use case as the API, with the same policy question:

- the views: ``scores.explain``, ``scores.perks``, ``objections.subject_objections``,
  ``notices.subject_notices`` (``GET /api/v1/subjects/{id}/...`` with a ``purpose``), each read
  audited with the clerk's purpose by the use case (:mod:`guihua.web.resident_view`);
- an objection: ``objections.file`` after ``policy.act_for_subject`` (``POST .../objections``);
- a certificate: ``certificates.issue`` (``guihua certificate issue --as``), audited with the purpose;
- a sign-in code: ``sign_in.counter_code`` (its own policy check and audit entry);
- a check: ``certificates.check_code`` (``GET /api/v1/certificates/{code}``), audited under the clerk.

The resident being served (id and purpose) is kept in the clerk's session, never in an address,
so it is not left in the browser's history or the service's log; "Finish" forgets it, and so does
signing out. A certificate's PDF is kept in memory for the clerk who issued it for
:data:`DOCUMENT_MINUTES`, to print or download from its page.
"""

from __future__ import annotations

import re
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from guihua.core import policy
from guihua.core import statement as cert
from guihua.core.errors import GuihuaError, InvalidInput
from guihua.core.languages import Language, normalised
from guihua.core.policy import Actor
from guihua.usecases import catalogs, certificates, objections, sign_in
from guihua.usecases.subjects import check_subject
from guihua.web import me_views, resident_view
from guihua.web.actors import require_actor, store_of
from guihua.web.locales import language
from guihua.web.page_errors import PageError
from guihua.web.portal import portal_router
from guihua.web.qr_image import qr_data_uri
from guihua.web.rendering import render
from guihua.web.staff import enforce, problem_kind, record_refusal, words

router = portal_router()

CASE = "counter_case"  # the session's key for the resident being served: {"subject_id", "purpose"}
# The purpose rides in the session cookie (browsers drop a cookie over 4 KiB, and JSON writes a
# Chinese character as a 6-byte escape), so the counter takes at most 200 characters where the
# API's ``purpose`` takes 500: plenty for "the resident asks for a certificate for a landlord".
MAX_PURPOSE = 200
MAX_PASTE = 300  # a pasted check address is never longer
MAX_CODE = 40
DOCUMENT_MINUTES = 30
MAX_DOCUMENTS = 200


# --------------------------------------------------------------------------- who and whom


def clerk(request: Request) -> Actor:
    """The signed-in service desk (others: the audited 403; nobody: /login and back)."""
    actor = require_actor(request)
    enforce(request, actor, policy.work_at_counter(actor), "counter.open")
    return actor


@dataclass(frozen=True)
class Case:
    """The resident being served and why (the purpose every read is audited with)."""

    subject_id: str
    purpose: str


def current_case(request: Request) -> Case | None:
    data = request.session.get(CASE)
    if not isinstance(data, dict):
        return None
    sid, purpose = data.get("subject_id"), data.get("purpose")
    if isinstance(sid, str) and isinstance(purpose, str):
        return Case(sid, purpose)
    return None


def serving(request: Request, actor: Actor, action: str) -> Case | None:
    """The case at hand, when the policy lets the clerk read it with its purpose (None: no case,
    so the page sends the clerk back to the look-up)."""
    case = current_case(request)
    if case is not None:
        refusal = policy.read_subject(actor, case.subject_id, case.purpose)
        enforce(request, actor, refusal, action, case.subject_id)
    return case


def _go(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=303)


BACK_TO_LOOKUP = "/counter"
RESIDENT_PAGE = "/counter/resident"


def _lookup_page(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    base: dict[str, Any] = {
        "errors": {},
        "subject_id": "",
        "purpose": "",
        "case": current_case(request),
        "verify_code": "",
        "max_purpose": MAX_PURPOSE,
    }
    return render(request, "counter.html", {**base, **context}, status=status)


def _problem(request: Request, exc: GuihuaError, back: str, status: int | None = None) -> HTMLResponse:
    """A use case's refusal in words (the kind), with its own sentence as the detail (in English)."""
    return render(
        request,
        "counter_problem.html",
        {"kind": problem_kind(exc), "detail": exc.message, "back": back},
        status=status or exc.status,
    )


# --------------------------------------------------------------------------- look-up


@router.get("/counter")
def counter(request: Request) -> HTMLResponse:
    """Look a resident up (id and purpose), or check a certificate."""
    clerk(request)
    return _lookup_page(request)


@router.post("/counter/lookup")
def lookup(request: Request, subject_id: str = Form(""), purpose: str = Form("")) -> Response:
    """Start serving a resident: a valid id and a purpose, or the form again saying what is missing.

    A purpose left empty is the policy's refusal (``read_subject``), audited as the API audits it.
    """
    actor = clerk(request)
    typed_id, typed_purpose = subject_id.strip()[:40], purpose.strip()
    errors: dict[str, str] = {}
    sid = None
    try:
        sid = check_subject(typed_id)
    except InvalidInput:
        errors["subject_id"] = "invalid_id"
    if len(typed_purpose) > MAX_PURPOSE:
        errors["purpose"] = "purpose_too_long"
    elif sid is not None:
        refusal = policy.read_subject(actor, sid, typed_purpose)
        if refusal is not None:
            record_refusal(request, actor, "subject.explain", refusal, sid)
            errors["purpose"] = "no_purpose"
    elif not typed_purpose:
        errors["purpose"] = "no_purpose"
    if errors or sid is None:
        return _lookup_page(
            request, 400, errors=errors, subject_id=typed_id, purpose=typed_purpose[:MAX_PURPOSE]
        )
    request.session[CASE] = {"subject_id": sid, "purpose": typed_purpose}
    return _go(RESIDENT_PAGE)


@router.post("/counter/finish")
def finish(request: Request) -> Response:
    """Forget the resident being served (the next one starts from the look-up)."""
    clerk(request)
    request.session.pop(CASE, None)
    return _go(BACK_TO_LOOKUP)


@router.get("/counter/resident")
def resident(request: Request) -> Response:
    """The resident's score and records, perks, objections and notices, read-only."""
    actor = clerk(request)
    case = serving(request, actor, "subject.explain")
    if case is None:
        return _go(BACK_TO_LOOKUP)
    store = store_of(request)
    _, catalog = catalogs.active(store)
    lang = language(request)
    view = resident_view.gather(store, catalog, case.subject_id, actor, case.purpose, lang)
    return render(
        request,
        "counter_resident.html",
        # the same hint as the resident's own cards: no "object" link while an objection is open
        {"case": case, "view": view, "w": words(request), "can_object": me_views.can_object},
    )


# --------------------------------------------------------------------------- an objection for the resident


def _record_of(request: Request, actor: Actor, case: Case, department: str, source_id: str) -> Any:
    """The current version of one of the resident's records (the explanation's, audited), or a 404."""
    explained = resident_view.explanation_only(store_of(request), case.subject_id, actor, case.purpose)
    item = next(
        (i for i in explained.items if (i.department, i.source_id) == (department, source_id)),
        None,
    )
    if item is None:
        raise PageError(404, "not_found")
    return item


def _objection_form(
    request: Request,
    actor: Actor,
    case: Case,
    record: tuple[str, str],
    reason: str,
    status: int = 200,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    department, source_id = record
    item = _record_of(request, actor, case, department, source_id)
    return render(
        request,
        "counter_objection.html",
        {
            "case": case,
            "item": item,
            "reason": reason,
            "errors": errors or {},
            "w": words(request),
            "max_reason": objections.MAX_REASON,
        },
        status=status,
    )


def _acting(request: Request) -> tuple[Actor, Case | None]:
    """The clerk and the case, when the clerk may act on the resident's behalf (``act_for_subject``)."""
    actor = clerk(request)
    case = serving(request, actor, "objection.file")
    if case is None:
        return actor, None
    enforce(
        request,
        actor,
        policy.act_for_subject(actor, case.subject_id, "object"),
        "objection.file",
        case.subject_id,
    )
    return actor, case


@router.get("/counter/objection")
def objection_form(request: Request, department: str = "", source_id: str = "") -> Response:
    """Why the resident thinks this record is wrong, in the resident's words."""
    actor, case = _acting(request)
    if case is None:
        return _go(BACK_TO_LOOKUP)
    return _objection_form(request, actor, case, (department[:64], source_id[:200]), "")


@router.post("/counter/objection/check")
def objection_check(
    request: Request, department: str = Form(""), source_id: str = Form(""), reason: str = Form("")
) -> Response:
    """Check your answers: the record and the reason, to send or to change."""
    actor, case = _acting(request)
    if case is None:
        return _go(BACK_TO_LOOKUP)
    department, source_id, text = department[:64], source_id[:200], reason.strip()
    if not text or len(text) > objections.MAX_REASON:
        kind = "no_reason" if not text else "reason_too_long"
        typed = reason[: objections.MAX_REASON * 2]
        return _objection_form(request, actor, case, (department, source_id), typed, 400, {"reason": kind})
    item = _record_of(request, actor, case, department, source_id)
    return render(
        request,
        "counter_objection_check.html",
        {"case": case, "item": item, "reason": text, "w": words(request)},
    )


@router.post("/counter/objection/change")
def objection_change(
    request: Request, department: str = Form(""), source_id: str = Form(""), reason: str = Form("")
) -> Response:
    """Back to the form with what was typed (the "Change" of the check page)."""
    actor, case = _acting(request)
    if case is None:
        return _go(BACK_TO_LOOKUP)
    record = (department[:64], source_id[:200])
    return _objection_form(request, actor, case, record, reason[: objections.MAX_REASON])


@router.post("/counter/objection")
def objection_file(
    request: Request, department: str = Form(""), source_id: str = Form(""), reason: str = Form("")
) -> Response:
    """File it (``objections.file``, as ``POST /api/v1/subjects/{id}/objections``); then the confirmation."""
    actor, case = _acting(request)
    if case is None:
        return _go(BACK_TO_LOOKUP)
    try:
        filed = objections.file(store_of(request), case.subject_id, department, source_id, reason, actor)
    except GuihuaError as exc:
        return _problem(request, exc, RESIDENT_PAGE)
    return _go(f"/counter/objection/{filed.id}")


@router.get("/counter/objection/{objection_id}")
def objection_done(request: Request, objection_id: int) -> Response:
    """The confirmation: the reference, the 30-day clock and what happens next."""
    actor = clerk(request)
    case = serving(request, actor, "subject.objections")
    if case is None:
        return _go(BACK_TO_LOOKUP)
    found = objections.subject_objections(store_of(request), case.subject_id, actor, case.purpose)
    filed = next((o for o in found if o.id == objection_id), None)
    if filed is None:
        raise PageError(404, "not_found")
    return render(
        request, "counter_objection_done.html", {"case": case, "objection": filed, "w": words(request)}
    )


# --------------------------------------------------------------------------- a certificate


@dataclass(frozen=True)
class IssuedDocument:
    account: str
    statement: cert.Statement
    url: str
    pdf: bytes
    lang: Language
    made: float


class IssuedDocuments:
    """Certificates issued at the counter, each for the clerk who issued it, for a while.

    The certificate is in the store (its code, digest and finding) and in the audit trail; the PDF
    is the clerk's to print or hand over, so it is kept here only long enough for that.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_code: dict[str, IssuedDocument] = {}

    def keep(self, doc: IssuedDocument) -> None:
        with self._lock:
            self._drop_old()
            while len(self._by_code) >= MAX_DOCUMENTS:
                self._by_code.pop(next(iter(self._by_code)))
            self._by_code[doc.statement.code] = doc

    def get(self, code: str) -> IssuedDocument | None:
        with self._lock:
            self._drop_old()
            return self._by_code.get(code)

    def _drop_old(self) -> None:
        limit = time.monotonic() - DOCUMENT_MINUTES * 60
        for code in [c for c, d in self._by_code.items() if d.made < limit]:
            del self._by_code[code]


_DOCUMENTS_LOCK = threading.Lock()


def documents_of(request: Request) -> IssuedDocuments:
    state = request.app.state
    with _DOCUMENTS_LOCK:
        if not hasattr(state, "counter_documents"):
            state.counter_documents = IssuedDocuments()
    found: IssuedDocuments = state.counter_documents
    return found


@router.post("/counter/certificate")
def issue_certificate(request: Request, document_lang: str = Form("")) -> Response:
    """Issue a certificate of the resident's listing status today (``certificates.issue``)."""
    actor = clerk(request)
    case = serving(request, actor, "certificate.issue")
    if case is None:
        return _go(BACK_TO_LOOKUP)
    lang = normalised(document_lang) or language(request)
    keys: Path = request.app.state.key_dir
    with tempfile.TemporaryDirectory(prefix="guihua-counter-") as folder:
        out = Path(folder) / "certificate.pdf"
        try:
            issued = certificates.issue(
                store_of(request), case.subject_id, out, keys, actor=actor, purpose=case.purpose, lang=lang
            )
        except GuihuaError as exc:
            return _problem(request, exc, RESIDENT_PAGE)
        pdf = out.read_bytes()
    documents_of(request).keep(
        IssuedDocument(actor.account, issued.statement, issued.url, pdf, lang, time.monotonic())
    )
    return _go(f"/counter/certificate/{cert.display_code(issued.statement.code)}")


def _document(request: Request, code: str) -> IssuedDocument:
    """The certificate kept for its page, when the policy lets this clerk print it (else a 404:
    another clerk's certificate is, for this one, not there)."""
    actor = clerk(request)
    normal = cert.normalise_code(code[:MAX_CODE])
    doc = documents_of(request).get(normal) if normal else None
    if doc is None or policy.reprint_at_counter(actor, doc.account) is not None:
        raise PageError(404, "not_found")
    return doc


@router.get("/counter/certificate/{code}")
def certificate_page(request: Request, code: str) -> HTMLResponse:
    """The certificate as a page to print (header and buttons are left off the paper)."""
    doc = _document(request, code)
    return render(
        request,
        "counter_certificate.html",
        {
            "doc": doc,
            "s": doc.statement,
            "display_code": cert.display_code(doc.statement.code),
            "qr": qr_data_uri(doc.url),
            "w": words(request),
        },
    )


@router.get("/counter/certificate/{code}/pdf")
def certificate_pdf(request: Request, code: str) -> Response:
    """The signed PDF, as ``guihua certificate issue --out cert.pdf`` writes it."""
    doc = _document(request, code)
    name = f"certificate-{cert.display_code(doc.statement.code)}.pdf"
    return Response(
        doc.pdf,
        media_type="application/pdf",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
            "content-language": doc.lang,
        },
    )


# --------------------------------------------------------------------------- a sign-in code


@router.post("/counter/sign-in-code")
def sign_in_code(request: Request) -> Response:
    """A one-time code for the resident to sign in with (``sign_in.counter_code``), shown this once."""
    actor = clerk(request)
    case = serving(request, actor, "sign_in.counter_code")
    if case is None:
        return _go(BACK_TO_LOOKUP)
    try:
        printed = sign_in.counter_code(store_of(request), actor, case.subject_id)
    except GuihuaError as exc:
        return _problem(request, exc, RESIDENT_PAGE)
    _, catalog = catalogs.active(store_of(request))
    until = printed.expires_at.astimezone(ZoneInfo(catalog.scheme.timezone)).strftime("%H:%M")
    return render(
        request,
        "counter_sign_in_code.html",
        {"case": case, "printed": printed, "until": until, "login_url": "/login/code"},
    )


# --------------------------------------------------------------------------- checking a certificate

_AFTER_VERIFY = re.compile(r"/verify/([^?#/]+)")


def typed_code(text: str) -> str:
    """The code in what was typed: the code itself, or the check address a QR code holds
    (``https://.../verify/ABCD-EFGH-JKMN``, as a scanner types it or as pasted)."""
    text = text.strip()[:MAX_PASTE]
    found = _AFTER_VERIFY.search(text)
    if found:
        text = unquote(found.group(1))
    return text.strip()[:MAX_CODE]


@router.get("/counter/verify")
def verify(request: Request, code: str = "") -> HTMLResponse:
    """Valid / superseded / expired / unknown, in words (``certificates.check_code``, audited)."""
    actor = clerk(request)
    typed = typed_code(code)
    if not typed:
        return _lookup_page(request, 400, errors={"verify_code": "no_code"})
    try:
        check = certificates.check_code(store_of(request), typed, actor=actor)
    except cert.UnknownCertificate:
        return render(
            request,
            "counter_verify.html",
            {"status": "unknown", "code": typed, "check": None, "pasted": code[:MAX_PASTE]},
            status=404,
        )
    return render(
        request,
        "counter_verify.html",
        {"status": check.status, "code": check.code, "check": check, "pasted": code[:MAX_PASTE]},
    )
