"""How to reach a resident: its e-mail address and its language, set at a counter or by the resident.

Notices go out in the language kept here (zh-CN when none is). Setting an address is audited
(who changed whose contact, when; the address itself is masked in the trail) and, in the same
transaction, puts back into the queue every e-mail that was waiting for an address, so the
resident hears what it missed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from guihua.core.errors import InvalidInput
from guihua.core.languages import DEFAULT_LANGUAGE, Language, normalised
from guihua.core.policy import Actor
from guihua.kit.clock import now
from guihua.store import contact_queries, delivery_queries
from guihua.store.database import Store
from guihua.usecases import audit
from guihua.usecases.subjects import check_subject

# Deliberately plain: dot-atom local part, ASCII host names with a dot. An address a relay would
# refuse is better refused at the counter, with the resident still there to correct it.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*" rf"@{_LABEL}(?:\.{_LABEL})+"
)
MAX_EMAIL = 254


def check_email(value: str, what: str = "e-mail address") -> str:
    """A usable address (trimmed), or an error that says what one looks like.

    Anything with spaces, line breaks or a second ``@`` is refused, so no address can
    smuggle headers into a message.
    """
    address = value.strip()
    if len(address) > MAX_EMAIL or not _EMAIL.fullmatch(address):
        raise InvalidInput(f"{what} {value!r} is not valid: write it like name@example.org")
    return address


def mask_email(address: str | None) -> str | None:
    """For the audit trail: enough to recognise the change, not to harvest addresses."""
    if not address:
        return address
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


@dataclass(frozen=True)
class Contact:
    subject_id: str
    email: str | None
    updated_at: str | None
    requeued: int = 0
    lang: Language = DEFAULT_LANGUAGE  # what notices are sent in

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject_id": self.subject_id,
            "email": self.email,
            "lang": self.lang,
            "updated_at": self.updated_at,
            "requeued": self.requeued,
        }


def set_email(
    store: Store, subject_id: str, email: str, actor: Actor, lang: Language | None = None
) -> Contact:
    """Record a resident's e-mail address (and, given, the language of its notices; else the one
    kept stays); e-mails that waited for an address are queued again."""
    sid = check_subject(subject_id)
    address = check_email(email)
    with store.begin() as conn:
        contact_queries.put(conn, sid, address, now(), lang)
        requeued = delivery_queries.readdress(conn, now(), sid)
        said = f"; language {lang}" if lang else ""
        audit.append(
            conn,
            actor,
            "contact.set",
            subject_id=sid,
            detail=f"email {mask_email(address)}{said}; {requeued} requeued",
        )
        row = contact_queries.get(conn, sid)
        assert row is not None
    return Contact(sid, row.email, str(row.updated_at)[:19], requeued, _lang(row.lang))


def _lang(value: str | None) -> Language:
    return normalised(value) or DEFAULT_LANGUAGE


def show(store: Store, subject_id: str, actor: Actor, purpose: str | None = None) -> Contact:
    """A resident's contact (a read of its data, so audited like one)."""
    sid = check_subject(subject_id)
    with store.begin() as conn:
        row = contact_queries.get(conn, sid)
        audit.append(conn, actor, "contact.read", subject_id=sid, purpose=purpose)
    if row is None:
        return Contact(sid, None, None)
    return Contact(sid, row.email, str(row.updated_at)[:19], lang=_lang(row.lang))
