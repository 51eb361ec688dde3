"""The service's checkpoints: anyone may fetch one, and the service keeps them on a schedule."""

from __future__ import annotations

import json
import time
from pathlib import Path

from fastapi.testclient import TestClient

from guihua.http.service import create_app
from guihua.kit import signing
from guihua.store.database import Store
from guihua.usecases import audit, checkpoints
from tests.helpers import subject


def test_anyone_fetches_a_checkpoint_that_verifies(sqlite_store: Store, tmp_path: Path) -> None:
    audit.record(sqlite_store, audit.cli_actor(), "subject.score", subject_id=subject(1))
    with TestClient(create_app(sqlite_store, key_dir=tmp_path / "keys")) as c:
        got = c.get("/api/v1/audit/checkpoint")
    assert got.status_code == 200
    body = got.json()
    assert body["entries"] == 1 and subject(1) not in json.dumps(body)
    copy = tmp_path / "copy.json"
    copy.write_text(json.dumps(body), encoding="utf-8")
    trusted = signing.load_public(tmp_path / "keys" / signing.PUBLIC_FILE)
    assert checkpoints.verify_against(sqlite_store, checkpoints.read(copy), trusted).holds


def test_the_service_keeps_checkpoints_outside_the_store(sqlite_store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "checkpoints"
    app = create_app(sqlite_store, key_dir=tmp_path / "keys", checkpoint_dir=folder, checkpoint_every=0.2)
    with TestClient(app):
        deadline = time.monotonic() + 10
        while len(list(folder.glob("checkpoint-*.json"))) < 2 and time.monotonic() < deadline:
            audit.record(sqlite_store, audit.cli_actor(), "subject.score", subject_id=subject(2))
            time.sleep(0.1)
    kept = sorted(folder.glob("checkpoint-*.json"))
    assert len(kept) >= 2 and (folder / "latest.json").exists()
    trusted = signing.load_public(tmp_path / "keys" / signing.PUBLIC_FILE)
    for path in kept:
        assert checkpoints.verify_against(sqlite_store, checkpoints.read(path), trusted).holds
