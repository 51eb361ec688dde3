"""Perk providers: is this resident eligible for my perk? Yes or no, never the score or the records."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from guihua.core import policy
from guihua.http.auth import enforce, store_of, subject_of
from guihua.http.params import At, PerkCode, SubjectId, Who
from guihua.http.problems import Problem
from guihua.store.catalog_queries import active_catalog
from guihua.usecases import consents, scores

router = APIRouter(prefix="/api/v1", tags=["providers"])

Consent = Annotated[
    str | None,
    Query(
        max_length=40,
        description="The consent code the resident made for this check (ABCD-EFGH): required by a perk "
        "with consent_required, spent by this check",
    ),
]


@router.get("/perks/{code}/eligibility/{subject_id}")
async def eligibility(
    request: Request, code: PerkCode, subject_id: SubjectId, who: Who, at: At = None, consent: Consent = None
) -> dict[str, Any]:
    """For the provider that owns the perk only (and, for a perk that needs it, with the resident's
    consent code, spent by this check): eligible or not."""
    store = store_of(request)
    with store.begin() as conn:
        perk = active_catalog(conn).catalog.perk_by_code.get(code)
    if perk is None:
        raise Problem(404, "not_found", f"no perk {code!r}")
    sid = subject_of(subject_id)
    enforce(request, who, policy.owns_perk(who.actor, perk), "perk.eligibility", sid)
    consented = bool(consent) and perk.consent_required
    if consented:  # scrypt (~50 ms): off the event loop, which the plain checks stay on
        consented = await run_in_threadpool(consents.redeem, store, who.actor, sid, perk, consent or "")
    enforce(request, who, policy.check_perk(who.actor, perk, consented), "perk.eligibility", sid)
    purpose = f"perk {code}, with the resident's consent" if consented else f"perk {code}"
    s, answer = scores.perk_eligibility(store, code, sid, at, who.actor, purpose=purpose)
    return {"perk": code, "subject_id": sid, "at": s.at, "eligible": answer.eligible}
