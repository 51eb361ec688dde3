"""What the staff pages (``/counter``, ``/department``, ``/review``) share: the audited refusal,
the catalog's words, and the kinds of error a use case can answer, said in the page's language.

The staff pages ask :mod:`guihua.core.policy` exactly as the API's routes do, and a refusal is
written to the audit trail as the API's :func:`guihua.http.auth.refuse` writes it (action,
``refused``, the resident when there is one, the policy's reason), so the trail does not depend
on whether someone tried through a page or through a program.
"""

from __future__ import annotations

from typing import NoReturn

from fastapi import Request

from guihua.core.errors import AgreementNotInForce, Conflict, GuihuaError, NotFound, UnreadableFile
from guihua.core.policy import Actor
from guihua.documents.words import Words
from guihua.usecases import audit, catalogs, sign_in
from guihua.web.actors import store_of
from guihua.web.locales import language
from guihua.web.page_errors import PageError


def record_refusal(
    request: Request, actor: Actor, action: str, why: str, subject_id: str | None = None
) -> None:
    """Write the policy's refusal to the audit trail (for a page that then says it in a form)."""
    audit.record(store_of(request), actor, action, outcome="refused", subject_id=subject_id, detail=why)


def refuse(request: Request, actor: Actor, action: str, why: str, subject_id: str | None = None) -> NoReturn:
    """Record the refusal in the audit trail, then answer the 403 page."""
    record_refusal(request, actor, action, why, subject_id)
    raise PageError(403, "forbidden")


def enforce(
    request: Request, actor: Actor, refusal: str | None, action: str, subject_id: str | None = None
) -> None:
    """Go on when the access policy allowed (``refusal`` None), else :func:`refuse`."""
    if refusal is not None:
        refuse(request, actor, action, refusal, subject_id)


def words(request: Request) -> Words:
    """The catalog's names and the scheme's fixed sentences in the visitor's language: the same
    :class:`~guihua.documents.words.Words` the report, the certificate and the notices speak with,
    so a rule is called the same on a page as on paper."""
    _, catalog = catalogs.active(store_of(request))
    return Words(catalog, language(request))


def problem_kind(exc: GuihuaError) -> str:
    """A use case's refusal as one of the kinds the staff templates word (``_staff.html``'s ``problem``)."""
    if isinstance(exc, sign_in.TooManyCodes):
        return "too_many_codes"
    if isinstance(exc, AgreementNotInForce):
        return "agreement_not_in_force"
    if isinstance(exc, UnreadableFile):
        return "file_unreadable"
    if isinstance(exc, NotFound):
        return "not_found"
    if isinstance(exc, Conflict):
        return "conflict"
    return "invalid"
