"""Review and oversight: objections (list, decide) and the defaulter list (spec section 7).

Each endpoint asks the access policy, calls the same use case as the command
line and shapes the answer.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from guihua.core import policy
from guihua.http.auth import enforce, store_of
from guihua.http.params import At, Who
from guihua.usecases import audit, listings, objections

router = APIRouter(prefix="/api/v1", tags=["reviewers"])

ObjectionId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The objection's number")]


class DecisionIn(BaseModel):
    """A reviewer's decision; ``fields`` and ``occurred_at`` only with ``correct``."""

    decision: Literal["uphold", "correct", "revoke"]
    reason: str = Field(min_length=1, max_length=objections.MAX_REASON)
    fields: dict[str, Any] | None = None
    occurred_at: dt.date | None = None


@router.get("/objections", tags=["departments"])
def list_objections(
    request: Request,
    who: Who,
    open: bool = False,
    overdue: bool = False,
    department: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> dict[str, Any]:
    """Reviewers and auditors see all; a department sees the objections against its own records."""
    store = store_of(request)
    enforce(request, who, policy.list_objections(who.actor), "objections.list")
    department = policy.department_of(who.actor) or department
    rows = objections.list_objections(store, open, overdue, department, limit=limit)
    audit.record(store, who.actor, "objections.list", detail=f"{len(rows)} objections")
    return {"count": len(rows), "objections": [o.as_dict() for o in rows]}


@router.post("/objections/{objection_id}/decision")
def decide(request: Request, objection_id: ObjectionId, body: DecisionIn, who: Who) -> dict[str, Any]:
    """Uphold, correct (a new version of the record, validated like any record) or revoke."""
    enforce(request, who, policy.decide_objections(who.actor), "objection.decide")
    decided = objections.decide(
        store_of(request), objection_id, body.decision, body.reason, who.actor, body.fields, body.occurred_at
    )
    return decided.as_dict()


@router.get("/defaulters")
def defaulters(request: Request, who: Who, at: At = None) -> dict[str, Any]:
    """Open listings at a date: case, department, since when, legal basis."""
    enforce(request, who, policy.read_defaulters(who.actor), "defaulters.list")
    day, rows = listings.defaulter_list(store_of(request), at, who.actor)
    return {"at": day, "count": len(rows), "listings": [r.as_dict() for r in rows]}
