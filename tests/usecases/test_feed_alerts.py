"""Feed alerts against real receivers on 127.0.0.1 (aiosmtpd, an HTTP server), on both stores.

An overdue or failing feed produces one notice to the department's contact and the operators,
through the outbox (e-mail, the operators' webhook), exactly once per episode: checks and
deliveries run again send nothing more; once the feed recovers the episode ends, and a relapse
is a new episode with a new alert. The residents' webhook never gets a feed notice.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from guihua.core.policy import Actor
from guihua.delivery.channels import EmailChannel, WebhookChannel
from guihua.store import schema
from guihua.store.database import Store
from guihua.usecases import agreements, audit, catalogs, feed_outbox, feeds
from tests.helpers import D, Mailbox, free_port, jsonl, offence, run, subject
from tests.usecases.test_agreements import with_agreement
from tests.usecases.test_outbox import Receiver

OPS = Actor("ops", "admin")
OPERATORS = "credit-centre-ops@example.org"
TRAFFIC_CONTACT = "traffic-data@example.org"


class OpsReceiver:
    """The operators' webhook: keeps every POST (body and Idempotency-Key)."""

    def __init__(self, status: int = 200) -> None:
        self.port, self.status = free_port(), status
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.lock:
                    receiver.posts.append((self.headers.get("Idempotency-Key", ""), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/alerts"

    @property
    def keys(self) -> list[str]:
        return [k for k, _ in self.posts]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.controller.start()
    yield box
    box.controller.stop()


@pytest.fixture
def ops() -> Iterator[OpsReceiver]:
    receiver = OpsReceiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def send(store: Store, tmp: Path, rows: list[dict[str, Any]], day: str) -> None:
    path = jsonl(tmp / f"t-{day}-{len(list(tmp.iterdir()))}.jsonl", rows)
    from guihua.usecases import submissions

    submissions.ingest_file(store, path, "TRAFFIC", as_of=D(day))


def good(first: int, n: int, day: str) -> list[dict[str, Any]]:
    return [offence(i, subject(i), day) for i in range(first, first + n)]


def bad(first: int, n: int) -> list[dict[str, Any]]:
    return [offence(5000 + i, "123", "2026-06-01") for i in range(first, first + n)]


def test_one_alert_per_episode_to_the_department_and_the_operators(
    store: Store, tmp_path: Path, mini_catalog_text: str, mailbox: Mailbox, ops: OpsReceiver
) -> None:
    catalogs.load_catalog(
        store,
        with_agreement(mini_catalog_text, "{status: active, valid_from: 2026-01-01, frequency_days: 7}"),
    )
    agreements.set_contact(store, "TRAFFIC", TRAFFIC_CONTACT, OPS)
    email = EmailChannel("127.0.0.1", mailbox.port, "feeds@city.example")
    routes = feed_outbox.Routes(email, OPERATORS, WebhookChannel(ops.url))

    def check_and_deliver(day: str) -> feeds.AlertCheck:
        check = feeds.check_alerts(store, D(day), actor=OPS)
        done = feed_outbox.deliver_due(store, routes)
        assert done.failed == 0, done.errors
        return check

    send(store, tmp_path, good(1, 10, "2026-06-01"), "2026-06-01")
    assert check_and_deliver("2026-06-08").opened == []  # due by 06-08: still within the promise
    assert mailbox.messages == [] and ops.posts == []

    # 1. overdue from 06-09
    first = check_and_deliver("2026-06-09")
    assert [(o["department"], o["kind"]) for o in first.opened] == [("TRAFFIC", "overdue")]
    assert sorted(m["To"] for m in mailbox.messages) == sorted([TRAFFIC_CONTACT, OPERATORS])
    [(key, body)] = ops.posts
    assert key == f"feed-notice-{body['feed_notice_id']}" and body["kind"] == "overdue"
    assert body["department"] == "TRAFFIC" and body["recipient"] == "operators"
    msg = mailbox.messages[0]
    assert msg["Message-ID"] == f"<feed-notice-{body['feed_notice_id']}@guihua.local>"
    assert msg["X-Guihua-Feed-Notice-Id"] == str(body["feed_notice_id"])
    assert msg["Subject"] == "Data feed overdue: TRAFFIC since 2026-06-09"
    assert "every 7 days" in msg.get_content() and "2026-06-01" in msg.get_content()  # type: ignore[attr-defined]
    for day in ("2026-06-09", "2026-06-10", "2026-06-12"):  # still overdue: nothing more
        assert check_and_deliver(day).opened == []
    assert (len(mailbox.messages), len(ops.posts)) == (2, 1)

    # 2. a submission with most rows rejected: overdue ends, failing begins
    send(store, tmp_path, [*good(11, 2, "2026-06-12"), *bad(1, 8)], "2026-06-12")
    second = check_and_deliver("2026-06-12")
    assert [(c["kind"]) for c in second.closed] == ["overdue"]
    assert [(o["kind"]) for o in second.opened] == ["failing"]
    assert (
        "rejected 8 of 10 rows (80%" in second.opened[0]["detail"]
        and "invalid_subject_id" in second.opened[0]["detail"]
    )
    assert check_and_deliver("2026-06-13").opened == []
    assert (len(mailbox.messages), len(ops.posts)) == (4, 2)

    # 3. fixed: failing ends; 4. silent again past the promise: a new overdue episode alerts again
    send(store, tmp_path, good(13, 5, "2026-06-14"), "2026-06-14")
    assert [c["kind"] for c in check_and_deliver("2026-06-14").closed] == ["failing"]
    assert check_and_deliver("2026-06-21").opened == []  # 06-14 + 7: still kept
    relapse = check_and_deliver("2026-06-22")
    assert [o["kind"] for o in relapse.opened] == ["overdue"]
    assert check_and_deliver("2026-06-23").opened == []

    # every alert once per receiver: 3 episodes, each to both addresses and the operators' webhook
    sent = [(m["To"], m["Message-ID"]) for m in mailbox.messages]
    assert len(sent) == len(set(sent)) == 6
    assert len(ops.keys) == len(set(ops.keys)) == 3
    assert [b["kind"] for _, b in ops.posts] == ["overdue", "failing", "overdue"]
    with store.begin() as conn:
        e = schema.feed_episodes
        episodes = conn.execute(select(e.c.kind, e.c.started_on, e.c.ended_on).order_by(e.c.id)).all()
    assert [(k, str(s)[:10], str(x)[:10] if x else None) for k, s, x in episodes] == [
        ("overdue", "2026-06-09", "2026-06-12"),
        ("failing", "2026-06-12", "2026-06-14"),
        ("overdue", "2026-06-22", None),
    ]
    actions = [x["action"] for x in reversed(audit.entries(store)) if x["action"].startswith("feed.")]
    assert actions == ["feed.alert", "feed.recovered", "feed.alert", "feed.recovered", "feed.alert"]
    feed = {f.department: f.as_dict() for f in feeds.feed_status(store, D("2026-06-23"))[1]}
    assert feed["TRAFFIC"]["open_alerts"] == ["overdue"] and feed["CIVIL"]["open_alerts"] == []


def test_a_department_without_a_contact_hears_once_it_has_one(
    store: Store, tmp_path: Path, mini_catalog_text: str, mailbox: Mailbox
) -> None:
    catalogs.load_catalog(
        store, with_agreement(mini_catalog_text, "{valid_from: 2026-06-01, frequency_days: 7}")
    )
    routes = feed_outbox.Routes(EmailChannel("127.0.0.1", mailbox.port, "feeds@city.example"), OPERATORS)
    feeds.check_alerts(store, D("2026-06-30"))  # never sent anything, due by 06-08
    run1 = feed_outbox.deliver_due(store, routes)
    assert (run1.sent, run1.no_address) == (1, 1)
    assert [m["To"] for m in mailbox.messages] == [OPERATORS]
    assert agreements.set_contact(store, "TRAFFIC", TRAFFIC_CONTACT, OPS)["requeued"] == 1
    run2 = feed_outbox.deliver_due(store, routes)
    assert (run2.sent, run2.no_address, run2.pending) == (1, 0, 0)
    assert feed_outbox.deliver_due(store, routes).sent == 0
    assert [m["To"] for m in mailbox.messages] == [OPERATORS, TRAFFIC_CONTACT]
    [notice] = feeds.feed_notices(store, "TRAFFIC")
    assert sorted((d["recipient"], d["status"]) for d in notice["deliveries"]) == [
        ("department", "delivered"),
        ("operators", "delivered"),
    ]
    entries = [x for x in audit.entries(store) if x["action"] == "department_contact.set"]
    assert entries[0]["detail"] == "TRAFFIC: email t***@example.org; 1 requeued"
    # a catalog without the department ends its episode (nothing is due from it any more)
    gone = mini_catalog_text.replace(
        '  - code: TRAFFIC\n    name: Traffic police\n    legal_basis: "Road Traffic Safety Law, Art. 2"\n'
        "    metrics: [traffic_offence]\n",
        "",
    )
    catalogs.load_catalog(store, gone)
    closed = feeds.check_alerts(store, D("2026-06-30")).closed
    assert [(c["department"], c["kind"]) for c in closed] == [("TRAFFIC", "overdue")]


def test_an_operators_webhook_that_refuses_is_retried_never_dropped(
    store: Store, tmp_path: Path, mini_catalog_text: str
) -> None:
    import datetime as dt

    catalogs.load_catalog(
        store, with_agreement(mini_catalog_text, "{valid_from: 2026-06-01, frequency_days: 7}")
    )
    feeds.check_alerts(store, D("2026-06-30"))
    down = OpsReceiver(status=503)
    down.thread.start()
    try:
        routes = feed_outbox.Routes(ops_webhook=WebhookChannel(down.url))
        first = feed_outbox.deliver_due(store, routes)
        assert (first.failed, first.pending) == (1, 1) and "503" in first.errors[0]
        assert feed_outbox.deliver_due(store, routes).failed == 0  # backing off: not due yet
        down.status = 200
        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
        assert feed_outbox.deliver_due(store, routes, at=later).sent == 1
        assert len(down.keys) == 2 and len(set(down.keys)) == 1  # the same key both times
    finally:
        down.server.shutdown()
        down.server.server_close()


# --------------------------------------------------------------------------- the command line


def test_cli_deliver_checks_the_feeds_and_sends_each_alert_once(
    tmp_path: Path, mini_catalog_text: str, mailbox: Mailbox, ops: OpsReceiver
) -> None:
    db = tmp_path / "feeds.db"
    catalog = tmp_path / "c.yaml"
    catalog.write_text(with_agreement(mini_catalog_text, "{valid_from: 2026-01-01, frequency_days: 7}"))
    assert run("catalog", "load", str(catalog), db=db).returncode == 0
    rows = jsonl(tmp_path / "t.jsonl", [offence(1, subject(1), "2026-06-01")])
    assert (
        run("ingest", str(rows), "-d", "TRAFFIC", db=db, env={"GUIHUA_TODAY": "2026-06-01"}).returncode == 0
    )
    set_ = run("contacts", "set-department", "TRAFFIC", "--email", TRAFFIC_CONTACT, "--json", db=db)
    assert json.loads(set_.stdout) == {"department": "TRAFFIC", "email": TRAFFIC_CONTACT, "requeued": 0}
    residents = Receiver(free_port())
    env = {
        "GUIHUA_SMTP": f"127.0.0.1:{mailbox.port}",
        "GUIHUA_OPERATOR_EMAIL": OPERATORS,
        "GUIHUA_OPS_WEBHOOK_URL": ops.url,
        "GUIHUA_WEBHOOK_URL": residents.url,
    }
    with residents:
        for _ in range(3):  # today (2026-06-30) TRAFFIC is overdue: one alert, however often it runs
            done = run("notices", "deliver", "--once", "--json", db=db, env=env)
            assert done.returncode == 0, done.stderr
    assert sorted(m["To"] for m in mailbox.messages if "feed-notice" in m["Message-ID"]) == sorted(
        [TRAFFIC_CONTACT, OPERATORS]
    )
    assert len(ops.posts) == 1 and ops.posts[0][1]["kind"] == "overdue"
    assert residents.unique.keys() == {1}  # the resident's penalty notice; no feed notice there
    listed = json.loads(run("feed-notices", "--json", db=db).stdout)
    assert [n["kind"] for n in listed["notices"]] == ["overdue"]
    feed = json.loads(run("feeds", "--alert", "--json", db=db).stdout)
    assert feed["alerts"]["opened"] == [] and feed["alerts"]["closed"] == []
    [traffic] = [f for f in feed["feeds"] if f["department"] == "TRAFFIC"]
    assert (traffic["overdue"], traffic["open_alerts"]) == (True, ["overdue"])
    text = run("feeds", db=db)
    assert text.returncode == 0 and "TRAFFIC" in text.stdout and "overdue" in text.stdout
    assert os.environ.get("GUIHUA_OPERATOR_EMAIL") is None  # nothing leaked into this process


def test_the_service_checks_the_feeds_on_its_own(
    sqlite_store: Store, mini_catalog_text: str, tmp_path: Path
) -> None:
    """``serve --feed-check-every``: an overdue feed gets its alert with no command run."""
    import time

    from fastapi.testclient import TestClient

    from guihua.http.service import create_app

    catalogs.load_catalog(
        sqlite_store, with_agreement(mini_catalog_text, "{valid_from: 2026-01-01, frequency_days: 7}")
    )  # never sent anything: overdue long before today
    assert feeds.feed_notices(sqlite_store, "TRAFFIC") == []
    app = create_app(sqlite_store, key_dir=tmp_path / "keys", feed_check_every=0.2)
    with TestClient(app):
        deadline = time.monotonic() + 10
        while not feeds.feed_notices(sqlite_store, "TRAFFIC") and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # two more checks: still one notice (one per episode)
    [notice] = feeds.feed_notices(sqlite_store, "TRAFFIC")
    assert notice["kind"] == "overdue"
