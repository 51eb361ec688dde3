"""What a resident reads, in zh-CN and English: every notice kind, the report (HTML, PDF) and the
certificate name the metric and the rule in words, say why points were given or taken, say how
to object on the portal or at the counter, and never show an API path or a bare rule code.

Resident A of the default scheme: an unpaid traffic fine (a penalty, objected to and upheld: a
decision), and a court judgment not carried out (a listing), later resolved (a repair).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdf
import pytest
from fastapi.testclient import TestClient

from guihua.core.catalog import Catalog
from guihua.core.languages import LANGUAGES, Language
from guihua.core.policy import Actor
from guihua.core.statement import display_code
from guihua.http.service import create_app
from guihua.kit import signing
from guihua.schemes import default_catalog_text, load_default_catalog
from guihua.store.database import Store
from guihua.usecases import accounts, catalogs, certificates, notices, objections, reports, submissions
from tests.conftest import DATA
from tests.helpers import jsonl, record, subject

A = subject(1)
PUBLIC = "https://credit.suzhou.example"
PORTAL = f"{PUBLIC}/me"
COUNTER = {"zh-CN": "服务中心窗口", "en": "service centre counter"}
RULE_IDS = ("TRF-UNPAID", "JUDG-LIST")


def flat(text: str) -> str:
    """Text without whitespace: PDF extraction breaks lines wherever the page did."""
    return re.sub(r"\s+", "", text)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def ingest(store: Store, folder: Path, department: str, name: str, rows: list[dict[str, object]]) -> None:
    result = submissions.ingest_file(store, jsonl(folder / name, rows), department)
    assert result.rejected == 0


@pytest.fixture
def resident(sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("GUIHUA_PUBLIC_URL", PUBLIC + "/")
    store = sqlite_store
    catalogs.load_catalog(store, default_catalog_text())
    monkeypatch.setenv("GUIHUA_TODAY", "2026-01-10")
    fine = record("T1", A, "traffic_offence", "2026-01-05", offence="speeding", fine=200.0, paid=False)
    ingest(store, tmp_path, "TRAFFIC", "t.jsonl", [fine])
    listed = record("C1", A, "unfulfilled_judgment", "2026-01-08", case_id="K-1", action="list", amount=5e3)
    ingest(store, tmp_path, "COURT", "c1.jsonl", [listed])
    monkeypatch.setenv("GUIHUA_TODAY", "2026-02-01")
    objections.file(store, A, "TRAFFIC", "T1", "not my car", actor=Actor("a", "resident"))
    monkeypatch.setenv("GUIHUA_TODAY", "2026-02-10")
    objections.decide(store, 1, "uphold", "camera footage", actor=Actor("rv", "reviewer"))
    monkeypatch.setenv("GUIHUA_TODAY", "2026-03-01")
    resolved = record(
        "C2", A, "unfulfilled_judgment", "2026-03-01", case_id="K-1", action="resolve", amount=5e3
    )
    ingest(store, tmp_path, "COURT", "c2.jsonl", [resolved])
    monkeypatch.setenv("GUIHUA_TODAY", "2026-06-30")
    return store


def words_of(catalog: Catalog, lang: Language) -> dict[str, str]:
    """The catalog's words the documents must use, in ``lang``."""
    rule, listing = catalog.rule_by_id["TRF-UNPAID"], catalog.rule_by_id["JUDG-LIST"]
    metric, judgment = (
        catalog.metric_by_code["traffic_offence"],
        catalog.metric_by_code["unfulfilled_judgment"],
    )
    return {
        "rule": rule.text("name", lang),
        "why": rule.text("why", lang),
        "metric": metric.text("name", lang),
        "listing rule": listing.text("name", lang),
        "listing why": listing.text("why", lang),
        "listing metric": judgment.text("name", lang),
    }


def assert_speaks_to_a_resident(text: str, lang: Language) -> None:
    assert "/api/" not in text
    assert PORTAL in text and COUNTER[lang] in text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_notice_kind_in_words(resident: Store, lang: Language) -> None:
    found = {n["kind"]: n for n in notices.notices_of(resident, A, lang)}
    assert set(found) == {"penalty", "listing", "repair", "decision"}
    w = words_of(load_default_catalog(), lang)
    for kind, notice in found.items():
        text = f"{notice['title']}\n{notice['body']}"
        assert notice["lang"] == lang
        assert_speaks_to_a_resident(text, lang)
        assert not any(rule_id in text for rule_id in RULE_IDS), (kind, text)  # words, not codes
    penalty, listing = found["penalty"]["body"], found["listing"]["body"]
    for expected in (w["rule"], w["why"], w["metric"]):
        assert expected in penalty
    for expected in (w["listing rule"], w["listing why"], w["listing metric"]):
        assert expected in listing
    for expected in (w["listing rule"], w["listing metric"]):  # the case resolved, named as listed
        assert expected in found["repair"]["body"]
    for expected in (w["rule"], w["metric"]):  # the record objected to
        assert expected in found["decision"]["body"]
    assert "2026-01-25" in found["penalty"]["title"]  # the day it counts from (15 notice days)
    if lang == "zh-CN":
        assert "扣3分" in found["penalty"]["title"] and "苏州市公安局交通警察支队" in penalty
    else:
        assert found["penalty"]["title"] == "Penalty of 3 points from 2026-01-25: Road traffic offence"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_html_report_reads_on_a_phone_in_words(resident: Store, lang: Language) -> None:
    page = reports.subject_document(resident, A, "html", lang=lang)[1].decode("utf-8")
    assert f'<html lang="{lang}">' in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "overflow-wrap: break-word" in page and "hyphens: manual" in page
    assert "overflow-wrap: anywhere" not in page  # it would cut words in table cells
    assert '<span class="nb">2026-01-25</span>' in page  # a date never breaks at its hyphens
    assert_speaks_to_a_resident(page, lang)
    for expected in words_of(load_default_catalog(), lang).values():
        assert expected.replace("“", "") in page.replace("“", "")
    # a rule's id is there for the counter, never on its own: its name comes first
    for rule_id in RULE_IDS:
        for at in [m.start() for m in re.finditer(re.escape(rule_id), page)]:
            assert "”" in page[max(0, at - 80) : at], page[at - 80 : at + 20]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_pdf_report_in_words(resident: Store, lang: Language) -> None:
    text = flat(pdf_text(reports.subject_document(resident, A, "pdf", lang=lang)[1]))
    assert "/api/" not in text and flat(PORTAL) in text and flat(COUNTER[lang]) in text
    for expected in words_of(load_default_catalog(), lang).values():
        assert flat(expected) in text, expected
    assert (flat("居民信用信息报告") if lang == "zh-CN" else flat("Report on a resident's data")) in text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_certificate_in_words_points_to_the_check_page(
    resident: Store, tmp_path: Path, lang: Language, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUIHUA_TODAY", "2026-02-15")  # still listed: the case is on the page
    issued = certificates.issue(resident, A, tmp_path / "c.pdf", tmp_path / "keys", lang=lang)
    code = display_code(issued.statement.code)
    assert issued.url == f"{PUBLIC}/verify/{code}"
    text = flat(pdf_text((tmp_path / "c.pdf").read_bytes()))
    assert flat(issued.url) in text and "/api/" not in text
    assert flat(PORTAL) in text and flat(COUNTER[lang]) in text  # how to object to a listing
    w = words_of(load_default_catalog(), lang)
    for expected in (w["listing rule"], w["listing why"], w["listing metric"]):
        assert flat(expected) in text, expected
    assert flat("已列入失信名单" if lang == "zh-CN" else "ON THE DEFAULTER LIST") in text
    offline = certificates.verify_file(
        tmp_path / "c.pdf", signing.load_public(tmp_path / "keys" / signing.PUBLIC_FILE)
    )
    assert offline.as_dict()["check_online"] == issued.url


def test_a_catalog_without_words_still_reads(sqlite_store: Store, tmp_path: Path) -> None:
    """The mini catalog predates words: rules are called after their metric, and ``why`` says what
    was recorded; nothing fails and no code stands alone."""
    catalogs.load_catalog(sqlite_store, (DATA / "mini.yaml").read_text())
    fine = record(
        "t1",
        A,
        "traffic_offence",
        "2026-06-01",
        offence="fail_to_yield",
        fine=200,
        paid=True,
        when_paid="2026-06-01",
    )
    ingest(sqlite_store, tmp_path, "TRAFFIC", "t.jsonl", [fine])
    [penalty] = notices.notices_of(sqlite_store, A, "en")
    assert "Under the rule “Traffic offence”" in penalty["body"]
    assert "Traffic police recorded “Traffic offence” on 2026-06-01, and the scheme's rule" in penalty["body"]
    assert "TRF-YIELD" not in penalty["body"]
    for lang in LANGUAGES:
        page = reports.subject_document(sqlite_store, A, "html", lang=lang)[1].decode("utf-8")
        assert '“Traffic offence” <span class="nb">(' in page


# --------------------------------------------------------------------------- over HTTP


@pytest.fixture
def client(resident: Store) -> Iterator[tuple[TestClient, dict[str, str]]]:
    admin = Actor("admin", "admin")
    token = accounts.create(resident, admin, "resident", "a", subject=A)
    with TestClient(create_app(resident)) as c:
        yield c, {"Authorization": f"Bearer {token}"}


def test_http_documents_take_a_language(client: tuple[TestClient, dict[str, str]]) -> None:
    c, auth = client
    base = f"/api/v1/subjects/{A}"
    zh = c.get(f"{base}/report?format=html", headers=auth)
    assert (
        zh.status_code == 200
        and '<html lang="zh-CN">' in zh.text
        and zh.headers["content-language"] == "zh-CN"
    )
    en = c.get(f"{base}/report?format=html&lang=en", headers=auth)
    assert '<html lang="en">' in en.text and en.headers["content-language"] == "en"
    pdf = c.get(f"{base}/report?format=pdf&lang=en", headers=auth)
    assert "Traffic fine left unpaid" in pdf_text(pdf.content)
    bad = c.get(f"{base}/report?format=html&lang=fr", headers=auth)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_input"
    # the contact's language is what notices are in, unless the reader asks for another
    assert c.get(f"{base}/notices", headers=auth).json()["notices"][0]["lang"] == "zh-CN"
    put = c.put(f"{base}/contact", json={"email": "a@example.org", "lang": "en"}, headers=auth)
    assert put.status_code == 200 and put.json()["lang"] == "en"
    told = c.get(f"{base}/notices", headers=auth).json()["notices"]
    assert {n["lang"] for n in told} == {"en"} and "/api/" not in "".join(n["body"] for n in told)
    assert c.get(f"{base}/notices?lang=zh-CN", headers=auth).json()["notices"][0]["lang"] == "zh-CN"
    assert (
        c.put(f"{base}/contact", json={"email": "a@example.org", "lang": "xx"}, headers=auth).status_code
        == 422
    )


# --------------------------------------------------------------------------- on a phone, in a browser


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_html_report_fits_a_phone_screen(
    resident: Store, tmp_path: Path, lang: Language, browser: Any
) -> None:
    """Rendered by Debian's Chromium at 390 and 1280 px: nothing is wider than the screen."""
    page_file = tmp_path / "report.html"
    page_file.write_bytes(reports.subject_document(resident, A, "html", lang=lang)[1])
    for width in (390, 1280):
        page = browser.new_page(viewport={"width": width, "height": 800})
        page.goto(page_file.as_uri())
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        wider = page.evaluate(
            "() => [...document.querySelectorAll('body *')]"
            ".filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).length"
        )
        assert wider == 0, (lang, width)
        page.close()
