"""The access log in pages: however many entries come after a read, it stays within reach."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from guihua.core.policy import Actor
from guihua.http.service import create_app
from guihua.store.database import Store
from guihua.usecases import accounts, audit
from tests.helpers import subject

A = subject(1)


def test_a_desk_read_is_never_pushed_out_of_sight(sqlite_store: Store, tmp_path: Path) -> None:
    audit.record(
        sqlite_store, Actor("desk-9", "service_desk"), "subject.score", subject_id=A, purpose="loan check"
    )
    for _ in range(1_050):  # as many checks of the resident's certificate as a flood would make
        audit.record(sqlite_store, Actor("public", "public"), "certificate.check", subject_id=A)
    token = accounts.create(sqlite_store, audit.cli_actor(), "resident", "a", subject=A)
    seen: list[dict[str, object]] = []
    with TestClient(create_app(sqlite_store, key_dir=tmp_path / "k")) as c:
        page = c.get(
            f"/api/v1/subjects/{A}/access-log?limit=500", headers={"Authorization": f"Bearer {token}"}
        )
        pages = 1
        while True:
            body = page.json()
            seen += body["entries"]
            if body["next"] is None:
                break
            page = c.get(
                f"/api/v1/subjects/{A}/access-log?limit=500&before={body['next']}",
                headers={"Authorization": f"Bearer {token}"},
            )
            pages += 1
    assert pages == 3
    assert any(e["account"] == "desk-9" and e["purpose"] == "loan check" for e in seen)
    assert len(seen) == 1_052  # the desk's read, the checks, and the resident's own first look
    assert len({e["seq"] for e in seen}) == len(seen)  # no entry twice across pages


def test_a_flood_of_public_checks_is_counted_not_logged(sqlite_store: Store, tmp_path: Path) -> None:
    """1,000 anonymous checks of one valid code: the desk's read stays on the first page."""
    from guihua.http.guards import RateLimit
    from guihua.usecases import catalogs, certificates

    catalogs.load_catalog(sqlite_store, (Path(__file__).parents[1] / "data" / "mini.yaml").read_text())
    issued = certificates.issue(sqlite_store, A, tmp_path / "c.json", tmp_path / "k")
    audit.record(
        sqlite_store, Actor("desk-9", "service_desk"), "subject.score", subject_id=A, purpose="loan check"
    )
    token = accounts.create(sqlite_store, audit.cli_actor(), "resident", "a", subject=A)
    app = create_app(sqlite_store, key_dir=tmp_path / "k", rate_limit=RateLimit(rate=1e6, burst=10_000))
    with TestClient(app) as c:
        for _ in range(1_000):
            assert c.get(f"/api/v1/certificates/{issued.statement.code}").status_code == 200
        for i in range(20):
            assert c.get(f"/api/v1/certificates/ZZZZ-ZZZZ-ZZ{i:02d}").status_code == 404
        body = c.get(
            f"/api/v1/subjects/{A}/access-log?limit=5", headers={"Authorization": f"Bearer {token}"}
        ).json()
    assert "desk-9" in [e["account"] for e in body["entries"]]
    assert [(x["outcome"], x["checks"]) for x in body["certificate_checks"]] == [("valid", 1000)]
    assert not [e for e in audit.entries(sqlite_store) if e["action"] == "certificate.check"]
