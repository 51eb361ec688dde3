"""Errors a user can act on, each of one kind with one stable code.

Every adapter turns a :class:`GuihuaError` into one line (CLI) or a problem document (HTTP);
anything else is a bug. A kind's ``code`` is the same in the CLI's ``--json`` error object and
in the service's problem documents; ``status`` is its HTTP status and ``exit_code`` the CLI's
(2 bad input, 1 a check that failed, 75 try again). :data:`ERROR_CODES` lists every code either
adapter can answer, with what it means; the README's table is checked against it.
"""

from __future__ import annotations


class GuihuaError(Exception):
    """An error whose message tells the user what to fix (raise a subclass: each has its code)."""

    code = "error"
    status = 400
    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(GuihuaError):
    """A value that is not what it must be (an id, a date, an option, a field of a request)."""

    code = "invalid_input"
    status = 422


class UnreadableFile(InvalidInput):
    """A file that cannot be read as what it claims to be (missing, empty, not UTF-8, bad header)."""

    code = "file_unreadable"


class CannotWrite(InvalidInput):
    """An output file or folder that cannot be written (no such folder, no permission)."""

    code = "cannot_write"


class NotFound(GuihuaError):
    code = "not_found"
    status = 404


class Conflict(GuihuaError):
    """The request is well formed but the state forbids it now (an objection already decided)."""

    code = "conflict"
    status = 409


class Forbidden(GuihuaError):
    """The caller may not do this (a department outside its agreement, a role without the right)."""

    code = "forbidden"
    status = 403


class AgreementNotInForce(Forbidden):
    """A submission from a department whose data-sharing agreement is not in force (spec section 3)."""

    code = "agreement_not_in_force"


class NoStore(GuihuaError):
    """A command that only reads was pointed at a store that does not exist."""

    code = "no_store"
    status = 503


class StoreUnavailable(GuihuaError):
    """The store cannot be opened (a bad path or URL, a server that does not answer, another kind)."""

    code = "store_unavailable"
    status = 503


class StoreBusy(GuihuaError):
    """The store could not be had in time (SQLite during another write): nothing was done; try again."""

    code = "store_busy"
    status = 503
    exit_code = 75  # EX_TEMPFAIL: nothing wrong with the input
    retry_after = 5  # seconds


class SigningKeyProblem(GuihuaError):
    """The certificate signing key or a trusted public key is missing, unreadable or exposed."""

    code = "signing_key"
    status = 500


class EngineUnavailable(GuihuaError):
    """The engine asked for cannot run here (PySpark or Java missing, no Spark master answering)."""

    code = "engine_unavailable"
    status = 503


class CatalogRefused(GuihuaError):
    """A catalog failed validation; ``problems`` lists every finding."""

    code = "catalog_refused"
    status = 422

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"catalog refused: {len(problems)} problem(s): " + "; ".join(problems))
        self.problems = problems


# Every code an adapter answers, with what it means. Codes the HTTP layer answers by itself
# (no token, a body too large...) are here too, so one list documents both adapters.
ERROR_CODES: dict[str, str] = {
    "invalid_input": "a value is not what it must be; the message says what is expected",
    "file_unreadable": "a file cannot be read as CSV, JSON Lines or Parquet (missing, not UTF-8, bad header)",
    "cannot_write": "an output file or folder cannot be written",
    "not_found": "no such resident record, objection, perk, account, metric or catalog version",
    "certificate_unknown": "no certificate was issued under this code",
    "conflict": "the state forbids it now (retracted already, decided already)",
    "forbidden": "the caller's role or binding does not allow it",
    "agreement_not_in_force": "the department's data-sharing agreement is not in force; nothing was stored",
    "catalog_refused": "a catalog failed validation; every problem is listed",
    "certificate_refused": "a certificate does not hold (forged, altered, expired, malformed, unreadable)",
    "no_store": "no store at the path or URL given; create one with guihua init",
    "store_unavailable": "the store cannot be opened (bad path or URL, server down, unsupported kind)",
    "store_busy": "the store is busy with another write; nothing was done, try again (Retry-After)",
    "signing_key": "the signing key or a trusted public key is missing, unreadable or open to others",
    "engine_unavailable": "the batch engine asked for cannot run here (no PySpark, Java or Spark master)",
    "unauthenticated": "HTTP: no bearer token, or an unknown or revoked one",
    "method_not_allowed": "HTTP: the path does not take this method (Allow lists those it takes)",
    "body_too_large": "HTTP: the request body is over the service's limit",
    "rate_limited": "HTTP: too many requests from one address to a public endpoint (Retry-After)",
    "http_error": "HTTP: any other protocol-level refusal",
}
