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
