"""Accounts and roles: bearer tokens shown once, stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from guihua.core.errors import InvalidInput, NotFound
from guihua.core.policy import BINDING, ROLES, Actor
from guihua.kit.clock import now
from guihua.store import account_queries
from guihua.store.catalog_queries import active_catalog
from guihua.store.database import Store
from guihua.usecases import audit
from guihua.usecases.subjects import check_subject


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    department: str | None
    provider: str | None
    subject_id: str | None
    created_at: str
    revoked: bool

    @property
    def actor(self) -> Actor:
        """The account as the access policy and the audit trail see it."""
        return Actor(self.name, self.role, self.department, self.provider, self.subject_id)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    store: Store,
    actor: Actor,
    role: str,
    name: str,
    department: str | None = None,
    provider: str | None = None,
    subject: str | None = None,
) -> str:
    """Create an account and return its bearer token (shown this once; only its hash is kept)."""
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; use one of: {', '.join(ROLES)}")
    if not name.strip() or len(name) > 200:
        raise InvalidInput("an account needs a name of 1 to 200 characters")
    given = {"department": department, "provider": provider, "subject": subject}
    needed = BINDING.get(role)
    extra = [k for k, v in given.items() if v and k != needed]
    if extra:
        raise InvalidInput(f"role {role} is not bound to a {extra[0]}; leave out --{extra[0]}")
    if needed and not given[needed]:
        raise InvalidInput(f"role {role} must be bound: give --{needed}")
    token = "gh_" + secrets.token_urlsafe(32)
    with store.begin() as conn:
        catalog = active_catalog(conn).catalog
        if department and department not in catalog.department_by_code:
            raise NotFound(f"unknown department {department!r}")
        if provider and provider not in {p.provider for p in catalog.perks}:
            raise NotFound(f"unknown perk provider {provider!r}; the catalog's providers own its perks")
        sid = check_subject(subject) if subject else None
        if account_queries.by_name(conn, name):
            raise InvalidInput(f"an account named {name!r} exists already")
        account_queries.add(
            conn,
            {
                "name": name,
                "role": role,
                "department": department,
                "provider": provider,
                "subject_id": sid,
                "token_hash": token_hash(token),
                "created_at": now(),
            },
        )
        audit.append(conn, actor, "account.create", detail=f"{name} ({role})")
    return token


def list_accounts(store: Store) -> list[Account]:
    with store.begin() as conn:
        rows = account_queries.all_accounts(conn)
    return [
        Account(
            r.name,
            r.role,
            r.department,
            r.provider,
            r.subject_id,
            str(r.created_at)[:19],
            r.revoked_at is not None,
        )
        for r in rows
    ]


def revoke(store: Store, actor: Actor, name: str) -> None:
    with store.begin() as conn:
        row = account_queries.by_name(conn, name)
        if row is None:
            raise NotFound(f"no account named {name!r}")
        if row.revoked_at is not None:
            raise InvalidInput(f"account {name!r} was revoked already")
        account_queries.mark_revoked(conn, int(row.id), now())
        audit.append(conn, actor, "account.revoke", detail=name)


def authenticate(store: Store, token: str) -> Account | None:
    """The live account a bearer token belongs to; None for unknown or revoked tokens."""
    with store.begin() as conn:
        r = account_queries.by_token_hash(conn, token_hash(token))
    if r is None or r.revoked_at is not None:
        return None
    return Account(r.name, r.role, r.department, r.provider, r.subject_id, str(r.created_at)[:19], False)
