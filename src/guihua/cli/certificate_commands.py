"""``guihua certificate``: issue a signed certificate of listing status, verify one offline.

``guihua certificate SUBJECT_ID --out FILE`` is short for ``guihua certificate issue SUBJECT_ID
--out FILE``: the group hands anything that is not one of its commands to ``issue``.
Verification exits 0 when the certificate holds and 1 with a one-line reason when it does not
(forged, altered, expired, malformed, unreadable); errors of use (no trusted key) exit 2 like
every other command.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from guihua.cli import render
from guihua.cli.options import As, At, Db, Json, KeyDir, Lang, Purpose, at_date, lang_of, staff_actor


class _IssueByDefault(TyperGroup):
    """A group whose default command is ``issue``: ``certificate SUBJECT`` = ``certificate issue SUBJECT``."""

    # ``ctx`` is Typer's own (vendored) click Context, which it does not export by a public name
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["issue", *args]
        return super().parse_args(ctx, args)


certificate_app = typer.Typer(
    rich_markup_mode=None,
    cls=_IssueByDefault,
    help="Certificates of listing status: issue (signed PDF or JSON) and verify offline. "
    "`guihua certificate SUBJECT_ID --out FILE` is short for "
    "`guihua certificate issue SUBJECT_ID --out FILE`.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(certificate_app, name="certificate")


@certificate_app.command("issue")
def issue_cmd(
    subject_id: Annotated[str, typer.Argument(help="The resident's identity number.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write it: FILE.pdf or FILE.json.")],
    at: At = None,
    valid_days: Annotated[
        int | None,
        typer.Option("--valid-days", help="Days it stays valid (default 90; GUIHUA_CERT_VALID_DAYS).", min=1),
    ] = None,
    key_dir: KeyDir = None,
    clerk: As = None,
    purpose: Purpose = None,
    lang: Lang = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Certify the resident's listing status at a date: signed, stored under a code, audited.

    A PDF's page is in --lang (zh-CN by default, or en); its QR code leads to the check page."""
    from guihua.core.statement import display_code
    from guihua.store.database import open_store
    from guihua.usecases import certificates

    chosen = lang_of(lang)
    keys = certificates.key_dir(key_dir, db)
    actor = staff_actor(clerk, "service_desk") if clerk else None
    with render.working("signing the certificate"):
        issued = certificates.issue(
            open_store(db, create=False),
            subject_id,
            out,
            keys,
            at_date(at),
            valid_days,
            actor,
            purpose,
            lang=chosen,
        )
    if as_json:
        render.print_json(issued.as_dict())
        return
    s = issued.statement
    render.console.print(s.text, markup=False)
    render.console.print(
        f"certificate {display_code(s.code)} written to {out}; valid until {s.valid_until}; "
        f"signed with key {s.key_id}; check at {issued.url}",
        markup=False,
    )


@certificate_app.command("verify")
def verify_cmd(
    file: Annotated[Path, typer.Argument(help="A certificate: .pdf or .json.")],
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key", help="The centre's published public key (PEM); default: the key folder's."
        ),
    ] = None,
    key_dir: KeyDir = None,
    db: Db = None,
    as_json: Json = False,
) -> None:
    """Check a certificate offline against the trusted public key: exit 0 if it holds, 1 if not."""
    from guihua.core.statement import CertificateRefused, display_code
    from guihua.kit import signing
    from guihua.usecases import certificates

    trusted_path = public_key or certificates.key_dir(key_dir, db) / signing.PUBLIC_FILE
    trusted = signing.load_public(trusted_path)
    try:
        verified = certificates.verify_file(file, trusted)
    except CertificateRefused as refused:
        if as_json:
            render.print_json({"valid": False, "reason": refused.kind, "detail": refused.message})
        else:
            from rich.markup import escape

            render.err.print(f"[red]not valid[/]: {escape(refused.message)}")
        sys.exit(1)
    if as_json:
        render.print_json(verified.as_dict())
        return
    s = verified.statement
    render.console.print(f"valid: certificate {display_code(s.code)} signed by key {s.key_id}", markup=False)
    render.console.print(verified.text, markup=False)
    render.console.print(
        f"issued {s.issued_at}, valid until {s.valid_until}; "
        f"whether it still holds today: {certificates.verification_url(s.code)}",
        markup=False,
    )
