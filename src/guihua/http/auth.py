"""Bearer-token authentication and role checks; every refusal is audited."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from guihua.http.problems import Problem
from guihua.store.database import Store
from guihua.usecases import accounts, audit


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
