"""Accounts and roles: bearer tokens shown once, stored only as hashes, that expire and rotate.

A token made by :func:`create` or :func:`rotate` works for ``valid_days`` (default
:data:`TOKEN_DAYS`); rotating makes a new one and the old one stops working at once. Tokens
made before expiry existed (migration 0015) have no end until they are rotated.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

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
    expires_at: str | None = None  # None: a token made before tokens expired (rotate it)
    expired: bool = False

    @property
    def actor(self) -> Actor:
        """The account as the access policy and the audit trail see it."""
        return Actor(self.name, self.role, self.department, self.provider, self.subject_id)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 730


def _lifetime(valid_days: int) -> dt.datetime:
    if not 1 <= valid_days <= MAX_TOKEN_DAYS:
        raise InvalidInput(f"a token is valid for 1 to {MAX_TOKEN_DAYS} days, not {valid_days}")
    return now() + dt.timedelta(days=valid_days)


def _new_token() -> str:
    return "gh_" + secrets.token_urlsafe(32)


def create(
    store: Store,
    actor: Actor,
    role: str,
    name: str,
    department: str | None = None,
    provider: str | None = None,
    subject: str | None = None,
    valid_days: int = TOKEN_DAYS,
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
    expires = _lifetime(valid_days)
    token = _new_token()
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
                "token_expires_at": expires,
            },
        )
        audit.append(conn, actor, "account.create", detail=f"{name} ({role})")
    return token


def list_accounts(store: Store) -> list[Account]:
    with store.begin() as conn:
        rows = account_queries.all_accounts(conn)
    return [_account(r) for r in rows]


def _account(r: Any) -> Account:
    ends = _aware(r.token_expires_at)
    return Account(
        r.name,
        r.role,
        r.department,
        r.provider,
        r.subject_id,
        str(r.created_at)[:19],
        r.revoked_at is not None,
        ends.isoformat(timespec="seconds") if ends else None,
        ends is not None and ends <= now(),
    )


def _aware(value: Any) -> dt.datetime | None:
    """A stored time as UTC (SQLite gives it back without its zone)."""
    if value is None:
        return None
    when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def rotate(store: Store, actor: Actor, name: str, valid_days: int = TOKEN_DAYS) -> tuple[str, str]:
    """A new token for account ``name`` (shown this once) and when it expires; the old one stops at once."""
    expires = _lifetime(valid_days)
    token = _new_token()
    with store.begin() as conn:
        row = account_queries.by_name(conn, name)
        if row is None:
            raise NotFound(f"no account named {name!r}")
        if row.revoked_at is not None:
            raise InvalidInput(f"account {name!r} is revoked: create a new account instead")
        account_queries.replace_token(conn, int(row.id), token_hash(token), expires)
        audit.append(conn, actor, "account.rotate", detail=f"{name}: new token until {expires:%Y-%m-%d}")
    return token, expires.isoformat(timespec="seconds")


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
    """The live account a bearer token belongs to; None for unknown, revoked or expired tokens."""
    with store.begin() as conn:
        r = account_queries.by_token_hash(conn, token_hash(token))
    if r is None or r.revoked_at is not None:
        return None
    account = _account(r)
    return None if account.expired else account
