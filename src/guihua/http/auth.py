"""Who is calling: bearer-token authentication, and refusals by the access policy (all audited)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from guihua.core.policy import Actor
from guihua.http.problems import Problem
from guihua.store.database import Store
from guihua.usecases import accounts, audit
from guihua.usecases.subjects import check_subject


@dataclass(frozen=True)
class Caller:
    account: accounts.Account

    @property
    def actor(self) -> Actor:
        return self.account.actor


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


def enforce(
    request: Request, who: Caller, refusal: str | None, action: str, subject_id: str | None = None
) -> None:
    """Raise the audited 403 when the access policy refused (``refusal`` is its reason)."""
    if refusal is not None:
        raise refuse(store_of(request), who, action, refusal, subject_id)


def subject_of(subject_id: str) -> str:
    """A path's resident id, checked and normalised (422 with what a valid one looks like)."""
    return check_subject(subject_id)
