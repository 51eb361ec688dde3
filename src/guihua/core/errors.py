"""Errors a user can act on.

Every adapter turns a :class:`GuihuaError` into one line (CLI) or a problem
document (HTTP); anything else is a bug.
"""

from __future__ import annotations


class GuihuaError(Exception):
    """An error whose message tells the user what to fix."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(GuihuaError):
    code = "invalid_input"


class NotFound(GuihuaError):
    code = "not_found"


class Conflict(GuihuaError):
    """The request is well formed but the state forbids it now (an objection already decided)."""

    code = "conflict"


class Forbidden(GuihuaError):
    """The caller may not do this (a department outside its agreement, a role without the right)."""

    code = "forbidden"


class AgreementNotInForce(Forbidden):
    """A submission from a department whose data-sharing agreement is not in force (spec section 3)."""

    code = "agreement_not_in_force"


class NoStore(GuihuaError):
    """A command that only reads was pointed at a store that does not exist."""

    code = "no_store"


class StoreBusy(GuihuaError):
    """The store could not be had in time (SQLite during another write): nothing was done; try again."""

    code = "store_busy"
    retry_after = 5  # seconds


class CatalogRefused(GuihuaError):
    """A catalog failed validation; ``problems`` lists every finding."""

    code = "catalog_refused"

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"catalog refused: {len(problems)} problem(s): " + "; ".join(problems))
        self.problems = problems
