"""Consent to a perk check (spec section 6, ``consent_required``): codes a resident makes, spent
by the provider's check.

A perk may require the resident's consent for each check; its provider then learns
eligibility (yes or no) only with a consent code the resident made on the portal for that
perk. Hangzhou's scheme asks for this so that a provider cannot sweep a population; here:

- a code is for one perk, so for one provider (whoever else sends it is refused and the code is
  left alone), and it is spent by the one check that uses it, or dies after
  :data:`CONSENT_MINUTES`, whichever comes first;
- a wrong code costs every live code of the resident for that perk one of its
  :data:`MAX_ATTEMPTS`, so a provider cannot guess one (30^8 codes, five tries);
- only a salted scrypt hash is stored, as for sign-in codes, so a copy of the store holds no
  consent;
- making a code and spending it are in the audit trail under the resident, so the resident's
  access log shows who checked, when and under which consent.

The code is shown to the resident once (as text and as a QR code of the check's address,
:func:`check_url`), for the provider's desk to type or scan.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import quote

from guihua.core import policy
from guihua.core.catalog import Perk
from guihua.core.errors import Forbidden, InvalidInput, NotFound
from guihua.core.policy import Actor
from guihua.kit import urls
from guihua.kit.clock import now
from guihua.store import consent_queries
from guihua.store.catalog_queries import active_catalog
from guihua.store.database import Store
from guihua.usecases import audit
from guihua.usecases.subjects import check_subject

CONSENT_MINUTES = 10  # long enough to walk to the desk, too short to be collected and kept
MAX_ATTEMPTS = 5
CODE_LENGTH = 8
# No 0/O, 1/I/L or U/V pairs that a desk clerk could misread from a phone held up to them.
ALPHABET = "ABCDEFGHJKMNPQRSTWXYZ23456789"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
GIVE, USE = "consent.give", "consent.use"


@dataclass(frozen=True)
class ConsentCode:
    """A consent code made now (shown this once; only its hash is kept)."""

    subject_id: str
    perk: str
    provider: str
    code: str  # as the resident reads it out: ``ABCD-EFGH``
    expires_at: dt.datetime
    minutes: int
    check_url: str  # what the QR code holds: the provider's check with this code


def display(code: str) -> str:
    """``ABCDEFGH`` as ``ABCD-EFGH``: two groups are easier to read out and to type."""
    return f"{code[:4]}-{code[4:]}"


def normalised(typed: str) -> str:
    """A code as typed (any case, with dashes or spaces) in the stored form."""
    return "".join(ch for ch in typed.upper() if ch.isalnum())[:40]


def check_url(perk: str, subject_id: str, code: str) -> str:
    """The provider's eligibility check with this consent, under ``GUIHUA_PUBLIC_URL``."""
    return (
        f"{urls.public_url()}/api/v1/perks/{quote(perk, safe='')}/eligibility/{subject_id}"
        f"?consent={display(code)}"
    )


def _digest(code: str, salt: str) -> str:
    return hashlib.scrypt(code.encode(), salt=bytes.fromhex(salt), **_SCRYPT).hex()


def consent_perks(store: Store) -> list[Perk]:
    """The perks of the active catalog that need the resident's consent for each check."""
    with store.begin() as conn:
        return [p for p in active_catalog(conn).catalog.perks if p.consent_required]


def give(store: Store, actor: Actor, subject_id: str, perk_code: str) -> ConsentCode:
    """A new consent code of the resident for one check of ``perk_code`` (audited, refusals too)."""
    sid = check_subject(subject_id)
    refusal = policy.give_consent(actor, sid)
    if refusal is not None:
        audit.record(store, actor, GIVE, outcome="refused", subject_id=sid, detail=refusal)
        raise Forbidden(refusal)
    at = now()
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    salt = secrets.token_hex(16)
    with store.begin() as conn:
        perk = active_catalog(conn).catalog.perk_by_code.get(perk_code)
        if perk is None:
            raise NotFound(f"no perk {perk_code[:64]!r}")
        if not perk.consent_required:
            raise InvalidInput(f"{perk.code} needs no consent: its provider checks it without a code")
        consent_queries.forget_expired(conn, at - dt.timedelta(days=1))
        expires = at + dt.timedelta(minutes=CONSENT_MINUTES)
        row_id = consent_queries.add(
            conn,
            {
                "subject_id": sid,
                "perk": perk.code,
                "provider": perk.provider,
                "code_hash": _digest(code, salt),
                "salt": salt,
                "created_at": at,
                "expires_at": expires,
                "attempts": 0,
            },
        )
        audit.append(
            conn,
            actor,
            GIVE,
            subject_id=sid,
            detail=f"consent {row_id}: one check of {perk.code} by {perk.provider}, "
            f"valid {CONSENT_MINUTES} minutes",
        )
    return ConsentCode(
        sid,
        perk.code,
        perk.provider,
        display(code),
        expires,
        CONSENT_MINUTES,
        check_url(perk.code, sid, code),
    )


def redeem(store: Store, actor: Actor, subject_id: str, perk: Perk, typed: str) -> bool:
    """Spend one live consent code of the resident for ``perk``; True when ``typed`` was one.

    Only the perk's own provider may spend one: anyone else is answered False without touching
    the resident's codes (so a stranger cannot burn them). A wrong code costs every live code of
    the resident for the perk a try. The spend is audited in its own transaction, under the
    resident, naming the provider's account; a refusal is audited by the caller with the
    policy's reason (:func:`guihua.core.policy.check_perk`).
    """
    sid = check_subject(subject_id)
    if policy.owns_perk(actor, perk) is not None or not perk.consent_required:
        return False
    code = normalised(typed)
    at = now()
    with store.begin() as conn:
        rows = consent_queries.live(conn, sid, perk.code, at, MAX_ATTEMPTS)
        match = next(
            (
                r
                for r in rows
                if len(code) == CODE_LENGTH
                and r.provider == perk.provider
                and hmac.compare_digest(_digest(code, r.salt), r.code_hash)
            ),
            None,
        )
        if match is None or not consent_queries.spend(conn, int(match.id), at, actor.account):
            consent_queries.count_failure(conn, [int(r.id) for r in rows])
            return False
        audit.append(conn, actor, USE, subject_id=sid, detail=f"consent {match.id}: one check of {perk.code}")
    return True
