"""Certificates of listing status: what is certified, the exact bytes signed, and the wording.

Pure: no clock, no randomness, no I/O. The use case (:mod:`guihua.usecases.certificates`)
gathers the cases, the time and the random code; this module turns them into a statement
whose canonical bytes are what the Ed25519 signature covers. Anything that reads a
certificate back (offline verification, the PDF) goes through :func:`parse_envelope`, so a
malformed file is refused in one place with one reason.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from guihua.core.errors import GuihuaError, InvalidInput, NotFound

FORMAT = "guihua-certificate/1"
ALGORITHM = "Ed25519"
AUTHORITY = "Suzhou Public Credit Centre"

# Crockford base32: no I, L, O, U, so a code read aloud or typed from paper survives.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12  # 60 random bits: guessing a live code is hopeless, typing it is not
_TYPO = str.maketrans({"O": "0", "I": "1", "L": "1"})

Status = Literal["not_listed", "resolved", "listed"]
RefusalKind = Literal["forged", "altered", "expired", "malformed", "unreadable"]


class CertificateRefused(GuihuaError):
    """A certificate that does not hold; ``kind`` says which way (forged, altered, expired...)."""

    code = "certificate_refused"
    status = 422
    exit_code = 1  # a check that failed, not bad input

    def __init__(self, kind: RefusalKind, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind: RefusalKind = kind


class UnknownCertificate(NotFound):
    """No certificate was issued under this code (answered as a 404 problem by the service)."""

    code = "certificate_unknown"


# --------------------------------------------------------------------------- codes


def code_from_bytes(random: bytes) -> str:
    """A 12-character Crockford base32 code from (at least) 8 random bytes."""
    if len(random) < 8:
        raise ValueError("a certificate code needs at least 8 random bytes")
    n = int.from_bytes(random[:8], "big") >> (64 - 5 * CODE_LENGTH)
    return "".join(CROCKFORD[(n >> (5 * i)) & 31] for i in reversed(range(CODE_LENGTH)))


def display_code(code: str) -> str:
    """``ABCD-EFGH-JKMN``: groups of four are easier to read out and to type."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalise_code(typed: str) -> str | None:
    """The stored form of a code as a person typed it (any case, dashes, O for 0...), or None."""
    code = typed.strip().upper().replace("-", "").replace(" ", "").translate(_TYPO)
    if len(code) != CODE_LENGTH or any(c not in CROCKFORD for c in code):
        return None
    return code


# --------------------------------------------------------------------------- what is certified


@dataclass(frozen=True)
class Case:
    """One listing case as certified: enough to name it, its department and its legal basis."""

    case_id: str
    department: str
    department_name: str
    metric: str
    listed_on: str
    resolved_on: str | None
    legal_basis: str


@dataclass(frozen=True)
class Finding:
    """The resident's listing status at a date: the part a later check compares."""

    status: Status
    cases: tuple[Case, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "cases": [asdict(c) for c in self.cases]}

    def canonical(self) -> str:
        """Stored with the certificate; equal findings have equal text."""
        return canonical_text(self.as_dict())


def finding_of(cases: Sequence[Case]) -> Finding:
    """Listed if any case is open at the date, resolved if all cases were resolved by then."""
    ordered = tuple(sorted(cases, key=lambda c: (c.listed_on, c.department, c.case_id)))
    if any(c.resolved_on is None for c in ordered):
        return Finding("listed", ordered)
    return Finding("resolved" if ordered else "not_listed", ordered)


def finding_from_dict(data: Mapping[str, Any]) -> Finding:
    status = data.get("status")
    if status not in ("not_listed", "resolved", "listed"):
        raise ValueError(f"unknown status {status!r}")
    cases = data.get("cases")
    if not isinstance(cases, list):
        raise ValueError("cases is not a list")
    built = []
    for c in cases:
        if not isinstance(c, dict):
            raise ValueError("a case is not an object")
        built.append(Case(**{k: c[k] for k in Case.__dataclass_fields__}))
        for value in asdict(built[-1]).values():
            if value is not None and not isinstance(value, str):
                raise ValueError("case fields are text")
    return Finding(status, tuple(built))


def statement_text(finding: Finding, subject: str, at: str, scheme: str) -> str:
    """The sentence a person reads: the same words in the PDF, the JSON, verify and the service."""
    head = f"Resident {subject}"
    if finding.status == "not_listed":
        return f"{head} is not on the defaulter list of the {scheme} on {at}."
    if finding.status == "resolved":
        done = "; ".join(
            f"case {c.case_id} ({c.department_name}) resolved on {c.resolved_on}" for c in finding.cases
        )
        return f"{head} is not on the defaulter list of the {scheme} on {at}: {done}."
    open_cases = [c for c in finding.cases if c.resolved_on is None]
    since = "; ".join(
        f"since {c.listed_on} for case {c.case_id} ({c.department_name}, {c.legal_basis})" for c in open_cases
    )
    resolved = [c for c in finding.cases if c.resolved_on is not None]
    also = "".join(f"; case {c.case_id} resolved on {c.resolved_on}" for c in resolved)
    return f"{head} is on the defaulter list of the {scheme} on {at}: {since}{also}."


# --------------------------------------------------------------------------- the signed statement


@dataclass(frozen=True)
class Statement:
    """Everything the signature covers; ``text`` is derived but signed too, so it cannot drift."""

    code: str
    subject_id: str
    at: str
    issued_at: str
    valid_until: str
    key_id: str
    scheme: str
    finding: Finding
    authority: str = AUTHORITY
    format: str = FORMAT

    @property
    def text(self) -> str:
        return statement_text(self.finding, self.subject_id, self.at, self.scheme)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "authority": self.authority,
            "scheme": self.scheme,
            "code": self.code,
            "subject_id": self.subject_id,
            "at": self.at,
            "issued_at": self.issued_at,
            "valid_until": self.valid_until,
            "key_id": self.key_id,
            "finding": self.finding.as_dict(),
            "text": self.text,
        }

    def signed_bytes(self) -> bytes:
        return canonical_bytes(self.as_dict())

    def digest(self) -> str:
        """sha256 of the signed bytes: what the store keeps to recognise this exact statement."""
        return hashlib.sha256(self.signed_bytes()).hexdigest()


def new_statement(
    code: str,
    subject_id: str,
    at: dt.date,
    issued_at: dt.datetime,
    issued_on: dt.date,
    valid_days: int,
    key_id: str,
    scheme: str,
    cases: Sequence[Case],
) -> Statement:
    """A statement issued at ``issued_at`` (UTC, whole seconds), valid ``valid_days`` after ``issued_on``.

    ``issued_on`` is the centre's "today" (which tests and replays may fix), the day that expiry
    is counted from and checked against; ``issued_at`` is the moment on the clock.
    """
    if valid_days < 1:
        raise InvalidInput(f"validity of {valid_days} days: a certificate is valid for at least 1 day")
    utc = issued_at.astimezone(dt.UTC).replace(microsecond=0)
    return Statement(
        code=code,
        subject_id=subject_id,
        at=at.isoformat(),
        issued_at=utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        valid_until=(issued_on + dt.timedelta(days=valid_days)).isoformat(),
        key_id=key_id,
        scheme=scheme,
        finding=finding_of(cases),
    )


def canonical_text(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def canonical_bytes(obj: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same statement always signs the same bytes."""
    return canonical_text(obj).encode("utf-8")


def envelope(statement: Statement, signature: bytes) -> dict[str, Any]:
    """The certificate as a file holds it: the statement and its signature (never a public key)."""
    return {
        "certificate": statement.as_dict(),
        "signature": {
            "algorithm": ALGORITHM,
            "key_id": statement.key_id,
            "value": base64.b64encode(signature).decode("ascii"),
        },
    }


@dataclass(frozen=True)
class Envelope:
    """A certificate read back: the statement as the file holds it, its signed bytes, the signature."""

    statement: Statement
    text: str  # the sentence as signed (a later wording of this version may differ)
    signed: bytes
    signature: bytes


def parse_envelope(raw: bytes) -> Envelope:
    """Read a certificate's JSON; anything that is not a well-formed certificate is ``malformed``.

    The signed bytes are recomputed from the *parsed* statement: a file re-indented or with its
    keys reordered still verifies, one with a changed value does not.
    """
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CertificateRefused("malformed", "not a certificate (no JSON statement found)") from None
    if not isinstance(data, dict) or not isinstance(data.get("certificate"), dict):
        raise CertificateRefused("malformed", "not a certificate (no 'certificate' object)")
    body: dict[str, Any] = data["certificate"]
    sig = data.get("signature")
    if (
        not isinstance(sig, dict)
        or sig.get("algorithm") != ALGORITHM
        or not isinstance(sig.get("value"), str)
    ):
        raise CertificateRefused("malformed", f"the certificate carries no {ALGORITHM} signature")
    try:
        signature = base64.b64decode(sig["value"], validate=True)
    except (binascii.Error, ValueError):
        raise CertificateRefused("malformed", "the signature is not base64") from None
    if body.get("format") != FORMAT:
        raise CertificateRefused("malformed", f"format {body.get('format')!r} is not {FORMAT}")
    texts = ("authority", "scheme", "code", "subject_id", "at", "issued_at", "valid_until", "key_id", "text")
    missing = [k for k in texts if not isinstance(body.get(k), str)]
    if missing or not isinstance(body.get("finding"), dict):
        raise CertificateRefused("malformed", "the statement lacks " + ", ".join(missing or ["finding"]))
    try:
        finding = finding_from_dict(body["finding"])
        for k in ("at", "valid_until"):
            dt.date.fromisoformat(body[k])
    except (KeyError, TypeError, ValueError) as exc:
        raise CertificateRefused("malformed", f"the statement does not parse ({exc})") from None
    statement = Statement(
        code=body["code"],
        subject_id=body["subject_id"],
        at=body["at"],
        issued_at=body["issued_at"],
        valid_until=body["valid_until"],
        key_id=body["key_id"],
        scheme=body["scheme"],
        finding=finding,
        authority=body["authority"],
        format=body["format"],
    )
    return Envelope(statement, body["text"], canonical_bytes(body), signature)
