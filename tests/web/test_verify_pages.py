"""/verify: the certificate check as a page, valid / superseded / expired / unknown in words,
through the same use case as GET /api/v1/certificates/{code} (and audited as it is)."""

from __future__ import annotations

from pathlib import Path

import pytest

from guihua.core import statement as cert
from guihua.usecases import audit, certificates, submissions
from tests.helpers import D, jsonl, loan
from tests.web.conftest import A, L, N, Portal


def test_the_form_leads_to_the_check(portal: Portal) -> None:
    form = portal.client.get("/verify?lang=en")
    assert form.status_code == 200 and 'action="/verify"' in form.text and 'name="code"' in form.text
    sent = portal.client.get("/verify", params={"code": " abcd-efgh-jkmn "})
    assert (sent.status_code, sent.headers["location"]) == (303, "/verify/abcd-efgh-jkmn")


def test_valid_superseded_expired_and_unknown(
    portal: Portal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = portal.keys
    clean = certificates.issue(portal.store, N, tmp_path / "n.json", keys, at=D("2026-06-01"))
    listed = certificates.issue(portal.store, L, tmp_path / "l.json", keys)
    c = portal.client

    page = c.get(f"/verify/{cert.display_code(clean.statement.code)}?lang=en")
    assert page.status_code == 200
    assert "This certificate holds" in page.text
    assert "not on the defaulter list on 2026-06-01" in page.text
    assert N not in page.text and audit.mask(N) in page.text  # the id masked, as the API does
    typed = c.get(f"/verify/{clean.statement.code.lower()}?lang=zh-CN")  # lower case, no dashes
    assert typed.status_code == 200 and "该信用证明有效" in typed.text

    on_list = c.get(f"/verify/{listed.statement.code}?lang=en")
    assert "This certificate holds" in on_list.text and "on the defaulter list on 2026-06-30" in on_list.text

    # N is listed after the certificate's date: it no longer holds
    rows = [loan(10, N, "2026-06-20", "C9", "list")]
    assert submissions.ingest_file(portal.store, jsonl(tmp_path / "late.jsonl", rows), "BANK").rejected == 0
    superseded = c.get(f"/verify/{clean.statement.code}?lang=en")
    assert "This certificate no longer holds" in superseded.text
    assert "Ask the person for a new certificate" in superseded.text

    unknown = c.get("/verify/ZZZZ-ZZZZ-ZZZZ?lang=en")
    assert unknown.status_code == 404 and "No certificate has this code" in unknown.text
    garbage = c.get("/verify/%3Cimg%20src%3Dx%3E?lang=en")
    assert garbage.status_code == 404 and "No certificate has this code" in garbage.text
    assert "<img src=x>" not in garbage.text and "&lt;img src=x&gt;" in garbage.text  # escaped, never run

    monkeypatch.setenv("GUIHUA_TODAY", "2026-09-29")  # past the 90 days
    expired = c.get(f"/verify/{listed.statement.code}?lang=en")
    assert "This certificate has expired" in expired.text and listed.statement.valid_until in expired.text

    # anonymous checks are counted per day for the resident, not an audit entry each (issue 16)
    looks = {(x["outcome"], x["checks"]) for x in certificates.public_checks(portal.store, N)}
    assert looks == {("valid", 2), ("superseded", 1)}
    assert not [e for e in audit.entries(portal.store) if e["action"] == "certificate.check"]
    assert certificates.public_checks(portal.store, A) == []


def test_verify_is_rate_limited_like_the_api(portal_store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from guihua.http.guards import RateLimit
    from guihua.http.service import create_app

    app = create_app(portal_store, key_dir=tmp_path / "keys", rate_limit=RateLimit(rate=0.001, burst=2))
    with TestClient(app) as c:
        assert [c.get("/verify/ZZZZ-ZZZZ-ZZZZ").status_code for _ in range(3)] == [404, 404, 429]
