"""Who may see what, and why: the one access policy, shared by the HTTP service and the command line.

Each function answers ``None`` (allowed) or the reason for a refusal, in
words a caller can act on; the adapters audit every refusal and answer it
(403, or a one-line error). Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from guihua.core.catalog import Perk

ROLES: tuple[str, ...] = (
    "admin",
    "department",
    "provider",
    "resident",
    "service_desk",
    "reviewer",
    "auditor",
)
BINDING = {"department": "department", "provider": "provider", "resident": "subject"}  # role -> what binds it
READERS: tuple[str, ...] = ("resident", "service_desk", "reviewer", "auditor", "admin")
SUPPRESS_BELOW = 10  # public statistics never show a cell of fewer residents


@dataclass(frozen=True)
class Actor:
    """Who acts: an account, its role, and what the role is bound to (department, provider, resident)."""

    account: str
    role: str
    department: str | None = None
    provider: str | None = None
    subject_id: str | None = None


def read_subject(actor: Actor, subject_id: str, purpose: str | None) -> str | None:
    """Residents read only themselves; service desks must say why; departments and providers never."""
    if actor.role == "resident" and actor.subject_id != subject_id:
        return "a resident may read only its own data"
    if actor.role == "service_desk" and not (purpose and purpose.strip()):
        return "service desks must give a non-empty purpose"
    if actor.role not in READERS:
        return f"role {actor.role} may not read residents' data"
    return None


def act_for_subject(actor: Actor, subject_id: str, what: str) -> str | None:
    """Acting on a resident's behalf (objecting, giving a contact): the resident itself or a service desk."""
    own = actor.role == "resident" and actor.subject_id == subject_id
    if own or actor.role == "service_desk":
        return None
    return f"only the resident itself or a service desk may {what}"


def read_access_log(actor: Actor, subject_id: str) -> str | None:
    """Who looked at a resident's data: the resident itself and auditors."""
    own = actor.role == "resident" and actor.subject_id == subject_id
    if own or actor.role == "auditor":
        return None
    return "only the resident itself and auditors"


def owns_perk(actor: Actor, perk: Perk) -> str | None:
    """Only the provider that owns a perk checks it (or may spend a consent code for it)."""
    if actor.role != "provider" or actor.provider != perk.provider:
        return f"only {perk.provider} checks {perk.code}"
    return None


def check_perk(actor: Actor, perk: Perk, consented: bool = False) -> str | None:
    """Eligibility (yes or no, never the score) for the provider that owns the perk, and only it.

    A perk that requires the resident's consent (spec section 6) is answered only when this
    check spent a consent code the resident made for that perk (``consented``): without one the
    provider must not learn it.
    """
    refusal = owns_perk(actor, perk)
    if refusal is not None:
        return refusal
    if perk.consent_required and not consented:
        return (
            f"{perk.code} needs the resident's consent for each check; ask the resident for a consent "
            "code (made on the portal's /me pages) and send it as ?consent="
        )
    return None


def give_consent(actor: Actor, subject_id: str) -> str | None:
    """A consent code for a perk check: only the resident itself makes one, for itself.

    Consent is the resident's own act; a service desk may help, but the code is made by the
    resident signed in on its own pages.
    """
    if actor.role == "resident" and actor.subject_id == subject_id:
        return None
    return "only the resident itself gives consent to a perk check"


def own_pages(actor: Actor) -> str | None:
    """The resident's own pages (``/me``): a resident signed in as itself, nobody else.

    Staff read a resident's data where they must give a purpose (the service counter), never
    through a resident's page, which asks for none.
    """
    if actor.role == "resident" and actor.subject_id:
        return None
    return "these are a resident's own pages; staff look a resident up at the service counter"


def issue_sign_in_code(actor: Actor) -> str | None:
    """A one-time sign-in code printed for a resident: only a service desk, with the resident there.

    (A resident asks for its own by e-mail on the portal's sign-in page, which needs no actor.)
    """
    if actor.role == "service_desk":
        return None
    return "only a service desk prints a sign-in code for a resident"


def work_at_counter(actor: Actor) -> str | None:
    """The portal's service counter (``/counter``): service desks only.

    What the counter then does is each asked on its own (:func:`read_subject` with the purpose,
    :func:`act_for_subject`, :func:`issue_sign_in_code`); this only keeps other roles, who may
    read some of the same data elsewhere, from working as a counter that reads on a resident's say.
    """
    return None if actor.role == "service_desk" else "only a service desk works at the counter"


def reprint_at_counter(actor: Actor, issued_by: str) -> str | None:
    """A certificate's printable page and PDF, kept a while after issue: for the clerk who issued it.

    The certificate itself stays checkable by anyone by its code; the page shows the whole
    resident id, so it is not for the next clerk at another counter.
    """
    if actor.role == "service_desk" and actor.account == issued_by:
        return None
    return "only the clerk who issued a certificate prints it again from the counter"


def department_of(actor: Actor) -> str | None:
    """The department a caller submits for, or None when it is not a department's account."""
    return actor.department if actor.role == "department" and actor.department else None


def list_objections(actor: Actor) -> str | None:
    """Reviewers and auditors see every objection; a department those against its own records."""
    if actor.role in ("reviewer", "auditor", "admin") or department_of(actor):
        return None
    return f"role {actor.role} may not list objections"


def decide_objections(actor: Actor) -> str | None:
    return None if actor.role == "reviewer" else "only a reviewer decides objections"


def read_defaulters(actor: Actor) -> str | None:
    if actor.role in ("admin", "reviewer", "auditor", "service_desk"):
        return None
    return f"role {actor.role} may not read the defaulter list"


FEED_READERS: tuple[str, ...] = ("admin", "auditor")  # operators and auditors see every department's feed


def read_feeds(actor: Actor, department: str | None = None) -> str | None:
    """Submissions and feed status: operators (admin) and auditors all; a department only its own.

    ``department``: the one asked about (None: all, which a department's account reads as its own).
    Feeds hold no resident's data, so no purpose is asked.
    """
    if actor.role in FEED_READERS:
        return None
    own = department_of(actor)
    if own is None:
        return f"role {actor.role} may not read departments' submissions or feeds"
    if department is not None and department != own:
        return f"a department sees only its own submissions and feed ({own})"
    return None


def suppressed(count: int) -> int | None:
    """A public count, or None when it counts fewer than :data:`SUPPRESS_BELOW` residents."""
    return count if count >= SUPPRESS_BELOW else None
