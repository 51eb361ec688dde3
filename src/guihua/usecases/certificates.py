"""Certificates of listing status: issue (signed, stored, audited), verify offline, check by code.

A resident asks for a certificate to show a landlord or an employer that they are not on the
defaulter list (or that their case was resolved). Three promises follow:

- the statement is signed with the centre's Ed25519 key, so a holder of the public key can
  check it without the store (:func:`verify_file`), and nobody can make one up;
- the store keeps the code, the digest of the signed statement and what it certified, so the
  public check (:func:`check_code`) can say whether it still holds *today*, not just whether
  it was once true;
- issuing and every public check are in the audit trail under the resident's id, so the
  resident sees who looked.

The listing status comes from :func:`guihua.usecases.listings.cases_of`, the same use case as
the defaulter list: a certificate never computes listings of its own. The PDF's page is in the
language asked for (zh-CN by default, or English) and its QR code and check text point to the
check page ``/verify/{code}`` under ``GUIHUA_PUBLIC_URL``; the signed statement is the same in
every language.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from guihua.core import statement as cert
from guihua.core.errors import CannotWrite, Conflict, InvalidInput
from guihua.core.languages import DEFAULT_LANGUAGE, Language
from guihua.core.policy import Actor
from guihua.core.results import Listing
from guihua.documents import certificate_pdf
from guihua.documents.words import Words
from guihua.kit import signing, urls
from guihua.kit.clock import as_date, now, today
from guihua.store import certificate_queries
from guihua.store.catalog_queries import active_catalog
from guihua.store.database import Store, resolve_url
from guihua.usecases import audit, listings
from guihua.usecases.subjects import check_subject

DEFAULT_VALID_DAYS = 90
DEFAULT_PUBLIC_URL = urls.DEFAULT_PUBLIC_URL
PUBLIC = Actor("public", "public")

Kind = Literal["pdf", "json"]


# --------------------------------------------------------------------------- configuration


def key_dir(option: str | Path | None = None, db: str | None = None) -> Path:
    """Where the signing key lives: ``--key-dir``, else ``GUIHUA_KEY_DIR``, else ``keys/`` beside a
    SQLite store, else ``~/.config/guihua/keys`` (``$XDG_CONFIG_HOME`` respected).

    Worked out from the store's *name* only, so offline verification never opens a store.
    """
    chosen = option or os.environ.get("GUIHUA_KEY_DIR")
    if chosen:
        return Path(chosen).expanduser()
    url = make_url(resolve_url(db))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).expanduser().resolve().parent / "keys"
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "guihua" / "keys"


def valid_days_default() -> int:
    raw = os.environ.get("GUIHUA_CERT_VALID_DAYS")
    if not raw:
        return DEFAULT_VALID_DAYS
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"GUIHUA_CERT_VALID_DAYS {raw!r} is not a number of days") from None


def verification_url(code: str) -> str:
    """The public check page of a certificate, ``/verify/{code}`` under ``GUIHUA_PUBLIC_URL``
    (a page for people; programs ask ``/api/v1/certificates/{code}``)."""
    return urls.verify_url(cert.display_code(code))


def kind_of(out: Path) -> Kind:
    suffix = out.suffix.lower()
    if suffix == ".pdf":
        return "pdf"
    if suffix == ".json":
        return "json"
    raise InvalidInput(f"--out {out}: name a .pdf or a .json file")


# --------------------------------------------------------------------------- issue


@dataclass(frozen=True)
class Issued:
    statement: cert.Statement
    url: str
    out: Path

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.statement.as_dict(),
            "display_code": cert.display_code(self.statement.code),
            "url": self.url,
            "out": str(self.out),
        }


def _case(c: Listing) -> cert.Case:
    return cert.Case(
        case_id=c.case_id,
        department=c.department,
        department_name=c.department_name,
        metric=c.metric,
        listed_on=c.listed_on,
        resolved_on=c.resolved_on,
        legal_basis=c.legal_basis,
    )


def _cases(store: Store, subject_id: str, at: dt.date) -> tuple[str, list[cert.Case]]:
    catalog, found = listings.cases_of(store, subject_id, at)
    return catalog.scheme.name, [_case(c) for c in found]


def issue(
    store: Store,
    subject_id: str,
    out: Path,
    keys: Path,
    at: dt.date | None = None,
    valid_days: int | None = None,
    actor: Actor | None = None,
    purpose: str | None = None,
    lang: Language = DEFAULT_LANGUAGE,
) -> Issued:
    """Certify the resident's listing status at ``at`` (default today) into ``out`` (.pdf or .json).

    A PDF's page is in ``lang``. The row and its audit entry land together; the file is written
    after, whole or not at all.
    """
    kind = kind_of(out)
    sid = check_subject(subject_id)
    day = _today(store)
    at = at or day
    if at > day:
        raise InvalidInput(f"--at {at}: a certificate states what holds on a past day or today, not later")
    days = valid_days if valid_days is not None else valid_days_default()
    key = signing.load_or_create(keys)
    catalog, found = listings.cases_of(store, sid, at)
    scheme, cases = catalog.scheme.name, [_case(c) for c in found]
    rules = {(c.department, c.case_id): c.rule_id for c in found}  # for the page's words: the rule and why
    words = Words(catalog, lang)
    actor = actor or audit.cli_actor()
    for _ in range(5):  # a clash of 60-bit random codes is for the birthday paradox at 10^9 certificates
        code = cert.code_from_bytes(secrets.token_bytes(8))
        statement = cert.new_statement(code, sid, at, now(), day, days, key.key_id, scheme, cases)
        signed = _file_bytes(cert.envelope(statement, key.sign(statement.signed_bytes())))
        url = verification_url(code)
        content = certificate_pdf.render(statement, signed, url, words, rules) if kind == "pdf" else signed
        try:
            _store(store, statement, actor, purpose)
        except IntegrityError:
            continue
        _write(out, content)
        return Issued(statement, url, out)
    raise Conflict("could not find an unused certificate code; try again")


def _today(store: Store) -> dt.date:
    """Today in the scheme's time zone."""
    with store.begin() as conn:
        return today(active_catalog(conn).catalog.scheme.timezone)


def _store(store: Store, s: cert.Statement, actor: Actor, purpose: str | None) -> None:
    with store.begin() as conn:
        certificate_queries.add(
            conn,
            {
                "code": s.code,
                "subject_id": s.subject_id,
                "at": dt.date.fromisoformat(s.at),
                "statement_digest": s.digest(),
                "issued_at": dt.datetime.fromisoformat(s.issued_at.replace("Z", "+00:00")),
                "valid_until": dt.date.fromisoformat(s.valid_until),
                "key_id": s.key_id,
                "finding": s.finding.canonical(),
            },
        )
        audit.append(
            conn,
            actor,
            "certificate.issue",
            subject_id=s.subject_id,
            purpose=purpose,
            detail=f"{cert.display_code(s.code)} at {s.at}: {s.finding.status}, valid until {s.valid_until}",
        )


def _file_bytes(envelope: dict[str, Any]) -> bytes:
    """The JSON certificate file: indented for people; verification re-canonicalises what it reads."""
    return (json.dumps(envelope, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _write(out: Path, content: bytes) -> None:
    if not out.parent.exists():
        raise InvalidInput(f"--out {out}: folder {out.parent} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.replace(tmp, out)
    except OSError as exc:
        raise CannotWrite(f"cannot write {out}: {exc.strerror or exc}") from None


# --------------------------------------------------------------------------- verify (offline)


@dataclass(frozen=True)
class Verified:
    statement: cert.Statement
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": True,
            "code": cert.display_code(self.statement.code),
            "subject_id": self.statement.subject_id,
            "at": self.statement.at,
            "status": self.statement.finding.status,
            "statement": self.text,
            "issued_at": self.statement.issued_at,
            "valid_until": self.statement.valid_until,
            "key_id": self.statement.key_id,
            "check_online": verification_url(self.statement.code),
        }


def read_certificate(path: Path) -> cert.Envelope:
    """The signed statement in a .json certificate or attached to a .pdf one."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise cert.CertificateRefused("unreadable", f"cannot read {path}: {exc.strerror or exc}") from None
    if raw.startswith(b"%PDF"):
        try:
            inner = certificate_pdf.embedded_certificate(raw)
        except Exception as exc:  # pypdf raises many kinds on a damaged file; all mean the same here
            raise cert.CertificateRefused(
                "unreadable", f"{path} is a damaged PDF ({type(exc).__name__})"
            ) from None
        if inner is None:
            raise cert.CertificateRefused("malformed", f"{path} is a PDF with no certificate.json attached")
        raw = inner
    return cert.parse_envelope(raw)


def verify(envelope: cert.Envelope, trusted: Ed25519PublicKey) -> Verified:
    """Signed by the trusted key, unchanged since, and not past its validity: else the reason why.

    Only the trusted key counts. A statement naming another key id is ``forged`` (signed by a
    key that is not the centre's); one naming the centre's key whose signature fails was
    ``altered`` after signing (or forged without the key: the same to the reader).
    """
    s = envelope.statement
    trusted_id = signing.key_id(trusted)
    if s.key_id != trusted_id:
        raise cert.CertificateRefused(
            "forged", f"signed by key {s.key_id}, not by the trusted key {trusted_id}"
        )
    if not signing.verifies(trusted, envelope.signature, envelope.signed):
        raise cert.CertificateRefused(
            "altered", "the statement was changed after it was signed (the signature does not match it)"
        )
    if dt.date.fromisoformat(s.valid_until) < today():
        raise cert.CertificateRefused(
            "expired", f"certificate {cert.display_code(s.code)} was valid until {s.valid_until}"
        )
    return Verified(s, envelope.text)


def verify_file(path: Path, trusted: Ed25519PublicKey) -> Verified:
    return verify(read_certificate(path), trusted)


# --------------------------------------------------------------------------- the public check


CheckStatus = Literal["valid", "superseded", "expired"]


@dataclass(frozen=True)
class Check:
    code: str
    status: CheckStatus
    subject: str  # masked: the public never sees a whole resident id
    at: str
    issued_at: str
    valid_until: str
    key_id: str
    certified_status: str
    certified: str
    superseded_on: list[str]  # "at" and/or "today": where the status no longer matches
    checked_on: str  # today, in the scheme's time zone

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "status": self.status,
            "subject": self.subject,
            "at": self.at,
            "issued_at": self.issued_at,
            "valid_until": self.valid_until,
            "key_id": self.key_id,
            "certified": {"status": self.certified_status, "statement": self.certified},
            "checked_on": self.checked_on,
        }
        if self.status == "superseded":
            out["superseded_on"] = self.superseded_on
            days = sorted({self.at if w == "at" else self.checked_on for w in self.superseded_on})
            out["detail"] = (
                f"the resident's listing status on {' and on '.join(days)} is no longer the one certified; "
                "ask the resident for a new certificate"
            )
        return out


def _count_public_check(store: Store, subject_id: str, outcome: str) -> None:
    """An anonymous check, counted for its day (not an audit entry each: see migration 0016)."""
    with store.begin() as conn:
        certificate_queries.count_check(conn, _today(store), subject_id, outcome, now())


def public_checks(store: Store, subject_id: str, limit: int = 90) -> list[dict[str, Any]]:
    """How often the public checked this resident's certificates, per day and outcome, newest first.

    Shown to the resident (and auditors) beside the access log; who checked is not known.
    """
    with store.begin() as conn:
        rows = certificate_queries.checks_of(conn, subject_id, limit)
    return [
        {
            "day": str(r["day"])[:10],
            "outcome": r["outcome"],
            "checks": int(r["checks"]),
            "last_at": str(r["last_at"])[:19],
        }
        for r in rows
    ]


def check_code(store: Store, typed_code: str, actor: Actor = PUBLIC) -> Check:
    """Valid, superseded or expired; unknown codes raise :class:`UnknownCertificate` (a 404).

    Superseded: the listing status recomputed at the certificate's date, or at today, is not the
    one certified (a late record, a resolution, a revoked record...). What it is now is not said:
    the public learns only that the certificate no longer holds.
    """
    code = cert.normalise_code(typed_code)
    row = None
    if code is not None:
        with store.begin() as conn:
            row = certificate_queries.by_code(conn, code)
    if code is None or row is None:
        if actor == PUBLIC:
            _count_public_check(store, "", "unknown")
        else:
            audit.record(
                store, actor, "certificate.check", outcome="unknown", detail=f"code {typed_code[:40]!r}"
            )
        raise cert.UnknownCertificate(f"no certificate has the code {typed_code[:40]!r}: check it as printed")
    at, valid_until = as_date(row.at), as_date(row.valid_until)
    assert at is not None and valid_until is not None
    # NULL only for a row written before migration 0005: nothing to compare with, so never "valid"
    certified = cert.finding_from_dict(json.loads(row.finding)) if row.finding else None
    scheme, at_cases = _cases(store, row.subject_id, at)
    status: CheckStatus
    superseded: list[str] = []
    day = _today(store)
    if valid_until < day:
        status = "expired"
    else:
        now_cases = at_cases if day == at else _cases(store, row.subject_id, day)[1]
        for which, cases in (("at", at_cases), ("today", now_cases)):
            if certified is None or cert.finding_of(cases) != certified:
                superseded.append(which)
        status = "superseded" if superseded else "valid"
    masked = audit.mask(row.subject_id) or ""
    if actor == PUBLIC:
        _count_public_check(store, row.subject_id, status)
    else:
        audit.record(
            store,
            actor,
            "certificate.check",
            outcome=status,
            subject_id=row.subject_id,
            detail=cert.display_code(code)
            + (f" superseded on {', '.join(superseded)}" if superseded else ""),
        )
    return Check(
        code=cert.display_code(code),
        status=status,
        subject=masked,
        at=at.isoformat(),
        issued_at=_utc_text(row.issued_at),
        valid_until=valid_until.isoformat(),
        key_id=row.key_id,
        certified_status=certified.status if certified else "unknown",
        certified=cert.statement_text(certified, masked, at.isoformat(), scheme) if certified else "",
        superseded_on=superseded,
        checked_on=day.isoformat(),
    )


def _utc_text(value: object) -> str:
    """``issued_at`` as the statement wrote it (SQLite gives a naive UTC time, PostgreSQL an aware one)."""
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)
