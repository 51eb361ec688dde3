"""``guihua``: the command line of the credit centre.

Each command parses its options, calls one use case and renders the answer.
"""

from __future__ import annotations

import os
import sys

import typer

from guihua.cli import (
    admin_commands,
    audit_commands,
    catalog_commands,
    certificate_commands,
    due_process_commands,
    feed_commands,
    notice_commands,
    record_commands,
    render,
    report_commands,
    score_commands,
    sign_in_commands,
    simulation_commands,
)
from guihua.cli.options import Db
from guihua.core.errors import GuihuaError
from guihua.core.masking import mask_text

app = typer.Typer(
    rich_markup_mode=None,
    name="guihua",
    help="Guihua (桂花): a public-credit scheme run fairly. "
    "Every point traces to a record, a rule and its law.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # plain help, as wide as the terminal allows: Rich's help costs 0.1-0.3 s of imports on every --help
    context_settings={"max_content_width": 120},
)


@app.callback()
def _root(db: Db = None) -> None:
    """Guihua (桂花): a public-credit scheme run fairly.

    Every point traces to a department's record, a published rule and its legal basis.
    """
    if db:  # `guihua --db X score ...` works like `guihua score ... --db X`
        os.environ["GUIHUA_DB"] = db


export_app = typer.Typer(rich_markup_mode=None, help="Export data.", no_args_is_help=True)
report_app = typer.Typer(rich_markup_mode=None, help="Reports on the store.", no_args_is_help=True)
app.add_typer(export_app, name="export")
app.add_typer(report_app, name="report")
catalog_commands.register(app)
record_commands.register(app)
score_commands.register(app, export_app, report_app)
report_commands.register(report_app)
simulation_commands.register(app, report_app)
due_process_commands.register(app)
certificate_commands.register(app)
notice_commands.register(app)
feed_commands.register(app)
admin_commands.register(app)
audit_commands.register(app)
sign_in_commands.register(app)


def main() -> None:
    """Entry point: user errors become one line on stderr, never a traceback.

    With ``--json`` the error is also one JSON object on stdout, ``{"error": code, "detail":
    message}``, with the same code the service's problem documents carry. The exit status is
    the error's kind's: 2 bad input, 1 a check that failed, 75 try again (the store was busy).
    """
    try:
        app()
    except GuihuaError as exc:
        if "--json" in sys.argv[1:]:
            render.print_json({"error": exc.code, "detail": exc.message})
        from rich.markup import escape

        render.err.print(f"[red]error[/]: {escape(exc.message)}")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        render.err.print("interrupted; nothing of the unfinished step was stored")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("GUIHUA_DEBUG"):
            raise
        msg = mask_text(" ".join(str(exc).split()))[:300]  # an internal error may quote a resident's id
        render.err.print(
            f"internal error: {type(exc).__name__}: {msg} (set GUIHUA_DEBUG=1 for details)",
            markup=False,
        )
        sys.exit(70)
