"""Ids never whole in the service's answers or its log, as a client or an attacker dresses them.

Problem documents are checked for generated paths and bodies on every kind of endpoint; the log
is the real one of `guihua serve` (a subprocess), read after hostile requests.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guihua.core.ids import check_digit
from guihua.http.service import create_app
from guihua.store.database import open_store
from guihua.usecases import accounts, audit
from tests.helpers import run

DRESS = st.sampled_from(["", "%20", "%09", "%0A", "%C2%A0", "%2520", " ", "+"])
PATHS = [
    "/api/v1/subjects/{id}/score",
    "/api/v1/subjects/{id}/explanation",
    "/api/v1/subjects/{id}/notices",
    "/api/v1/perks/library_long_loan/eligibility/{id}",
    "/api/v1/certificates/{id}",
    "/api/v1/nowhere/{id}",
]


def _id(first17: str, lower: bool) -> str:
    sid = first17 + check_digit(first17)
    return sid.lower() if lower else sid


def _dressed(sid: str, before: str, after: str, encode: bool) -> str:
    return before + (urllib.parse.quote(sid) if encode else sid) + after


def _whole(sid: str, text: str) -> bool:
    decoded = urllib.parse.unquote(urllib.parse.unquote(text))
    return sid.upper() in decoded.upper()


def test_problem_documents_never_echo_an_id(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "g.db"))
    token = accounts.create(store, audit.cli_actor(), "admin", "ops")
    client = TestClient(create_app(store, key_dir=tmp_path / "keys"), raise_server_exceptions=False)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.text("0123456789", min_size=17, max_size=17),
        st.booleans(),
        DRESS,
        DRESS,
        st.booleans(),
        st.sampled_from(PATHS),
        st.booleans(),
    )
    def check(
        first17: str, lower: bool, before: str, after: str, encode: bool, path: str, auth: bool
    ) -> None:
        sid = _id(first17, lower)
        url = path.format(id=_dressed(sid, before, after, encode))
        headers = {"Authorization": f"Bearer {token}"} if auth else {}
        answer = client.get(url + f"?purpose=asked+about+{sid}", headers=headers)
        body = client.post(
            "/api/v1/subjects/" + _dressed(sid, before, after, encode) + "/objections",
            json={"department": sid, "source_id": sid, "reason": f"about {sid}"},
            headers=headers,
        )
        for response in (answer, body):
            assert response.status_code < 500, response.text
            if response.status_code >= 400:
                assert not _whole(sid, response.text), (url, response.text)
            assert token not in response.text

    check()
    store.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_service_log_masks_ids_in_any_dress(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    assert run("init", db=db).returncode == 0
    port = _free_port()
    env = {**os.environ}
    env.pop("GUIHUA_DB", None)
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from guihua.cli.app import main; main()",
            "serve",
            "--port",
            str(port),
            "--db",
            str(db),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    sid = "330106198501136069"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        for dress in ("", "%20", "%09", "%0A", "%C2%A0", "%2520"):
            for form in (sid, sid.lower()[:-1] + "9", urllib.parse.quote(sid)):
                httpx.get(f"http://127.0.0.1:{port}/api/v1/subjects/{dress}{form}/score", timeout=5)
                httpx.get(f"http://127.0.0.1:{port}/api/v1/certificates/{dress}{form}", timeout=5)
                httpx.get(f"http://127.0.0.1:{port}/nowhere?id={dress}{form}", timeout=5)
    finally:
        server.terminate()
        server.wait(10)
        log.close()
    text = (tmp_path / "serve.log").read_text(encoding="utf-8")
    assert "/api/v1/subjects/" in text  # the requests were logged
    assert not _whole(sid, text), text[-2000:]
