"""``guihua sign-in-code``: a one-time portal sign-in code printed for a resident at the counter.

The resident is there in person (the clerk has seen the identity card): the code is shown
once, for the clerk to print or write down and hand over. Only its hash is kept; it signs the
resident in to the portal once, within its validity (``/login/code``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from guihua.cli import render
from guihua.cli.options import As, Db, Json, staff_actor


def register(app: typer.Typer) -> None:
    app.command("sign-in-code")(sign_in_code)


def sign_in_code(
    subject_id: Annotated[str, typer.Argument(help="The resident's identity number.")],
    as_: As = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Print a one-time code with which the resident signs in to the portal (audited)."""
    from guihua.store.database import open_store
    from guihua.usecases import sign_in

    store = open_store(db, create=False)
    printed = sign_in.counter_code(store, staff_actor(as_, "service_desk"), subject_id)
    until = printed.expires_at.isoformat(timespec="seconds")
    if as_json:
        render.print_json({"subject_id": printed.subject_id, "code": printed.code, "expires_at": until})
        return
    render.console.print(
        f"sign-in code {printed.code} for {printed.subject_id}: valid once, for {printed.minutes} minutes "
        f"(until {until} UTC), at /login/code",
        markup=False,
    )
