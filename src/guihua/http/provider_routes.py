"""Perk providers: is this resident eligible for my perk? Yes or no, never the score or the records."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from guihua.core import policy
from guihua.http.auth import enforce, store_of, subject_of
from guihua.http.params import At, PerkCode, SubjectId, Who
from guihua.http.problems import Problem
from guihua.store.catalog_queries import active_catalog
from guihua.usecases import scores

router = APIRouter(prefix="/api/v1", tags=["providers"])


@router.get("/perks/{code}/eligibility/{subject_id}")
async def eligibility(
    request: Request, code: PerkCode, subject_id: SubjectId, who: Who, at: At = None
) -> dict[str, Any]:
    """For the provider that owns the perk only (and, for a perk that needs it, with the resident's
    consent): eligible or not."""
    store = store_of(request)
    with store.begin() as conn:
        perk = active_catalog(conn).catalog.perk_by_code.get(code)
    if perk is None:
        raise Problem(404, "not_found", f"no perk {code!r}")
    sid = subject_of(subject_id)
    enforce(request, who, policy.check_perk(who.actor, perk), "perk.eligibility", sid)
    s, answer = scores.perk_eligibility(store, code, sid, at, who.actor, purpose=f"perk {code}")
    return {"perk": code, "subject_id": sid, "at": s.at, "eligible": answer.eligible}
