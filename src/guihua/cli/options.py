"""Options shared by every command."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

Db = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="GUIHUA_DB",
        help="Store: a file path or SQLAlchemy URL (default guihua.db here; GUIHUA_DB overrides).",
        show_default=False,
    ),
]
At = Annotated[str | None, typer.Option("--at", help="Date YYYY-MM-DD (default: today).")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]


def at_date(value: str | None) -> dt.date | None:
    from guihua.kit.clock import parse_date  # not at start-up: every command imports this module

    return parse_date(value, "--at") if value else None
