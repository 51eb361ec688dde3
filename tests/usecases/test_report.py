"""A resident's full report (JSON, HTML, PDF) from the CLI and HTTP, on SQLite and PostgreSQL.

Resident A has: a volunteering record whose organisation is hostile markup and Chinese text,
a traffic offence corrected once (two versions; a penalty notice) and objected to (upheld),
another offence retracted, and a loan default listed then resolved. A service desk read its
score with a purpose. Everything must be in the report, and reading it must be in the log.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from guihua.core.errors import InvalidInput
from guihua.core.policy import Actor
from guihua.documents import report_pdf
from guihua.http.service import create_app
from guihua.store.database import Store
from guihua.usecases import accounts, catalogs, objections, records, reports, scores, submissions
from tests.helpers import assert_one_line_error, jsonl, record, run, subject

A, B = subject(1), subject(2)
HOSTILE = "<script>alert(1)</script>"
ADMIN = Actor("test-admin", "admin")
DESK = Actor("desk-1", "service_desk")
RESIDENT = Actor("resident-a", "resident")
REVIEWER = Actor("reviewer-1", "reviewer")
AT = "2026-06-30"


def _ingest(store: Store, tmp_path: Path, dept: str, name: str, rows: list[dict[str, Any]]) -> None:
    result = submissions.ingest_file(store, jsonl(tmp_path / name, rows), dept)
    assert result.rejected == 0, records.list_rejects(store)


def offence(sid: str, n: int, when: str, fine: int = 200) -> dict[str, Any]:
    return record(
        f"t{n}", sid, "traffic_offence", when, offence="fail_to_yield", fine=fine, paid=True, when_paid=when
    )


@pytest.fixture
def resident(store: Store, tmp_path: Path, mini_catalog_text: str, monkeypatch: pytest.MonkeyPatch) -> Store:
    catalogs.load_catalog(store, mini_catalog_text)
    volunteer = record(
        "v1", A, "volunteer_service", "2026-03-01", hours=12, organisation=f"苏州红十字会 {HOSTILE}"
    )
    _ingest(
        store,
        tmp_path,
        "CIVIL",
        "civil.jsonl",
        [volunteer, record("v2", B, "volunteer_service", "2026-03-01", hours=2, organisation="x")],
    )
    _ingest(
        store,
        tmp_path,
        "TRAFFIC",
        "traffic-1.jsonl",
        [offence(A, 1, "2026-01-05"), offence(A, 2, "2026-02-05")],
    )
    _ingest(
        store, tmp_path, "TRAFFIC", "traffic-2.jsonl", [offence(A, 1, "2026-01-05", fine=150)]
    )  # correction
    records.retract(store, "TRAFFIC", "t2", actor=ADMIN)
    loans = [
        record("l1", A, "loan_default", "2026-01-10", case_id="C-77", action="list", amount=5000.0),
        record("l2", A, "loan_default", "2026-03-01", case_id="C-77", action="resolve", amount=5000.0),
    ]
    _ingest(store, tmp_path, "BANK", "bank.jsonl", loans)
    monkeypatch.setenv("GUIHUA_TODAY", "2026-04-01")
    objections.file(store, A, "TRAFFIC", "t1", "The fine was paid on the spot", actor=RESIDENT)
    monkeypatch.setenv("GUIHUA_TODAY", "2026-04-10")
    objections.decide(store, 1, "uphold", "Camera footage shows the offence", actor=REVIEWER)
    monkeypatch.setenv("GUIHUA_TODAY", AT)
    scores.subject_score(store, A, actor=DESK, purpose="counter enquiry 42")
    return store


def test_the_json_report_holds_everything(resident: Store) -> None:
    r = reports.subject_report(resident, A, actor=ADMIN, purpose="copy for the resident").as_dict()
    json.dumps(r)  # JSON-ready
    assert (r["subject_id"], r["at"], r["scheme"]) == (A, AT, "Mini scheme")
    assert (r["score"], r["defaulter"]) == (scores.subject_score(resident, A).score, False)
    by_key = {(x["department"], x["source_id"]): x for x in r["records"]}
    assert set(by_key) == {
        ("CIVIL", "v1"),
        ("TRAFFIC", "t1"),
        ("TRAFFIC", "t2"),
        ("BANK", "l1"),
        ("BANK", "l2"),
    }
    t1 = by_key[("TRAFFIC", "t1")]
    assert [(v["version"], v["current"], v["fields"]["fine"]) for v in t1["versions"]] == [
        (1, False, 200),
        (2, True, 150),
    ]
    assert all(v["submitted_at"] and v["submission"] for v in t1["versions"])
    assert (
        t1["current"]["rule_id"] == "TRF-YIELD"
        and t1["current"]["rule_legal_basis"] == "Road Traffic Safety Law Art. 47"
    )
    assert t1["department_legal_basis"] == "Road Traffic Safety Law, Art. 2"
    assert by_key[("TRAFFIC", "t2")]["retracted"] and by_key[("TRAFFIC", "t2")]["versions"][0]["retracted_at"]
    assert not t1["retracted"]
    assert by_key[("CIVIL", "v1")]["current"]["fields"]["organisation"].endswith(HOSTILE)
    # adjustments, with the caps that bit: the same items as the explanation
    explained = scores.explain(resident, A).as_dict()["records"]
    assert {(a["source_id"], a["points"], tuple(a["caps_bit"])) for a in r["adjustments"]} == {
        (i["source_id"], i["points"], tuple(i["caps_bit"])) for i in explained if i["rule_id"]
    }
    assert {a["rule_id"] for a in r["adjustments"]} == {"VOL-10H", "TRF-YIELD", "LOAN-LIST"}
    # objection decided: who, when, why
    [o] = r["objections"]
    assert (o["state"], o["filed_by"], o["filed_on"], o["decided_by"], o["decided_on"]) == (
        "upheld",
        "resident-a",
        "2026-04-01",
        "reviewer-1",
        "2026-04-10",
    )
    assert (
        o["reason"] == "The fine was paid on the spot"
        and o["decision_reason"] == "Camera footage shows the offence"
    )
    # notices: the penalty (for each version that penalised), the listing, the repair, the decision
    kinds = [n["kind"] for n in r["notices"]]
    assert {"penalty", "listing", "repair", "decision"} <= set(kinds)
    assert all(n["title"] and n["body"] for n in r["notices"])
    assert all(d["status"] for n in r["notices"] for d in n["deliveries"])
    # the listing, resolved
    [case] = r["listings"]
    assert (case["case_id"], case["listed_on"], case["resolved_on"], case["open"]) == (
        "C-77",
        "2026-01-10",
        "2026-03-01",
        False,
    )
    # who read the data, this report included (newest first)
    log = r["access_log"]
    assert log[0]["action"] == "subject.report" and log[0]["account"] == "test-admin"
    assert log[0]["purpose"] == "copy for the resident"
    assert {
        "account": "desk-1",
        "role": "service_desk",
        "action": "subject.score",
        "purpose": "counter enquiry 42",
    }.items() <= next(e for e in log if e["account"] == "desk-1").items()
    assert not any(e["action"] == "subject.explain" for e in log)  # one read, logged once
    assert all(set(e) == {"at", "account", "role", "action", "purpose", "outcome"} for e in log)


def test_report_at_an_earlier_date(resident: Store) -> None:
    import datetime as dt

    r = reports.subject_report(resident, A, dt.date(2026, 2, 1), actor=ADMIN)
    assert r.at == "2026-02-01" and r.defaulter  # listed on 01-10, resolved on 03-01
    assert [c.open for c in r.listings] == [True]


def test_invalid_subject_and_unknown_extension() -> None:
    with pytest.raises(InvalidInput, match="invalid subject id"):
        reports.subject_report(None, "123")  # type: ignore[arg-type]  # refused before the store is touched
    with pytest.raises(InvalidInput, match=r"\.pdf or a \.html"):
        reports.format_of(Path("out.docx"))


def test_html_escapes_department_fields(resident: Store) -> None:
    page = reports.subject_document(resident, A, "html", actor=ADMIN, lang="en")[1].decode("utf-8")
    assert HOSTILE not in page and "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "苏州红十字会" in page
    for text in (
        A,
        "TRF-YIELD",
        "Road Traffic Safety Law Art. 47",
        "C-77",
        "counter enquiry 42",
        "Camera footage",
    ):
        assert text in page


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def test_pdf_opens_and_reads(resident: Store) -> None:
    data = reports.subject_document(resident, A, "pdf", actor=ADMIN, lang="en")[1]
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    for expected in (
        A,
        "TRF-YIELD",
        "Road Traffic Safety Law Art. 47",
        "C-77",
        "Mini scheme",
        "苏州红十字会",
    ):
        assert expected in text, expected


# --------------------------------------------------------------------------- CLI


def test_cli_writes_pdf_html_and_json(resident: Store, tmp_path: Path) -> None:
    db = resident.engine.url.render_as_string(hide_password=False)
    pdf, html = tmp_path / "r.pdf", tmp_path / "r.html"
    done = run("report", "subject", A, "--out", str(pdf), db=db)  # type: ignore[arg-type]
    assert done.returncode == 0, done.stderr
    assert str(pdf) in done.stdout and A in pdf_text(pdf.read_bytes())
    done = run("report", "subject", A, "--at", "2026-05-01", "--out", str(html), "--lang", "en", db=db)  # type: ignore[arg-type]
    assert done.returncode == 0, done.stderr
    assert 'report date <strong class="nb">2026-05-01</strong>' in html.read_text(encoding="utf-8")
    done = run("report", "subject", A, "--out", str(html), db=db)  # type: ignore[arg-type]
    assert done.returncode == 0, done.stderr
    assert '<html lang="zh-CN">' in html.read_text(encoding="utf-8")  # Chinese unless asked otherwise
    bad = run("report", "subject", A, "--out", str(html), "--lang", "fr", db=db)  # type: ignore[arg-type]
    assert_one_line_error(bad, "--lang", "zh-CN", "en")
    done = run("report", "subject", A, "--json", db=db)  # type: ignore[arg-type]
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["access_log"][0]["action"] == "subject.report"
    bad = run("report", "subject", A, "--out", str(tmp_path / "r.docx"), db=db)  # type: ignore[arg-type]
    assert_one_line_error(bad, ".pdf", ".html")
    assert not (tmp_path / "r.docx").exists()
    bad = run("report", "subject", "123", "--out", str(pdf), db=db)  # type: ignore[arg-type]
    assert_one_line_error(bad, "invalid subject id")
    neither = run("report", "subject", A, db=db)  # type: ignore[arg-type]
    assert_one_line_error(neither, "--out", "--json")


# --------------------------------------------------------------------------- HTTP


@pytest.fixture
def http(resident: Store) -> Iterator[tuple[TestClient, dict[str, str]]]:
    tokens = {
        "resident_a": accounts.create(resident, ADMIN, "resident", "a", subject=A),
        "resident_b": accounts.create(resident, ADMIN, "resident", "b", subject=B),
        "desk": accounts.create(resident, ADMIN, "service_desk", "desk"),
        "auditor": accounts.create(resident, ADMIN, "auditor", "aud"),
        "civil": accounts.create(resident, ADMIN, "department", "civil", department="CIVIL"),
    }
    with TestClient(create_app(resident)) as c:
        yield c, tokens


def _get(c: TestClient, path: str, token: str) -> Any:
    return c.get(path, headers={"Authorization": f"Bearer {token}"})


def test_http_formats(http) -> None:
    c, tokens = http
    base = f"/api/v1/subjects/{A}/report"
    r = _get(c, base, tokens["resident_a"])
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json()["subject_id"] == A and r.json()["objections"][0]["state"] == "upheld"
    r = _get(c, base + "?format=html", tokens["resident_a"])
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    assert "&lt;script&gt;" in r.text and HOSTILE not in r.text
    r = _get(c, base + "?format=pdf&at=2026-05-01", tokens["auditor"])
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == f'attachment; filename="report-{A}-2026-05-01.pdf"'
    assert A in pdf_text(r.content)
    assert _get(c, base + "?format=docx", tokens["auditor"]).status_code == 422


@pytest.mark.parametrize(
    "who,query,status",
    [
        ("resident_b", "", 403),
        ("desk", "", 403),
        ("desk", "?purpose=%20", 403),
        ("desk", "?purpose=printed%20at%20the%20counter", 200),
        ("civil", "", 403),
        ("auditor", "", 200),
    ],
)
def test_http_authorisation(http, who: str, query: str, status: int) -> None:
    c, tokens = http
    r = _get(c, f"/api/v1/subjects/{A}/report{query}", tokens[who])
    assert r.status_code == status, r.text
    if status == 403:
        assert r.headers["content-type"].startswith("application/problem+json")


def test_http_invalid_subject_is_a_problem(http) -> None:
    c, tokens = http
    r = _get(c, "/api/v1/subjects/123/report", tokens["auditor"])
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")


def test_reading_the_report_is_in_the_access_log(http) -> None:
    c, tokens = http
    assert _get(c, f"/api/v1/subjects/{A}/report?format=html", tokens["resident_a"]).status_code == 200
    assert _get(c, f"/api/v1/subjects/{A}/report", tokens["resident_b"]).status_code == 403
    log = _get(c, f"/api/v1/subjects/{A}/access-log", tokens["resident_a"]).json()["entries"]
    reads = [(e["account"], e["action"], e["outcome"]) for e in log if e["action"] == "subject.report"]
    assert ("a", "subject.report", "ok") in reads
    assert ("b", "subject.report", "refused") in reads


def test_pdf_without_an_embeddable_cjk_font_uses_the_cid_font(
    resident: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GUIHUA_PDF_CJK_FONT", str(tmp_path / "no-such-font.ttf"))
    report_pdf.cjk_font.cache_clear()
    try:
        data = reports.subject_document(resident, A, "pdf", actor=ADMIN)[1]
        assert report_pdf.cjk_font() == report_pdf.CID_FONT
    finally:
        report_pdf.cjk_font.cache_clear()
    assert b"STSong-Light" in data and A in pdf_text(data)


def test_long_values_never_break_the_documents(store: Store, tmp_path: Path, mini_catalog_text: str) -> None:
    """Values at the spec's limits (4,000 characters), a 2,000-character reason, a 5,000-character purpose:
    the PDF and the HTML show a beginning and say where the whole is; the JSON holds it all."""
    catalogs.load_catalog(store, mini_catalog_text)
    rows = [
        record("w1", A, "volunteer_service", "2026-03-01", hours=12, organisation="x" * 4000),
        record("w2", A, "volunteer_service", "2026-03-02", hours=2, organisation="桂花 " * 1333),
        record("w3", A, "volunteer_service", "2026-03-03", hours=2, organisation="y" * 3000),
    ]
    _ingest(store, tmp_path, "CIVIL", "long.jsonl", rows)
    objections.file(store, A, "CIVIL", "w1", "z" * 2000, actor=RESIDENT)
    scores.subject_score(store, A, actor=DESK, purpose="p" * 5000)
    report, data = reports.subject_document(store, A, "pdf", lang="en")
    pdf = PdfReader(io.BytesIO(data))
    text = "".join(page.extract_text() for page in pdf.pages)
    assert "the full text is in the report's JSON form" in text.replace("\n", " ")
    html = reports.subject_document(store, A, "html", lang="en")[1].decode("utf-8")
    assert html.count("characters in all") >= 4 and "x" * 4000 not in html
    data = json.loads(json.dumps(report.as_dict()))
    kept = {r["source_id"]: r["current"]["fields"]["organisation"] for r in data["records"]}
    assert kept["w1"] == "x" * 4000  # the JSON form is the resident's complete copy
