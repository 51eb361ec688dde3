"""Signing in to the portal: residents with a one-time code, staff with their account, or OIDC.

A resident has no password: most would forget it, and a forgotten password at a service
counter is a worse check of who someone is than a code sent to the address the counter
recorded. So a resident asks for a code on the sign-in page (sent by e-mail to its contact
address, through the same SMTP channel as notices) or is handed one printed at a service
counter (:func:`counter_code`, a service desk's act, audited). Codes are

- short-lived (:data:`EMAIL_MINUTES`, :data:`COUNTER_MINUTES`) and single use: a sign-in spends
  every live code of the resident;
- limited in tries: every wrong code costs each live code of the resident one of its
  :data:`MAX_ATTEMPTS`, so guessing a 6-digit code has odds of about 1 in 200,000 per code;
- limited in number: at most :data:`MAX_CODES` per resident in :data:`CODES_WINDOW`, so the page
  cannot be used to flood someone's mailbox;
- stored only as a salted scrypt hash, so a copy of the store does not sign anyone in.

Staff sign in with the bearer token of their account (``guihua accounts create``); their
sessions are checked against the account on every page (:func:`live_actor`), so revoking an
account ends its sessions. An OIDC provider, when one is configured, signs in a resident
(a claim carrying the resident's id number) or a staff account (a claim naming the account):
:func:`oidc_actor` decides which. Every sign-in, refused or not, is in the audit trail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from guihua.core import policy
from guihua.core.errors import Conflict, Forbidden, InvalidInput
from guihua.core.policy import Actor
from guihua.kit.clock import now
from guihua.store import account_queries, contact_queries, sign_in_queries
from guihua.store.database import Store
from guihua.usecases import accounts, audit
from guihua.usecases.contacts import mask_email
from guihua.usecases.outbox import Channel, DeliveryFailed, Outgoing
from guihua.usecases.subjects import check_subject

CODE_DIGITS = 6
EMAIL_MINUTES = 10  # long enough to open the mail on the phone, short enough to be useless later
COUNTER_MINUTES = 30  # the resident may walk from the counter to a kiosk or home first
MAX_ATTEMPTS = 5
MAX_CODES = 5
CODES_WINDOW = dt.timedelta(minutes=30)
PORTAL_ACCOUNT = "portal"  # the account residents act under when signed in with a code
OIDC_ACCOUNT = "oidc"  # ... and when signed in through the OIDC provider
# Whoever asks for a code or types one is not signed in yet: the audit trail (and so the resident's
# access log) says an unknown visitor of the portal did it, never that the resident did.
VISITOR = Actor("portal-visitor", "public")
# scrypt's cost: ~50 ms and 16 MiB per check; 10^6 guesses at a stolen hash cost hours, the code minutes.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}

Wording = Callable[[str, int], tuple[str, str]]  # (code, minutes valid) -> (subject, body) of the e-mail


class TooManyCodes(Conflict):
    """A resident asked for more codes than :data:`MAX_CODES` in :data:`CODES_WINDOW`."""


class CodeNotSent(Exception):
    """The e-mail with the code did not go out (the relay refused or is down); the message says why."""


@dataclass(frozen=True)
class SignInOutgoing(Outgoing):
    """The e-mail of a sign-in code, sent by the notices' own e-mail channel with its own key."""

    id_header: ClassVar[str] = "X-Guihua-Sign-In-Id"

    @property
    def message_key(self) -> str:
        return f"sign-in-{self.notice_id}"


@dataclass(frozen=True)
class CodeRequest:
    """What came of asking for an e-mailed code: ``sent`` False when no address is on file."""

    sent: bool
    minutes: int


@dataclass(frozen=True)
class PrintedCode:
    """A counter code to print for the resident (shown this once; only its hash is kept)."""

    subject_id: str
    code: str
    expires_at: dt.datetime
    minutes: int


def english_wording(code: str, minutes: int) -> tuple[str, str]:
    """The e-mail in English, for callers without a page's language (the portal passes its own)."""
    return (
        f"Your Guihua sign-in code: {code}",
        f"Your code to sign in to the Guihua portal is {code}.\n\n"
        f"It works once, for {minutes} minutes. If you did not ask for it, ignore this message: "
        "nobody can sign in without the code.\n",
    )


def _digest(code: str, salt: str) -> str:
    return hashlib.scrypt(code.encode(), salt=bytes.fromhex(salt), **_SCRYPT).hex()


def _new_code(store: Store, sid: str, channel: str, minutes: int, issued_by: str | None) -> tuple[str, int]:
    """A fresh code for ``sid`` (kept hashed), refused past :data:`MAX_CODES` in the window."""
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    salt = secrets.token_hex(16)
    at = now()
    with store.begin() as conn:
        sign_in_queries.forget_expired(conn, at - dt.timedelta(days=1))
        if sign_in_queries.issued_since(conn, sid, at - CODES_WINDOW) >= MAX_CODES:
            audit.append(
                conn,
                VISITOR,
                "sign_in.code",
                outcome="refused",
                subject_id=sid,
                detail=f"more than {MAX_CODES} codes in {CODES_WINDOW.seconds // 60} minutes",
            )
            raise TooManyCodes(
                f"{MAX_CODES} codes were made for this resident in the last "
                f"{CODES_WINDOW.seconds // 60} minutes: wait, then ask again"
            )
        row_id = sign_in_queries.add(
            conn,
            {
                "subject_id": sid,
                "code_hash": _digest(code, salt),
                "salt": salt,
                "channel": channel,
                "issued_by": issued_by,
                "created_at": at,
                "expires_at": at + dt.timedelta(minutes=minutes),
                "attempts": 0,
            },
        )
    return code, row_id


def policy_actor(subject_id: str) -> Actor:
    """Who acts when a resident signs in: the resident, through the portal."""
    return Actor(PORTAL_ACCOUNT, "resident", subject_id=subject_id)


def request_email_code(
    store: Store,
    subject_id: str,
    channel: Channel,
    wording: Wording = english_wording,
    lang: str = "en",
) -> CodeRequest:
    """E-mail a new code to the resident's contact address (``sent`` False when there is none).

    The send happens now, not through the outbox: a code retried 30 s later would be a code
    the resident has stopped waiting for. A failed send raises :class:`CodeNotSent`. ``wording``
    words the e-mail in ``lang`` (the portal's page language), which the e-mail declares.
    """
    sid = check_subject(subject_id)
    with store.begin() as conn:
        contact = contact_queries.get(conn, sid)
    email = contact.email if contact is not None else None
    if not email:
        audit.record(store, VISITOR, "sign_in.code", outcome="no_address", subject_id=sid)
        return CodeRequest(False, EMAIL_MINUTES)
    code, row_id = _new_code(store, sid, "email", EMAIL_MINUTES, None)
    title, body = wording(code, EMAIL_MINUTES)
    message = SignInOutgoing(
        notice_id=row_id,
        kind="sign_in",
        subject_id=sid,
        title=title,
        body=body,
        department="",
        source_id="",
        effective_on=None,
        created_at=now().isoformat(),
        email=email,
        lang=lang,
    )
    try:
        channel.send(message)
    except DeliveryFailed as exc:
        audit.record(
            store,
            VISITOR,
            "sign_in.code",
            outcome="failed",
            subject_id=sid,
            detail=f"e-mail to {mask_email(email)}: {str(exc)[:200]}",
        )
        raise CodeNotSent(str(exc)) from exc
    audit.record(store, VISITOR, "sign_in.code", subject_id=sid, detail=f"e-mail to {mask_email(email)}")
    return CodeRequest(True, EMAIL_MINUTES)


def counter_code(store: Store, actor: Actor, subject_id: str) -> PrintedCode:
    """A code printed for the resident at a service counter (a service desk only; audited)."""
    sid = check_subject(subject_id)
    refusal = policy.issue_sign_in_code(actor)
    if refusal is not None:
        audit.record(store, actor, "sign_in.counter_code", outcome="refused", subject_id=sid, detail=refusal)
        raise Forbidden(refusal)
    code, _ = _new_code(store, sid, "counter", COUNTER_MINUTES, actor.account)
    audit.record(
        store,
        actor,
        "sign_in.counter_code",
        subject_id=sid,
        detail=f"printed, valid {COUNTER_MINUTES} minutes",
    )
    return PrintedCode(sid, code, now() + dt.timedelta(minutes=COUNTER_MINUTES), COUNTER_MINUTES)


def redeem(store: Store, subject_id: str, typed: str) -> Actor | None:
    """The resident's actor when ``typed`` is one of its live codes (then spent), else None.

    A wrong code costs every live code of the resident a try. The winning code is claimed
    with a conditional update, so two requests racing with the same code sign in once.
    """
    sid = check_subject(subject_id)
    code = "".join(typed.split())
    at = now()
    with store.begin() as conn:
        rows = sign_in_queries.live(conn, sid, at, MAX_ATTEMPTS)
        ids = [int(r.id) for r in rows]
        match = next(
            (r for r in rows if code.isdigit() and hmac.compare_digest(_digest(code, r.salt), r.code_hash)),
            None,
        )
        if match is None or not sign_in_queries.spend(conn, [int(match.id)], at):
            sign_in_queries.count_failure(conn, ids)
            audit.append(
                conn,
                VISITOR,
                "sign_in",
                outcome="refused",
                subject_id=sid,
                detail="wrong or expired code" if rows else "no live code",
            )
            return None
        sign_in_queries.spend(conn, ids, at)
        audit.append(conn, policy_actor(sid), "sign_in", subject_id=sid, detail=f"{match.channel} code")
    return policy_actor(sid)


def staff_by_token(store: Store, token: str) -> Actor | None:
    """The actor of the live account the token belongs to (audited), or None (audited too)."""
    account = accounts.authenticate(store, token.strip()) if token.strip() else None
    if account is None:
        audit.record(store, VISITOR, "sign_in", outcome="refused", detail="unknown token")
        return None
    audit.record(store, account.actor, "sign_in", detail="account token")
    return account.actor


def live_actor(store: Store, actor: Actor) -> Actor | None:
    """The actor a session carries, still good now: an account's only while it is live and unchanged.

    Residents signed in with a code or OIDC have no account to revoke; their sessions end by expiry.
    """
    if actor.account in (PORTAL_ACCOUNT, OIDC_ACCOUNT) and actor.role == "resident":
        return actor
    with store.begin() as conn:
        row = account_queries.by_name(conn, actor.account)
    if row is None or row.revoked_at is not None:
        return None
    current = Actor(row.name, row.role, row.department, row.provider, row.subject_id)
    return current if current == actor else None


def _subject_in(value: object) -> str | None:
    """A valid resident id number in a claim, or None (a provider's other users are no residents)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return check_subject(value)
    except InvalidInput:
        return None


def oidc_actor(
    store: Store, claims: Mapping[str, Any], resident_claim: str, account_claim: str
) -> Actor | None:
    """Who the OIDC provider vouched for: a resident (``resident_claim`` holds a valid id number),
    else a live staff account (``account_claim`` names it); None, audited, when neither."""
    issuer = str(claims.get("iss", ""))[:100]
    sid = _subject_in(claims.get(resident_claim))
    if sid is not None:
        actor = Actor(OIDC_ACCOUNT, "resident", subject_id=sid)
        audit.record(store, actor, "sign_in", subject_id=sid, detail=f"oidc {issuer}")
        return actor
    name = claims.get(account_claim)
    if isinstance(name, str) and name.strip():
        with store.begin() as conn:
            row = account_queries.by_name(conn, name.strip())
        if row is not None and row.revoked_at is None and row.role != "resident":
            actor = Actor(row.name, row.role, row.department, row.provider, row.subject_id)
            audit.record(store, actor, "sign_in", detail=f"oidc {issuer}")
            return actor
    audit.record(
        store,
        VISITOR,
        "sign_in",
        outcome="refused",
        detail=f"oidc {issuer}: no resident id and no live staff account in the claims",
    )
    return None
