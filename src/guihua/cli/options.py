"""Options shared by every command."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from guihua.core.languages import Language
    from guihua.core.policy import Actor

Db = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="GUIHUA_DB",
        help="Store: a file path or SQLAlchemy URL (default guihua.db here; GUIHUA_DB overrides).",
        show_default=False,
    ),
]
KeyDir = Annotated[
    Path | None,
    typer.Option(
        "--key-dir",
        envvar="GUIHUA_KEY_DIR",
        help="Folder of the signing key pair "
        "(default: keys/ beside a SQLite store, else ~/.config/guihua/keys).",
        show_default=False,
    ),
]
At = Annotated[str | None, typer.Option("--at", help="Date YYYY-MM-DD (default: today).")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
Lang = Annotated[
    str | None,
    typer.Option(
        "--lang",
        help="Language of what the resident reads: zh-CN (the default) or en.",
        show_default=False,
    ),
]


def lang_of(value: str | None) -> Language:
    """``--lang`` as a supported language (absent: zh-CN); anything else is refused in one line."""
    from guihua.core.languages import language

    return language(value, "--lang")


def at_date(value: str | None) -> dt.date | None:
    from guihua.kit.clock import parse_date  # not at start-up: every command imports this module

    return parse_date(value, "--at") if value else None


Purpose = Annotated[
    str | None,
    typer.Option(
        "--purpose",
        help="Why you read this resident's data: kept in the audit trail, shown to the resident.",
    ),
]
As = Annotated[
    str | None,
    typer.Option(
        "--as", help="The staff member acting (counter clerk or reviewer), named in the audit trail."
    ),
]


def staff_actor(account: str | None, role: str) -> Actor:
    """Who acts at the terminal in ``role`` (counter clerk, reviewer): ``--as``, else the login name.

    The role is the work's, not the person's: a write at the counter is a service desk's and the
    access policy holds it to what a service desk may do, whoever types it.
    """
    from guihua.core.policy import Actor
    from guihua.usecases.audit import cli_actor

    return Actor(account or cli_actor().account, role)


# The batch engines (guihua.engine.backends): whole-population commands take these.
Engine = Annotated[
    str,
    typer.Option(
        "--engine",
        help="duckdb (in-process, over a columnar copy of the records), sql (the store's own SQL) "
        "or spark (PySpark, the extra guihua[spark]; local[2] unless --spark-master).",
    ),
]
SparkMaster = Annotated[
    str | None,
    typer.Option(
        "--spark-master",
        help="A Spark cluster's master, spark://HOST:PORT (with --engine spark; default: local mode).",
        show_default=False,
    ),
]
WorkDir = Annotated[
    Path | None,
    typer.Option(
        "--work-dir",
        help="Folder for the records' Parquet copy while the batch engine runs (default: a temporary "
        "one); on a Spark cluster, shared storage every executor reads at the same path.",
        show_default=False,
    ),
]
