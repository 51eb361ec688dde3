"""Errors of the portal's pages, answered as pages in the visitor's language, never as JSON.

A page handler raises :class:`PageError` with a status and a ``kind`` (the template
``error.html`` words each kind: ``csrf``, ``forbidden``, ``not_found``, ``rate_limited``...),
or :class:`SignInNeeded` to send the visitor to ``/login`` and back. The API keeps its problem
documents: :func:`guihua.web.portal.install` answers an error with a page only outside
``/api/`` and only to a browser (``Accept: text/html``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PageError(Exception):
    """An error page: ``status`` (403, 404, 429...), ``kind`` (what error.html says) and a detail."""

    status: int
    kind: str
    detail: str = ""
    retry_after: int | None = None


@dataclass
class SignInNeeded(Exception):
    """The page needs a signed-in visitor: answered by a redirect to ``/login?next=<this page>``."""

    next_url: str
