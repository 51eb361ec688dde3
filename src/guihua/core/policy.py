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


def check_perk(actor: Actor, perk: Perk) -> str | None:
    """Eligibility (yes or no, never the score) for the provider that owns the perk, and only it.

    A perk that requires the resident's consent is refused until consent codes
    exist (the portal's ``/me``): without one the provider must not learn it.
    """
    if actor.role != "provider" or actor.provider != perk.provider:
        return f"only {perk.provider} checks {perk.code}"
    if perk.consent_required:
        return f"{perk.code} needs the resident's consent for each check; ask the resident for a consent code"
    return None


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
