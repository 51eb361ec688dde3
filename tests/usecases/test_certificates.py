"""Certificates of listing status: issue (JSON, PDF; both backends), verify offline, the public check.

Residents of the mini scheme: A is listed since 2025-01-01 (case C1, open), B was listed on
2025-02-01 and resolved on 2025-05-01 (case C2), C has no listing. Today is 2026-06-30.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pypdf
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from guihua.core import statement as cert
from guihua.core.errors import InvalidInput
from guihua.documents import certificate_pdf
from guihua.http.service import create_app
from guihua.kit import signing
from guihua.store import schema
from guihua.store.database import Store
from guihua.usecases import audit, certificates, submissions
from tests.conftest import DATA, TODAY
from tests.helpers import D, jsonl, load, loan, run, subject

A, B, C = subject(1), subject(2), subject(3)


@pytest.fixture
def listed(store: Store, tmp_path: Path, mini_catalog_text: str) -> Store:
    rows = [
        loan(1, A, "2025-01-01", "C1", "list"),
        loan(2, B, "2025-02-01", "C2", "list"),
        loan(3, B, "2025-05-01", "C2", "resolve"),
    ]
    load(store, mini_catalog_text, tmp_path, "BANK", rows)
    return store


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    return tmp_path / "keys"


def trusted(keys: Path) -> signing.Ed25519PublicKey:
    return signing.load_public(keys / signing.PUBLIC_FILE)


def add_records(store: Store, tmp_path: Path, rows: list[dict[str, object]]) -> None:
    result = submissions.ingest_file(
        store, jsonl(tmp_path / f"more-{rows[0]['source_id']}.jsonl", rows), "BANK"
    )
    assert result.rejected == 0


# --------------------------------------------------------------------------- issue and verify


def test_issue_json_and_pdf_and_verify(listed: Store, tmp_path: Path, keys: Path) -> None:
    clean = certificates.issue(listed, C, tmp_path / "c.json", keys)
    on_list = certificates.issue(listed, A, tmp_path / "a.pdf", keys)
    repaired = certificates.issue(listed, B, tmp_path / "b.json", keys, at=D("2025-06-01"), valid_days=30)

    # the key pair was made on first use; the private half is for the owner only
    assert stat.S_IMODE((keys / signing.PRIVATE_FILE).stat().st_mode) == 0o600
    key = trusted(keys)
    assert clean.statement.key_id == signing.key_id(key) == on_list.statement.key_id

    v = certificates.verify_file(tmp_path / "c.json", key)
    assert v.statement.finding.status == "not_listed"
    assert v.text == f"Resident {C} is not on the defaulter list of the Mini scheme on {TODAY}."

    v = certificates.verify_file(tmp_path / "a.pdf", key)
    assert v.statement.finding.status == "listed"
    assert "since 2025-01-01 for case C1 (Bank, Credit reporting regulation Art. 9)" in v.text

    v = certificates.verify_file(tmp_path / "b.json", key)
    assert v.statement.finding.status == "resolved"
    assert v.text.endswith("on 2025-06-01: case C2 (Bank) resolved on 2025-05-01.")
    assert v.statement.valid_until == "2026-07-30"  # 30 days from the day of issue, not from --at

    # stored under its code, with the digest of exactly what was signed; issuing is audited
    with listed.begin() as conn:
        rows = {r.code: r for r in conn.execute(schema.certificates.select())}
    assert set(rows) == {clean.statement.code, on_list.statement.code, repaired.statement.code}
    assert rows[on_list.statement.code].statement_digest == on_list.statement.digest()
    assert rows[on_list.statement.code].subject_id == A
    issued = [e for e in audit.entries(listed) if e["action"] == "certificate.issue"]
    assert sorted(e["subject_id"] for e in issued) == sorted([A, B, C])


def test_pdf_is_readable_and_points_to_the_check(listed: Store, tmp_path: Path, keys: Path) -> None:
    issued = certificates.issue(listed, A, tmp_path / "a.pdf", keys, lang="en")
    code = cert.display_code(issued.statement.code)
    assert issued.url == f"http://127.0.0.1:8000/verify/{code}"  # the check page, for people
    reader = pypdf.PdfReader(tmp_path / "a.pdf")
    text = reader.pages[0].extract_text()
    for words in ("Suzhou Public Credit Centre", "CERTIFICATE OF LISTING STATUS", "ON THE DEFAULTER LIST"):
        assert words in text
    zh = certificates.issue(listed, A, tmp_path / "a-zh.pdf", keys)  # Chinese unless asked otherwise
    zh_text = pypdf.PdfReader(tmp_path / "a-zh.pdf").pages[0].extract_text()
    for words in ("苏州市公共信用信息中心", "信用名单状态证明", "已列入失信名单", zh.url):
        assert words in zh_text
    assert code in text and issued.url in text and issued.statement.key_id in text
    assert list(reader.attachments) == [certificate_pdf.ATTACHMENT]


def test_pdf_qr_code_decodes_to_the_verification_url(listed: Store, tmp_path: Path, keys: Path) -> None:
    """Rendered and scanned as a bank clerk's phone would (Debian's poppler-utils and zbar-tools,
    which `make test` installs when missing)."""
    tools = [t for t in ("pdftoppm", "zbarimg") if shutil.which(t) is None]
    if tools:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{', '.join(tools)} missing: `make test` installs poppler-utils and zbar-tools")
        pytest.skip(f"{', '.join(tools)} not installed (apt-get install poppler-utils zbar-tools)")
    issued = certificates.issue(listed, A, tmp_path / "a.pdf", keys)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", str(tmp_path / "a.pdf"), str(tmp_path / "p")], check=True
    )
    png = next(tmp_path.glob("p*.png"))
    out = subprocess.run(["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True)
    assert out.stdout.strip() == issued.url


def test_public_url_is_configurable(listed: Store, tmp_path: Path, keys: Path, monkeypatch) -> None:
    monkeypatch.setenv("GUIHUA_PUBLIC_URL", "https://credit.suzhou.example/")
    issued = certificates.issue(listed, C, tmp_path / "c.pdf", keys)
    assert issued.url == f"https://credit.suzhou.example/verify/{cert.display_code(issued.statement.code)}"
    assert issued.url in pypdf.PdfReader(tmp_path / "c.pdf").pages[0].extract_text()


def test_issue_refuses_what_it_cannot_certify(sqlite_store: Store, tmp_path: Path, keys: Path) -> None:
    with pytest.raises(InvalidInput, match=r"\.pdf or a \.json"):
        certificates.issue(sqlite_store, C, tmp_path / "c.txt", keys)
    with pytest.raises(InvalidInput, match="not later"):
        certificates.issue(sqlite_store, C, tmp_path / "c.json", keys, at=D("2026-07-01"))
    with pytest.raises(InvalidInput, match="invalid subject id"):
        certificates.issue(sqlite_store, "12345", tmp_path / "c.json", keys)
    with sqlite_store.begin() as conn:
        assert conn.execute(schema.certificates.select()).first() is None


# --------------------------------------------------------------------------- refusals


def refused(path: Path, key: signing.Ed25519PublicKey) -> cert.CertificateRefused:
    with pytest.raises(cert.CertificateRefused) as info:
        certificates.verify_file(path, key)
    return info.value


def test_forged_certificates_are_refused(listed: Store, tmp_path: Path, keys: Path) -> None:
    certificates.issue(listed, C, tmp_path / "real.json", keys)  # makes the centre's key
    forger = tmp_path / "forger-keys"
    certificates.issue(listed, A, tmp_path / "forged.pdf", forger)  # a well-made certificate, other key
    r = refused(tmp_path / "forged.pdf", trusted(keys))
    assert r.kind == "forged" and signing.key_id(trusted(keys)) in r.message

    # naming the centre's key id does not help: the signature is checked with the trusted key only
    data = json.loads((tmp_path / "real.json").read_text())
    data["certificate"]["subject_id"] = A
    own = signing.load_or_create(forger)
    data["signature"]["value"] = base64.b64encode(
        own.sign(cert.canonical_bytes(data["certificate"]))
    ).decode()
    (tmp_path / "claims.json").write_text(json.dumps(data))
    assert refused(tmp_path / "claims.json", trusted(keys)).kind == "altered"


@pytest.mark.parametrize(
    "path,value",
    [
        (("finding", "status"), "not_listed"),  # the status itself
        (("at",), "2025-01-02"),  # the date certified (one character)
        (("valid_until",), "2036-01-01"),  # stretching its validity
        (("text",), "Resident is fine."),  # the readable sentence is signed too
    ],
)
def test_altered_certificates_are_refused(listed: Store, tmp_path: Path, keys: Path, path, value) -> None:
    certificates.issue(listed, A, tmp_path / "a.json", keys)
    data = json.loads((tmp_path / "a.json").read_text())
    node = data["certificate"]
    for k in path[:-1]:
        node = node[k]
    assert node[path[-1]] != value
    node[path[-1]] = value
    (tmp_path / "a.json").write_text(json.dumps(data))
    r = refused(tmp_path / "a.json", trusted(keys))
    assert (r.kind, r.message) == (
        "altered",
        "altered: the statement was changed after it was signed (the signature does not match it)",
    )


def test_one_byte_changed_inside_the_pdf_is_refused(listed: Store, tmp_path: Path, keys: Path) -> None:
    certificates.issue(listed, A, tmp_path / "a.pdf", keys)
    inner = certificate_pdf.embedded_certificate((tmp_path / "a.pdf").read_bytes())
    assert inner is not None and b'"status": "listed"' in inner
    writer = pypdf.PdfWriter()
    writer.add_blank_page(100, 100)
    writer.add_attachment(certificate_pdf.ATTACHMENT, inner.replace(b'"at": "2026', b'"at": "2025'))
    writer.write(tmp_path / "b.pdf")
    assert refused(tmp_path / "b.pdf", trusted(keys)).kind == "altered"


def test_expired_certificates_are_refused(listed: Store, tmp_path: Path, keys: Path, monkeypatch) -> None:
    issued = certificates.issue(listed, C, tmp_path / "c.json", keys, valid_days=10)
    assert issued.statement.valid_until == "2026-07-10"
    monkeypatch.setenv("GUIHUA_TODAY", "2026-07-10")  # the last valid day
    certificates.verify_file(tmp_path / "c.json", trusted(keys))
    monkeypatch.setenv("GUIHUA_TODAY", "2026-07-11")
    r = refused(tmp_path / "c.json", trusted(keys))
    assert r.kind == "expired" and "valid until 2026-07-10" in r.message


def test_garbage_is_refused(sqlite_store: Store, tmp_path: Path, keys: Path) -> None:
    key = signing.load_or_create(keys).public
    cases = {
        "noise.json": (b"\x00\xffnot a certificate", "malformed"),
        "other.json": (b'{"hello": "world"}', "malformed"),
        "unsigned.json": (
            b'{"certificate": {}, "signature": {"algorithm": "RSA", "value": ""}}',
            "malformed",
        ),
        "broken.pdf": (b"%PDF-1.7\n garbage that is no PDF", "unreadable"),
    }
    for name, (content, kind) in cases.items():
        (tmp_path / name).write_bytes(content)
        assert refused(tmp_path / name, key).kind == kind, name
    writer = pypdf.PdfWriter()
    writer.add_blank_page(100, 100)
    writer.write(tmp_path / "plain.pdf")
    assert refused(tmp_path / "plain.pdf", key).kind == "malformed"
    assert refused(tmp_path / "missing.json", key).kind == "unreadable"


# --------------------------------------------------------------------------- the public check


def test_public_check_valid_superseded_expired_unknown(
    listed: Store, tmp_path: Path, keys: Path, monkeypatch
) -> None:
    clean = certificates.issue(listed, C, tmp_path / "c.json", keys, at=D("2026-06-01"))
    on_list = certificates.issue(listed, A, tmp_path / "a.json", keys)
    with TestClient(create_app(listed)) as client:

        def check(code: str) -> dict[str, object]:
            response = client.get(f"/api/v1/certificates/{code}")  # no token: public
            assert response.status_code == 200, response.text
            assert C not in response.text and A not in response.text  # ids masked
            return response.json()

        got = check(cert.display_code(clean.statement.code))
        assert (got["status"], got["subject"], got["at"]) == ("valid", audit.mask(C), "2026-06-01")
        assert got["certified"] == {
            "status": "not_listed",
            "statement": f"Resident {audit.mask(C)} is not on the defaulter list of the Mini scheme on 2026-06-01.",
        }
        assert check(on_list.statement.code.lower())["status"] == "valid"  # typed in lower case, no dashes

        # C is listed after the certificate's date: it still held then, not today
        add_records(listed, tmp_path, [loan(10, C, "2026-06-20", "C9", "list")])
        got = check(clean.statement.code)
        assert (got["status"], got["superseded_on"]) == ("superseded", ["today"])
        assert "listed" not in str(got["detail"])  # the public learns it no longer holds, not why

        # A's case resolved by a late record dated before the certificate's date: wrong then and now
        add_records(listed, tmp_path, [loan(11, A, "2026-06-10", "C1", "resolve")])
        got = check(on_list.statement.code)
        assert (got["status"], got["superseded_on"]) == ("superseded", ["at", "today"])

        response = client.get("/api/v1/certificates/ZZZZ-ZZZZ-ZZZZ")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "certificate_unknown"
        assert client.get("/api/v1/certificates/not-a-code").json()["code"] == "certificate_unknown"

        monkeypatch.setenv("GUIHUA_TODAY", "2026-09-29")  # 90 days after issue: the day after the last
        assert check(clean.statement.code)["status"] == "expired"

    # the resident sees that, and when, the public checked: counted per day, not an entry each
    assert [e for e in audit.entries(listed) if e["action"] == "certificate.check"] == []
    looks = certificates.public_checks(listed, C)
    assert sorted((x["day"], x["outcome"], x["checks"]) for x in looks) == [
        ("2026-06-30", "superseded", 1),
        ("2026-06-30", "valid", 1),
        ("2026-09-29", "expired", 1),
    ]
    with listed.begin() as conn:
        unknown = conn.execute(
            select(schema.certificate_checks.c.checks).where(schema.certificate_checks.c.subject_id == "")
        ).scalar_one()
    assert unknown == 2  # no resident in them


# --------------------------------------------------------------------------- codes and wording (pure)


def test_codes_are_short_typeable_and_forgiving() -> None:
    code = cert.code_from_bytes(bytes(range(8)))
    assert len(code) == 12 and set(code) <= set(cert.CROCKFORD)
    assert cert.code_from_bytes(b"\xff" * 8) == "Z" * 12
    shown = cert.display_code(code)
    assert shown.count("-") == 2
    assert cert.normalise_code(shown.lower()) == code
    assert cert.normalise_code("0O1I-L000-0000") == "001110000000"
    assert cert.normalise_code("ABCU-0000-0000") is None  # U is not a Crockford symbol
    assert cert.normalise_code("ABC") is None


def test_listing_status_wording() -> None:
    listed = cert.Case("C1", "BANK", "Bank", "loan_default", "2025-01-01", None, "Art. 9")
    resolved = cert.Case("C2", "BANK", "Bank", "loan_default", "2024-01-01", "2024-06-01", "Art. 9")
    assert cert.finding_of([]).status == "not_listed"
    assert cert.finding_of([resolved]).status == "resolved"
    assert cert.finding_of([resolved, listed]).status == "listed"
    text = cert.statement_text(cert.finding_of([listed, resolved]), "X", "2025-06-30", "S")
    assert text == (
        "Resident X is on the defaulter list of the S on 2025-06-30: since 2025-01-01 for case C1 "
        "(Bank, Art. 9); case C2 resolved on 2024-06-01."
    )


# --------------------------------------------------------------------------- the command line


def test_cli_issue_and_verify_end_to_end(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    assert run("catalog", "load", str(DATA / "mini.yaml"), db=db).returncode == 0
    rows = jsonl(tmp_path / "bank.jsonl", [loan(1, A, "2025-01-01", "C1", "list")])
    assert run("ingest", str(rows), "--department", "BANK", db=db).returncode == 0
    env = {"GUIHUA_KEY_DIR": ""}  # the default: keys/ beside the SQLite store

    short = run("certificate", A, "--out", str(tmp_path / "a.pdf"), db=db, env=env)
    assert short.returncode == 0, short.stderr
    assert "on the defaulter list" in short.stdout
    assert stat.S_IMODE((tmp_path / "keys" / signing.PRIVATE_FILE).stat().st_mode) == 0o600
    long = run("certificate", "issue", C, "--out", str(tmp_path / "c.json"), "--json", db=db, env=env)
    assert long.returncode == 0, long.stderr
    assert json.loads(long.stdout)["finding"]["status"] == "not_listed"

    ok = run("certificate", "verify", str(tmp_path / "a.pdf"), db=db, env=env)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("valid: certificate ") and "since 2025-01-01 for case C1" in ok.stdout
    pub = str(tmp_path / "keys" / signing.PUBLIC_FILE)
    ok = run("certificate", "verify", str(tmp_path / "c.json"), "--public-key", pub, "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["status"] == "not_listed"

    def refused_line(proc: subprocess.CompletedProcess[str], start: str) -> None:
        assert proc.returncode == 1, (proc.stdout, proc.stderr)
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith(f"not valid: {start}"), proc.stderr

    data = json.loads((tmp_path / "c.json").read_text())
    data["certificate"]["at"] = "2025-06-29"
    (tmp_path / "altered.json").write_text(json.dumps(data))
    refused_line(run("certificate", "verify", str(tmp_path / "altered.json"), "--public-key", pub), "altered")
    refused_line(
        run(
            "certificate",
            "verify",
            str(tmp_path / "c.json"),
            "--public-key",
            pub,
            env={"GUIHUA_TODAY": "2027-01-01"},
        ),
        "expired",
    )
    other = tmp_path / "other"
    other.mkdir()
    assert (
        run(
            "certificate", C, "--out", str(other / "f.json"), db=db, env={"GUIHUA_KEY_DIR": str(other)}
        ).returncode
        == 0
    )
    refused_line(run("certificate", "verify", str(other / "f.json"), "--public-key", pub), "forged")
    (tmp_path / "junk.pdf").write_text("junk")
    refused_line(run("certificate", "verify", str(tmp_path / "junk.pdf"), "--public-key", pub), "malformed")
    as_json = run("certificate", "verify", str(tmp_path / "junk.pdf"), "--public-key", pub, "--json")
    assert as_json.returncode == 1 and json.loads(as_json.stdout)["reason"] == "malformed"

    # errors of use stay exit 2, one line
    no_key = run(
        "certificate", "verify", str(tmp_path / "c.json"), "--public-key", str(tmp_path / "nope.pub")
    )
    assert no_key.returncode == 2 and no_key.stderr.startswith("error: cannot read the trusted public key")
    bad_out = run("certificate", A, "--out", str(tmp_path / "a.txt"), db=db)
    assert bad_out.returncode == 2 and ".pdf or a .json" in bad_out.stderr


def test_key_dir_defaults(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("GUIHUA_KEY_DIR", raising=False)
    assert certificates.key_dir(None, str(tmp_path / "g.db")) == tmp_path.resolve() / "keys"
    assert certificates.key_dir(str(tmp_path / "k"), str(tmp_path / "g.db")) == tmp_path / "k"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert certificates.key_dir(None, "postgresql://u@h/db") == tmp_path / "cfg" / "guihua" / "keys"
    monkeypatch.setenv("GUIHUA_KEY_DIR", str(tmp_path / "env"))
    assert certificates.key_dir(None, "postgresql://u@h/db") == tmp_path / "env"
    assert os.environ["GUIHUA_TODAY"] == TODAY
