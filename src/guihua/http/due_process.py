"""Endpoints of due process: objections, notices, the defaulter list (spec section 7).

Each endpoint authorises, calls the same use case as the command line and shapes the answer.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from guihua.http.auth import may_act_for_subject, may_read_subject, refuse, store_of
from guihua.http.params import At, Who
from guihua.kit.clock import today
from guihua.notices import contacts
from guihua.usecases import audit, listings, notices, objections

router = APIRouter(prefix="/api/v1")


class ObjectionIn(BaseModel):
    """The record objected to (its department and the department's id for it) and why."""

    department: str = Field(min_length=1, max_length=64)
    source_id: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=objections.MAX_REASON)


class ContactIn(BaseModel):
    """How to reach the resident: its e-mail address (checked like at the counter)."""

    email: str = Field(min_length=3, max_length=contacts.MAX_EMAIL)


class DecisionIn(BaseModel):
    """A reviewer's decision; ``fields`` and ``occurred_at`` only with ``correct``."""

    decision: Literal["uphold", "correct", "revoke"]
    reason: str = Field(min_length=1, max_length=objections.MAX_REASON)
    fields: dict[str, Any] | None = None
    occurred_at: dt.date | None = None


@router.post("/subjects/{subject_id}/objections", status_code=201, tags=["residents"])
def file_objection(request: Request, subject_id: str, body: ObjectionIn, who: Who) -> dict[str, Any]:
    """A resident objects to one of its records (or a service desk files it at the counter)."""
    sid = may_act_for_subject(request, who, subject_id, "objection.file", "object")
    filed = objections.file(store_of(request), sid, body.department, body.source_id, body.reason, who.actor)
    return filed.as_dict()


@router.get("/subjects/{subject_id}/objections", tags=["residents"])
def subject_objections(
    request: Request, subject_id: str, who: Who, purpose: str | None = None
) -> dict[str, Any]:
    sid = may_read_subject(request, who, subject_id, purpose, "subject.objections")
    store = store_of(request)
    rows = objections.list_objections(store, subject_id=sid)
    audit.record(store, who.actor, "subject.objections", subject_id=sid, purpose=purpose)
    return {"subject_id": sid, "objections": [o.as_dict() for o in rows]}


@router.get("/objections", tags=["reviewers", "departments"])
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
    role = who.account.role
    if role == "department":
        department = who.account.department
    elif role not in ("reviewer", "auditor", "admin"):
        raise refuse(store, who, "objections.list", f"role {role} may not list objections")
    rows = objections.list_objections(store, open, overdue, department, limit=limit)
    audit.record(store, who.actor, "objections.list", detail=f"{len(rows)} objections")
    return {"count": len(rows), "objections": [o.as_dict() for o in rows]}


@router.post("/objections/{objection_id}/decision", tags=["reviewers"])
def decide(request: Request, objection_id: int, body: DecisionIn, who: Who) -> dict[str, Any]:
    """Uphold, correct (a new version of the record, validated like any record) or revoke."""
    store = store_of(request)
    if who.account.role != "reviewer":
        raise refuse(store, who, "objection.decide", "only a reviewer decides objections")
    decided = objections.decide(
        store, objection_id, body.decision, body.reason, who.actor, body.fields, body.occurred_at
    )
    return decided.as_dict()


@router.put("/subjects/{subject_id}/contact", tags=["residents"])
def set_contact(request: Request, subject_id: str, body: ContactIn, who: Who) -> dict[str, Any]:
    """The resident itself or a service desk sets the e-mail address notices go to (audited)."""
    sid = may_act_for_subject(request, who, subject_id, "contact.set", "set a contact")
    return contacts.set_email(store_of(request), sid, body.email, who.actor).as_dict()


@router.get("/subjects/{subject_id}/notices", tags=["residents"])
def subject_notices(
    request: Request, subject_id: str, who: Who, purpose: str | None = None
) -> dict[str, Any]:
    """What the resident was told, when, and whether it was delivered."""
    sid = may_read_subject(request, who, subject_id, purpose, "subject.notices")
    store = store_of(request)
    audit.record(store, who.actor, "subject.notices", subject_id=sid, purpose=purpose)
    return {"subject_id": sid, "notices": notices.subject_notices(store, sid)}


@router.get("/defaulters", tags=["reviewers"])
def defaulters(request: Request, who: Who, at: At = None) -> dict[str, Any]:
    """Open listings at a date: case, department, since when, legal basis."""
    store = store_of(request)
    role = who.account.role
    if role not in ("admin", "reviewer", "auditor", "service_desk"):
        raise refuse(store, who, "defaulters.list", f"role {role} may not read the defaulter list")
    rows = listings.defaulter_list(store, at or today(), who.actor)
    day = at or today()
    return {"at": day.isoformat(), "count": len(rows), "listings": [r.as_dict() for r in rows]}
