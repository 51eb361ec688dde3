"""``/review``: reviewers see the objections, oldest first with their deadline, and decide them.

The same use cases as the API's ``review_routes``: the list is ``objections.list_objections``
(``GET /api/v1/objections``, audited the same way), a decision is ``objections.decide``
(``POST /api/v1/objections/{id}/decision``) after ``policy.decide_objections``: uphold, correct
(a new version of the record, validated and matched like any record) or revoke, always with a
reason, which the resident is told. The record objected to is read with ``scores.explain``,
audited with the purpose "review of objection N", so the resident's access log says why a
reviewer looked.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from guihua.core import policy
from guihua.core.errors import GuihuaError
from guihua.core.policy import Actor
from guihua.core.results import ExplanationItem, Objection
from guihua.usecases import audit, catalogs, objections, scores
from guihua.web.actors import require_actor, store_of
from guihua.web.page_errors import PageError
from guihua.web.portal import portal_router
from guihua.web.rendering import render
from guihua.web.staff import enforce, problem_kind, words

router = portal_router()

MAX_LISTED = 10_000  # as the API's ``limit``
DECISIONS = ("uphold", "correct", "revoke")
FIELD_PREFIX = "field."
MAX_VALUE = 4000


def reviewer(request: Request, action: str) -> Actor:
    """The signed-in reviewer (others: the audited 403; nobody: /login and back)."""
    actor = require_actor(request)
    enforce(request, actor, policy.decide_objections(actor), action)
    return actor


def _listed(request: Request, actor: Actor, open_only: bool) -> list[Objection]:
    """Objections, oldest first, audited as ``GET /api/v1/objections`` is."""
    enforce(request, actor, policy.list_objections(actor), "objections.list")
    store = store_of(request)
    rows = objections.list_objections(store, open_only, False, None, limit=MAX_LISTED)
    audit.record(store, actor, "objections.list", detail=f"{len(rows)} objections")
    return rows


@router.get("/review")
def review(request: Request, show: str = "open") -> HTMLResponse:
    """The objections to decide (``show=all``: decided ones too), oldest first."""
    actor = reviewer(request, "objections.list")
    everything = show == "all"
    rows = _listed(request, actor, not everything)
    return render(
        request,
        "review.html",
        {"objections": rows, "everything": everything, "w": words(request), "mask": audit.mask},
    )


# --------------------------------------------------------------------------- one objection


def _objection(request: Request, actor: Actor, objection_id: int) -> Objection:
    enforce(request, actor, policy.list_objections(actor), "objections.list")
    store = store_of(request)
    found = next(
        (o for o in objections.list_objections(store, limit=MAX_LISTED) if o.id == objection_id), None
    )
    if found is None:
        raise PageError(404, "not_found")
    audit.record(
        store, actor, "objections.list", subject_id=found.subject_id, detail=f"objection {objection_id}"
    )
    return found


def _record(request: Request, actor: Actor, o: Objection) -> ExplanationItem | None:
    """The current version of the record objected to, as the resident's explanation shows it."""
    purpose = f"review of objection {o.id}"
    enforce(
        request, actor, policy.read_subject(actor, o.subject_id, purpose), "subject.explain", o.subject_id
    )
    explained = scores.explain(store_of(request), o.subject_id, actor=actor, purpose=purpose)
    return next(
        (i for i in explained.items if (i.department, i.source_id) == (o.department, o.source_id)), None
    )


def _shown(value: Any) -> str:
    """A field's value as the form shows it (and compares it): text as is, else as JSON."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _field_types(request: Request, item: ExplanationItem | None) -> dict[str, str]:
    if item is None:
        return {}
    _, catalog = catalogs.active(store_of(request))
    metric = catalog.metric_by_code.get(item.metric)
    names: dict[str, str] = {k: str(v) for k, v in metric.fields.items()} if metric else {}
    return names | {k: "string" for k in item.fields if k not in names}


def _page(
    request: Request,
    actor: Actor,
    objection_id: int,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    o = _objection(request, actor, objection_id)
    item = _record(request, actor, o)
    types = _field_types(request, item)
    current = {name: _shown(item.fields.get(name)) if item else "" for name in types}
    typed = {k: v for k, v in context.pop("typed", {}).items() if k in types}
    base: dict[str, Any] = {
        "o": o,
        "item": item,
        "fields": [(name, ftype, current[name]) for name, ftype in types.items()],
        "w": words(request),
        "errors": {},
        "problem": None,
        "chosen": "",
        "reason": "",
        "typed": current | typed,
        "occurred_at": "",
        "decided": request.query_params.get("decided") == "1",
        "max_reason": objections.MAX_REASON,
    }
    return render(request, "review_objection.html", {**base, **context}, status=status)


@router.get("/review/objections/{objection_id}")
def objection_page(request: Request, objection_id: int) -> HTMLResponse:
    """The objection, the record as it stands, and the decision form (or the decision made)."""
    actor = reviewer(request, "objections.list")
    return _page(request, actor, objection_id)


def _value(text: str, ftype: str) -> Any:
    """A corrected value as typed: text for a text field, else JSON when it reads as JSON
    (``true``, ``200``), as ``guihua objections decide --set`` reads it; the use case validates it."""
    if ftype == "string":
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form's text fields (the corrected values have names of the record's own)."""
    form = await request.form()
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}


FormFields = Annotated[dict[str, str], Depends(form_fields)]


@router.post("/review/objections/{objection_id}/decision")
def decide(request: Request, objection_id: int, form: FormFields) -> Response:
    """Uphold, correct or revoke, with a reason (``objections.decide``); then the objection's page."""
    actor = reviewer(request, "objection.decide")
    decision = form.get("decision", "")
    reason = form.get("reason", "")[: objections.MAX_REASON * 2]
    typed = {k[len(FIELD_PREFIX) :]: v[:MAX_VALUE] for k, v in form.items() if k.startswith(FIELD_PREFIX)}
    occurred = form.get("occurred_at", "").strip()
    again = {"chosen": decision, "reason": reason, "occurred_at": occurred[:10]}
    errors: dict[str, str] = {}
    if decision not in DECISIONS:
        errors["decision"] = "no_decision"
    if not reason.strip():
        errors["reason"] = "no_reason"
    elif len(reason.strip()) > objections.MAX_REASON:
        errors["reason"] = "reason_too_long"
    day: dt.date | None = None
    if decision == "correct" and occurred:
        try:
            day = dt.date.fromisoformat(occurred)
        except ValueError:
            errors["occurred_at"] = "bad_date"
    if errors:
        return _page(request, actor, objection_id, 400, errors=errors, typed=typed, **again)
    o = _objection(request, actor, objection_id)
    item = _record(request, actor, o)
    types = _field_types(request, item)
    current = {name: _shown(item.fields.get(name)) if item else "" for name in types}
    shown = current | {k: v for k, v in typed.items() if k in types}
    changes = (
        {name: _value(value, types[name]) for name, value in shown.items() if value != current.get(name)}
        if decision == "correct"
        else None
    )
    try:
        objections.decide(store_of(request), objection_id, decision, reason, actor, changes or None, day)
    except GuihuaError as exc:
        problem = {"kind": problem_kind(exc), "detail": exc.message}
        return _page(request, actor, objection_id, exc.status, problem=problem, typed=shown, **again)
    return RedirectResponse(f"/review/objections/{objection_id}?decided=1", status_code=303)
