"""The portal's navigation: the links in the header, where each role lands after signing in.

A page of another engineer joins the header by adding a :class:`Link` to :data:`PUBLIC` or
:data:`BY_ROLE`; labels are msgids (English) that the templates translate.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from guihua.core.policy import Actor
from guihua.web.locales import N_


@dataclass(frozen=True)
class Link:
    path: str
    label: str  # a msgid of the portal's catalogs


PUBLIC: tuple[Link, ...] = (
    Link("/", N_("The scheme")),
    Link("/stats", N_("Statistics")),
    Link("/verify", N_("Check a certificate")),
)
BY_ROLE: dict[str, tuple[Link, ...]] = {
    "resident": (Link("/me", N_("My credit")),),
    "service_desk": (Link("/counter", N_("Service counter")),),
    "department": (Link("/department", N_("Department")),),
    "reviewer": (Link("/review", N_("Objections to decide")),),
}
HOME_OF: dict[str, str] = {
    "resident": "/me",
    "service_desk": "/counter",
    "department": "/department",
    "reviewer": "/review",
}


def links_for(actor: Actor | None) -> tuple[Link, ...]:
    """The header's links: the public pages, then the signed-in role's own."""
    return PUBLIC + (BY_ROLE.get(actor.role, ()) if actor else ())


def home_of(actor: Actor) -> str:
    """Where a role lands after signing in (its own page, else the home page)."""
    return HOME_OF.get(actor.role, "/")


def safe_next(target: str | None) -> str | None:
    """A ``next`` address to go back to after signing in, only when it is a path of this site.

    Anything with a scheme or a host (``https://evil.example``, ``//evil.example``, ``/\\evil``)
    is dropped: the sign-in page must not become a way to send people elsewhere.
    """
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(c in target for c in "\r\n\t\\"):
        return None
    return target
