"""Security headers on every answer, no CORS, HSTS only over TLS; public endpoints rate-limited."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from guihua.http.guards import RateLimit
from guihua.http.service import create_app
from guihua.store.database import Store


def test_every_answer_carries_the_security_headers(sqlite_store: Store, tmp_path: Path) -> None:
    with TestClient(create_app(sqlite_store, key_dir=tmp_path / "k")) as c:
        for path in ("/api/v1/health", "/api/v1/nowhere", "/api/v1/subjects/330106198501136069/score"):
            r = c.get(path, headers={"Origin": "https://evil.example"})
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["referrer-policy"] == "no-referrer"
            assert "strict-transport-security" not in r.headers  # plain HTTP: HSTS would be a lie
            assert not any(h.startswith("access-control-") for h in r.headers)
        pre = c.options(
            "/api/v1/health",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert "access-control-allow-origin" not in pre.headers
    with TestClient(create_app(sqlite_store, key_dir=tmp_path / "k"), base_url="https://guihua.example") as c:
        assert c.get("/api/v1/health").headers["strict-transport-security"].startswith("max-age=")


def test_a_flood_of_public_requests_is_slowed_down(sqlite_store: Store, tmp_path: Path) -> None:
    app = create_app(sqlite_store, key_dir=tmp_path / "k", rate_limit=RateLimit(rate=1.0, burst=5))
    with TestClient(app) as c:
        codes = [c.get(f"/api/v1/certificates/ABCD-EFGH-JK{i:02d}").status_code for i in range(12)]
        assert codes[:5] == [404] * 5
        assert set(codes[5:]) == {429}
        limited = c.get("/api/v1/certificates/ABCD-EFGH-JKMN")
        assert limited.json()["code"] == "rate_limited" and int(limited.headers["retry-after"]) >= 1
        assert c.get("/api/v1/health").status_code == 200  # health is for monitors: not limited
    with sqlite_store.begin() as conn:
        from sqlalchemy import text

        checks = conn.execute(text("SELECT sum(checks) FROM certificate_checks")).scalar()
        entries = conn.execute(
            text("SELECT count(*) FROM audit_log WHERE action = 'certificate.check'")
        ).scalar()
    assert (checks, entries) == (5, 0)  # refused requests never reach a route; the others are counted


def test_the_report_page_may_style_itself_but_never_run_a_script() -> None:
    """The HTML report carries its styles inside it (it is also saved as a file): its answer's
    policy allows inline styles and nothing else; every other answer keeps the strict one."""
    from guihua.http.guards import content_security_policy

    report = content_security_policy("/api/v1/subjects/110105194912310012/report").decode()
    assert "style-src 'unsafe-inline'" in report and "script-src" not in report
    assert "default-src 'none'" in report  # so no script runs, from anywhere
    for path in ("/", "/me", "/api/v1/subjects/110105194912310012/score", "/api/v1/subjects/x/report/y"):
        strict = content_security_policy(path).decode()
        assert "unsafe-inline" not in strict and "script-src 'self'" in strict
