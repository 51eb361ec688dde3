"""The notice outbox against real receivers on 127.0.0.1: an SMTP server (aiosmtpd) and an HTTP server.

What must hold: every notice reaches every configured channel; a receiver that is down
costs attempts and back-off, never a notice; a delivery killed half-way and restarted
leaves a receiver that deduplicates by notice id with every notice exactly once.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from guihua.core.errors import InvalidInput
from guihua.core.policy import Actor
from guihua.delivery.channels import EmailChannel, WebhookChannel, check_webhook_url, parse_smtp
from guihua.documents.notice_text import compose
from guihua.store import schema
from guihua.store.database import Store
from guihua.usecases import audit, catalogs, contacts
from guihua.usecases.notices import subject_notices
from guihua.usecases.outbox import backoff, deliver_due
from tests.conftest import TODAY, _empty_pg
from tests.helpers import Mailbox, assert_one_line_error, free_port, load, offence, run, subject

A, B = subject(1), subject(2)
CLERK = Actor("clerk-7", "service_desk")


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.controller.start()
    yield box
    box.controller.stop()


class Receiver:
    """A webhook receiver that deduplicates by notice id and counts raw receipts."""

    def __init__(self, port: int, delay: float = 0.0, status: int = 200) -> None:
        self.port, self.delay, self.status = port, delay, status
        self.raw: list[int] = []
        self.unique: dict[int, dict[str, Any]] = {}
        self.keys: list[str] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver.lock:
                    receiver.raw.append(body["notice_id"])
                    receiver.keys.append(self.headers.get("Idempotency-Key", ""))
                    if receiver.status < 300:
                        receiver.unique.setdefault(body["notice_id"], body)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/notices"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def states(store: Store) -> list[tuple[int, str, str, int]]:
    d = schema.deliveries
    with store.begin() as conn:
        rows = conn.execute(select(d.c.notice_id, d.c.channel, d.c.status, d.c.attempts).order_by(d.c.id))
        return [tuple(r) for r in rows]  # type: ignore[misc]


def notice_ids(store: Store) -> list[int]:
    with store.begin() as conn:
        return [r.id for r in conn.execute(select(schema.notices.c.id).order_by(schema.notices.c.id))]


def as_utc(value: Any) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# --------------------------------------------------------------------------- e-mail


def test_email_to_residents_with_an_address_and_later_to_those_given_one(
    store: Store, tmp_path: Path, mini_catalog_text: str, mailbox: Mailbox
) -> None:
    load(
        store,
        mini_catalog_text,
        tmp_path,
        "TRAFFIC",
        [offence(1, A, "2026-01-05"), offence(2, B, "2026-01-05")],
    )
    contacts.set_email(store, A, "resident.a@example.org", CLERK, lang="en")  # A reads English
    channel = EmailChannel("127.0.0.1", mailbox.port, "notices@city.example")

    run1 = deliver_due(store, [channel])
    assert (run1.sent, run1.failed, run1.no_address, run1.pending) == (1, 0, 1, 0)
    assert len(mailbox.messages) == 1
    msg = mailbox.messages[0]
    columns, source = schema.notice_columns()
    with store.begin() as conn:
        notice_a = (
            conn.execute(select(*columns).select_from(source).where(schema.notices.c.subject_id == A))
            .mappings()
            .one()
        )
        text = compose(dict(notice_a), catalogs.active_catalog(conn).catalog, "en")
    assert msg["To"] == "resident.a@example.org"
    assert msg["From"] == "notices@city.example"
    assert msg["Content-Language"] == "en"
    assert msg["Subject"] == text.title == "Penalty of 3 points from 2026-01-12: Traffic offence"
    assert msg["Message-ID"] == f"<notice-{notice_a['id']}@guihua.local>"
    assert msg["X-Guihua-Notice-Id"] == str(notice_a["id"])
    assert msg.get_content().strip() == text.body  # type: ignore[attr-defined]
    assert "lowers your score by 3 points" in text.body

    # B has no address: nothing sent, nothing lost; given one, it is delivered on the next run
    assert ("email", "no_address") in [
        (d["channel"], d["status"]) for n in subject_notices(store, B) for d in n["deliveries"]
    ]
    assert deliver_due(store, [channel]).sent == 0
    given = contacts.set_email(store, B, "  b@example.org ", CLERK)
    assert (given.email, given.requeued) == ("b@example.org", 1)
    run2 = deliver_due(store, [channel])
    assert (run2.sent, run2.no_address, run2.pending) == (1, 0, 0)
    assert [m["To"] for m in mailbox.messages] == ["resident.a@example.org", "b@example.org"]
    # B gave no language: its e-mail is in Chinese, the default
    to_b = mailbox.messages[1]
    assert to_b["Content-Language"] == "zh-CN"
    assert to_b["Subject"] == "自2026-01-12起扣3分：Traffic offence"
    assert "您的分数扣减3分" in to_b.get_content()  # type: ignore[attr-defined]
    assert deliver_due(store, [channel]).sent == 0  # delivered means delivered: never sent again
    assert [s[2:] for s in states(store)] == [("delivered", 1), ("delivered", 1)]
    [notice_b] = subject_notices(store, B)
    assert notice_b["deliveries"][0]["status"] == "delivered"
    # the change is audited, the address masked
    entries = [e for e in audit.entries(store) if e["action"] == "contact.set"]
    assert [(e["subject_id"], e["account"], e["detail"]) for e in entries] == [
        (B, "clerk-7", "email b***@example.org; 1 requeued"),
        (A, "clerk-7", "email r***@example.org; language en; 0 requeued"),
    ]


def test_smtp_server_down_is_retried_and_nothing_lost(
    store: Store, tmp_path: Path, mini_catalog_text: str
) -> None:
    load(store, mini_catalog_text, tmp_path, "TRAFFIC", [offence(1, A, "2026-01-05")])
    contacts.set_email(store, A, "a@example.org", CLERK)
    box = Mailbox()  # not started yet
    channel = EmailChannel("127.0.0.1", box.port, "notices@city.example", timeout=2)
    down = deliver_due(store, [channel])
    assert (down.sent, down.failed, down.pending) == (0, 1, 1)
    assert "SMTP 127.0.0.1" in down.errors[0]
    box.controller.start()
    try:
        up = deliver_due(store, [channel], at=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))
    finally:
        box.controller.stop()
    assert (up.sent, up.pending) == (1, 0)
    assert len(box.messages) == 1
    assert states(store)[0][2:] == ("delivered", 2)


# --------------------------------------------------------------------------- webhook


def test_webhook_down_backs_off_then_delivers_each_notice_once(
    store: Store, tmp_path: Path, mini_catalog_text: str
) -> None:
    load(
        store,
        mini_catalog_text,
        tmp_path,
        "TRAFFIC",
        [offence(i, subject(i), "2026-01-05") for i in range(1, 4)],
    )
    port = free_port()
    channel = WebhookChannel(f"http://127.0.0.1:{port}/notices", timeout=2)
    t0 = dt.datetime.now(dt.UTC)

    down = deliver_due(store, [channel])  # nobody listens on the port
    assert (down.sent, down.failed, down.pending) == (0, 3, 3)
    assert "ConnectError" in down.errors[0]
    d = schema.deliveries
    with store.begin() as conn:
        rows = conn.execute(select(d).order_by(d.c.id)).mappings().all()
    for row in rows:
        assert (row["status"], row["attempts"]) == ("pending", 1)
        wait = as_utc(row["next_attempt_at"]) - t0
        assert dt.timedelta(seconds=29) < wait < dt.timedelta(seconds=60)  # 30 s after the first failure
        assert "ConnectError" in row["last_error"]
    assert deliver_due(store, [channel]).failed == 0  # not due yet: no attempt before the back-off ends
    later = deliver_due(store, [channel], at=t0 + dt.timedelta(seconds=45))  # due again, still down
    assert later.failed == 3
    with store.begin() as conn:
        row = conn.execute(select(d).order_by(d.c.id)).mappings().first()
    assert row is not None and row["attempts"] == 2
    assert dt.timedelta(seconds=59) < as_utc(row["next_attempt_at"]) - t0 < dt.timedelta(seconds=90)  # 60 s

    with Receiver(port) as receiver:
        up = deliver_due(store, [channel], at=t0 + dt.timedelta(hours=2))
        again = deliver_due(store, [channel], at=t0 + dt.timedelta(hours=3))
    channel.close()
    assert (up.sent, up.failed, up.pending) == (3, 0, 0)
    assert again.sent == 0
    ids = notice_ids(store)
    assert sorted(receiver.raw) == ids and sorted(receiver.unique) == ids
    assert sorted(receiver.keys) == sorted(f"notice-{i}" for i in ids)
    body = receiver.unique[ids[0]]
    assert set(body) == {
        "notice_id",
        "kind",
        "subject_id",
        "title",
        "body",
        "department",
        "source_id",
        "effective_on",
        "created_at",
        "lang",
    }
    assert (
        body["kind"],
        body["subject_id"],
        body["department"],
        body["source_id"],
        body["effective_on"],
    ) == (
        "penalty",
        subject(1),
        "TRAFFIC",
        "t1",
        "2026-01-12",
    )
    assert body["lang"] == "zh-CN"  # no contact, no language asked for: the default
    assert body["title"] == "自2026-01-12起扣3分：Traffic offence"
    assert dt.datetime.fromisoformat(body["created_at"]).tzinfo is not None
    assert [s[2:] for s in states(store)] == [("delivered", 3)] * 3


def test_a_refusing_receiver_is_retried_not_dropped(
    store: Store, tmp_path: Path, mini_catalog_text: str
) -> None:
    load(store, mini_catalog_text, tmp_path, "TRAFFIC", [offence(1, A, "2026-01-05")])
    port = free_port()
    channel = WebhookChannel(f"http://127.0.0.1:{port}/notices", timeout=2)
    with Receiver(port, status=400) as refusing:
        run1 = deliver_due(store, [channel])
    assert (run1.failed, run1.pending) == (1, 1)
    assert "HTTP 400" in run1.errors[0]
    assert len(refusing.raw) == 1 and not refusing.unique
    with Receiver(port) as fixed:
        run2 = deliver_due(store, [channel], at=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5))
    channel.close()
    assert (run2.sent, run2.pending) == (1, 0)
    assert list(fixed.unique) == notice_ids(store)


def test_backoff_doubles_from_30_seconds_up_to_an_hour() -> None:
    got = [backoff(n).total_seconds() for n in (1, 2, 3, 4, 7, 8, 50)]
    assert got == [30, 60, 120, 240, 1920, 3600, 3600]


def test_both_channels_and_the_limit(
    store: Store, tmp_path: Path, mini_catalog_text: str, mailbox: Mailbox
) -> None:
    load(store, mini_catalog_text, tmp_path, "TRAFFIC", [offence(i, A, f"2026-01-0{i}") for i in range(1, 5)])
    contacts.set_email(store, A, "a@example.org", CLERK)
    port = free_port()
    channels = [
        EmailChannel("127.0.0.1", mailbox.port, "n@city.example"),
        WebhookChannel(f"http://127.0.0.1:{port}/"),
    ]
    with Receiver(port) as receiver:
        first = deliver_due(store, channels, limit=3)
        assert (first.sent, first.pending) == (3, 5)
        rest = deliver_due(store, channels)
    assert (rest.sent, rest.pending, rest.channels["email"]["sent"], rest.channels["webhook"]["sent"]) == (
        5,
        0,
        2,
        3,
    )
    assert (
        sorted(receiver.unique)
        == notice_ids(store)
        == sorted(int(m["X-Guihua-Notice-Id"]) for m in mailbox.messages)
    )


def test_two_workers_on_postgresql_never_send_a_row_twice(
    pg_url: str, tmp_path: Path, mini_catalog_text: str
) -> None:
    store = _empty_pg(pg_url)
    load(
        store,
        mini_catalog_text,
        tmp_path,
        "TRAFFIC",
        [offence(i, subject(i), "2026-01-05") for i in range(1, 21)],
    )
    port = free_port()
    with Receiver(port, delay=0.02) as receiver:
        runs: list[Any] = []
        workers = [
            threading.Thread(target=lambda: runs.append(deliver_due(store, [WebhookChannel(receiver.url)])))
            for _ in range(2)
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=60)
    store.dispose()
    assert sum(r.sent for r in runs) == 20
    assert sorted(receiver.raw) == sorted(receiver.unique) == list(range(1, 21))  # no row sent twice


# --------------------------------------------------------------------------- crash and restart


def test_killed_midway_and_restarted_every_notice_arrives_exactly_once(
    tmp_path: Path, mini_catalog_text: str
) -> None:
    from guihua.store.database import open_store

    db = tmp_path / "kill.db"
    store = open_store(str(db))
    total = 50
    load(
        store,
        mini_catalog_text,
        tmp_path,
        "TRAFFIC",
        [offence(i, subject(i), "2026-01-05") for i in range(1, total + 1)],
    )
    ids = notice_ids(store)
    assert len(ids) == total
    port = free_port()
    env = {**os.environ, "GUIHUA_TODAY": TODAY}
    env.pop("GUIHUA_WEBHOOK_URL", None)
    env.pop("GUIHUA_SMTP", None)
    cmd = [sys.executable, "-c", "from guihua.cli.app import main; main()", "notices", "deliver", "--once"]
    cmd += ["--webhook", f"http://127.0.0.1:{port}/notices", "--db", str(db)]
    with Receiver(port, delay=0.03) as receiver:
        worker = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while len(receiver.raw) < 12 and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.005)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        before = len(receiver.raw)
        assert 12 <= before < total, "the worker must die half-way"
        with store.begin() as conn:
            recorded = conn.execute(
                select(schema.deliveries.c.notice_id).where(schema.deliveries.c.status == "delivered")
            ).all()
        assert before - 1 <= len(recorded) <= before  # at most the in-flight send is not yet recorded

        again = subprocess.run([*cmd, "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout)
    assert (result["failed"], result["pending"], result["no_address"]) == (0, 0, 0)
    assert result["sent"] == total - len(recorded)
    assert sorted(receiver.unique) == ids  # every notice, once, after deduplication
    assert len(receiver.raw) - len(receiver.unique) <= 1  # at most the one in flight at the kill
    assert [s[2] for s in states(store)] == ["delivered"] * total
    store.dispose()


# --------------------------------------------------------------------------- command line


def test_cli_deliver_list_and_contacts(tmp_path: Path, mini_catalog_text: str, mailbox: Mailbox) -> None:
    from guihua.store.database import open_store

    db = tmp_path / "cli.db"
    store = open_store(str(db))
    load(store, mini_catalog_text, tmp_path, "TRAFFIC", [offence(1, A, "2026-01-05")])
    store.dispose()
    smtp = f"127.0.0.1:{mailbox.port}"
    first = run("notices", "deliver", "--once", "--json", db=db, env={"GUIHUA_SMTP": smtp})
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) | {"channels": None} == {
        "sent": 0,
        "failed": 0,
        "no_address": 1,
        "pending": 0,
        "channels": None,
        "errors": [],
    }
    done = run("contacts", "set", A, "--email", "a@example.org", "--lang", "en", "--as", "clerk-1", db=db)
    assert done.returncode == 0, done.stderr
    shown = run("contacts", "show", A, "--json", db=db)
    assert (json.loads(shown.stdout)["email"], json.loads(shown.stdout)["lang"]) == ("a@example.org", "en")
    assert_one_line_error(
        run("contacts", "set", A, "--email", "a@example.org", "--lang", "fr", db=db), "--lang"
    )
    line = run("notices", "deliver", "--smtp", smtp, "--smtp-from", "n@city.example", db=db)
    assert line.returncode == 0, line.stderr
    assert line.stdout.strip() == "sent 1, failed 0, no_address 0, pending 0"
    assert mailbox.messages[0]["From"] == "n@city.example"
    listed = json.loads(run("notices", "list", A, "--json", db=db).stdout)
    [notice] = listed["notices"]
    assert notice["kind"] == "penalty" and notice["title"].startswith("Penalty of 3 points")  # its language
    assert mailbox.messages[0]["Subject"] == notice["title"]
    zh = json.loads(run("notices", "list", A, "--json", "--lang", "zh-CN", db=db).stdout)
    assert zh["notices"][0]["title"].startswith("自2026-01-12起扣3分")
    assert [(d["channel"], d["status"], d["attempts"]) for d in notice["deliveries"]] == [
        ("email", "delivered", 1)
    ]
    text = run("notices", "list", A, db=db)
    assert "email delivered" in text.stdout


@pytest.mark.parametrize(
    "args,words",
    [
        (["notices", "deliver", "--smtp", "localhost"], ["--smtp", "HOST:PORT"]),
        (["notices", "deliver", "--smtp", "localhost:99999"], ["--smtp", "HOST:PORT"]),
        (["notices", "deliver", "--webhook", "ftp://example.org/x"], ["--webhook", "http://"]),
        (["notices", "deliver", "--webhook", "not a url"], ["--webhook"]),
        (
            ["notices", "deliver", "--smtp", "localhost:25", "--smtp-from", "nobody"],
            ["--smtp-from", "name@example.org"],
        ),
        (["notices", "deliver"], ["no delivery channel configured"]),
        (["contacts", "set", A, "--email", "not-an-address"], ["e-mail address", "name@example.org"]),
        (["contacts", "set", A, "--email", "a@example.org\nBcc: x@evil.example"], ["e-mail address"]),
        (["contacts", "set", "123", "--email", "a@example.org"], ["invalid subject id"]),
    ],
)
def test_cli_one_line_errors(tmp_path: Path, args: list[str], words: list[str]) -> None:
    assert run("init", db=tmp_path / "e.db").returncode == 0
    proc = run(*args, db=tmp_path / "e.db")
    assert proc.returncode == 2
    assert_one_line_error(proc, *words)


def test_configuration_parsing() -> None:
    assert parse_smtp("mail.example.org:587") == ("mail.example.org", 587)
    assert parse_smtp("[::1]:25") == ("::1", 25)
    for bad in ("", ":25", "host:", "host:0", "host:x"):
        with pytest.raises(InvalidInput):
            parse_smtp(bad)
    assert check_webhook_url("https://example.org/hook") == "https://example.org/hook"
    for bad in ("example.org/hook", "https://", "mailto:x@example.org"):
        with pytest.raises(InvalidInput):
            check_webhook_url(bad)
    assert contacts.check_email(" a.b+c@sub.example.org ") == "a.b+c@sub.example.org"
    for bad in (
        "a@b",
        "a b@example.org",
        "a@@example.org",
        "@example.org",
        "a@example.org>",
        "x" * 250 + "@e.org",
    ):
        with pytest.raises(InvalidInput):
            contacts.check_email(bad)


# --------------------------------------------------------------------------- HTTP


def test_put_contact_by_the_resident_or_a_service_desk(
    store: Store, tmp_path: Path, mini_catalog_text: str
) -> None:
    from fastapi.testclient import TestClient

    from guihua.http.service import create_app
    from guihua.usecases import accounts

    load(store, mini_catalog_text, tmp_path, "TRAFFIC", [offence(1, A, "2026-01-05")])
    admin = Actor("admin", "admin")
    tokens = {
        "a": accounts.create(store, admin, "resident", "a", subject=A),
        "desk": accounts.create(store, admin, "service_desk", "desk"),
        "auditor": accounts.create(store, admin, "auditor", "aud"),
    }
    nobody = EmailChannel("127.0.0.1", free_port(), "n@city.example")
    assert deliver_due(store, [nobody]).no_address == 1  # no address yet: nothing sent, nothing tried
    with TestClient(create_app(store)) as c:

        def put(who: str, sid: str, address: str) -> Any:
            headers = {"Authorization": f"Bearer {tokens[who]}"}
            return c.put(f"/api/v1/subjects/{sid}/contact", json={"email": address}, headers=headers)

        own = put("a", A, "a@example.org")
        assert own.status_code == 200, own.text
        assert own.json()["email"] == "a@example.org" and own.json()["requeued"] == 1
        assert put("a", B, "a@example.org").status_code == 403
        assert put("auditor", A, "x@example.org").status_code == 403
        bad = put("desk", A, "not an address")
        assert bad.status_code == 422 and "name@example.org" in bad.json()["detail"]
        assert put("desk", B, "b@example.org").status_code == 200
    sets = [
        (e["account"], e["subject_id"], e["outcome"])
        for e in audit.entries(store)
        if e["action"] == "contact.set"
    ]
    assert sets == [("desk", B, "ok"), ("aud", A, "refused"), ("a", B, "refused"), ("a", A, "ok")]
