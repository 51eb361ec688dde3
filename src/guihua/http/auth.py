"""Bearer-token authentication and role checks; every refusal is audited."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from guihua.http.problems import Problem
from guihua.store.database import Store
from guihua.usecases import accounts, audit
from guihua.usecases.subjects import check_subject


@dataclass(frozen=True)
class Caller:
    account: accounts.Account

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor(self.account.name, self.account.role)


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def caller(request: Request) -> Caller:
    """The live account behind the request's bearer token, or 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(401, "unauthenticated", "send 'Authorization: Bearer <token>'")
    account = accounts.authenticate(store_of(request), token.strip())
    if account is None:
        raise Problem(401, "unauthenticated", "unknown or revoked token")
    return Caller(account)


def refuse(store: Store, who: Caller, action: str, why: str, subject_id: str | None = None) -> Problem:
    """Record the refusal in the audit trail and return the 403 to raise."""
    audit.record(store, who.actor, action, outcome="refused", subject_id=subject_id, detail=why)
    return Problem(403, "forbidden", why)


def may_read_subject(request: Request, who: Caller, subject_id: str, purpose: str | None, action: str) -> str:
    """Residents read only themselves; service desks must say why; departments and providers never."""
    store = store_of(request)
    sid = check_subject(subject_id)
    role = who.account.role
    if role == "resident" and who.account.subject_id != sid:
        raise refuse(store, who, action, "a resident may read only its own data", sid)
    if role == "service_desk" and not (purpose and purpose.strip()):
        raise refuse(store, who, action, "service desks must give a non-empty purpose", sid)
    if role not in ("resident", "service_desk", "reviewer", "auditor", "admin"):
        raise refuse(store, who, action, f"role {role} may not read residents' data", sid)
    return sid


def may_act_for_subject(request: Request, who: Caller, subject_id: str, action: str, what: str) -> str:
    """Acting on a resident's behalf (objecting, giving a contact): the resident itself or a service desk."""
    sid = check_subject(subject_id)
    role = who.account.role
    if not ((role == "resident" and who.account.subject_id == sid) or role == "service_desk"):
        why = f"only the resident itself or a service desk may {what}"
        raise refuse(store_of(request), who, action, why, sid)
    return sid
