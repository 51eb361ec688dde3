"""Writing department files for tests."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from guihua.core.ids import check_digit


def subject(seq: int, birth: str = "19850312", area: str = "320508") -> str:
    first17 = f"{area}{birth}{seq:03d}"
    return first17 + check_digit(first17)


def jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    def enc(v: Any) -> Any:
        return v.isoformat() if isinstance(v, dt.date) else v

    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            out = {k: enc(v) for k, v in r.items() if k != "fields"}
            out["fields"] = {k: enc(v) for k, v in r.get("fields", {}).items()}
            fh.write(json.dumps(out) + "\n")
    return path


def record(
    source_id: str, subject_id: str, metric: str, occurred_at: dt.date | str, **fields: Any
) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "subject_id": subject_id,
        "metric": metric,
        "occurred_at": occurred_at,
        "fields": fields,
    }


def day_of(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def submit_as_they_happen(store: Any, folder: Path, department: str, rows: list[dict[str, Any]]) -> list[Any]:
    """Each row received on the day it occurred (a department that sends at once), days in order.

    Spec version 2: a penalty never counts before the day its record was received, so a
    scenario about dates near ``occurred_at`` must say when each record arrived.
    """
    from guihua.usecases import submissions

    by_day: dict[dt.date, list[dict[str, Any]]] = {}
    for r in rows:
        by_day.setdefault(day_of(r["occurred_at"]), []).append(r)
    results = []
    for day in sorted(by_day):
        path = jsonl(folder / f"{department}-{day}-{len(by_day[day])}.jsonl", by_day[day])
        results.append(submissions.ingest_file(store, path, department, as_of=day))
    return results


# --------------------------------------------------------------------------- the command line


def run(
    *args: str, db: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The real ``guihua`` entry point in a subprocess (today fixed, no GUIHUA_DB inherited)."""
    from tests.conftest import TODAY

    full_env = {**os.environ, "GUIHUA_TODAY": TODAY}
    full_env.pop("GUIHUA_DB", None)
    full_env.update(env or {})
    cmd = [sys.executable, "-c", "from guihua.cli.app import main; main()", *args]
    if db is not None:
        cmd += ["--db", str(db)]
    return subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=120)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    for w in words:
        assert w in lines[0]


# --------------------------------------------------------------------------- scenario rows of the mini catalog

D = dt.date.fromisoformat


def load(store: Any, text: str, folder: Path, dept: str, rows: list[dict[str, Any]]) -> None:
    """Load the catalog, then send each row on the day it occurred (none may be rejected)."""
    from guihua.usecases import catalogs, records

    catalogs.load_catalog(store, text)
    for result in submit_as_they_happen(store, folder, dept, rows):
        assert result.rejected == 0, records.list_rejects(store)


def score_at(store: Any, sid: str, at: str) -> tuple[int, bool]:
    from guihua.usecases import scores

    s = scores.subject_score(store, sid, D(at))
    return s.score, s.defaulter


def vol(n: int, sid: str, when: str, hours: float = 12) -> dict[str, Any]:
    return record(f"v{n}", sid, "volunteer_service", when, hours=hours, organisation="Red Cross")


def offence(n: int, sid: str, when: str, kind: str = "fail_to_yield", paid: bool = True) -> dict[str, Any]:
    return record(f"t{n}", sid, "traffic_offence", when, offence=kind, fine=200, paid=paid, when_paid=when)


def loan(n: int, sid: str, when: str, case: str, action: str) -> dict[str, Any]:
    return record(f"l{n}", sid, "loan_default", when, case_id=case, action=action, amount=5000.0)


def run_on_terminal(*args: str, db: Path | None = None) -> tuple[int, str]:
    """The real ``guihua`` with its stderr on a pseudo-terminal, as a person at a terminal sees it.

    The terminal is read while the command runs (a full terminal buffer would block its writes).
    """
    import pty
    import threading

    from tests.conftest import TODAY

    master, slave = pty.openpty()
    seen = bytearray()

    def pump() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            seen.extend(chunk)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    env = {**os.environ, "GUIHUA_TODAY": TODAY, "TERM": "xterm", "COLUMNS": "120"}
    env.pop("GUIHUA_DB", None)
    cmd = [sys.executable, "-c", "from guihua.cli.app import main; main()", *args]
    if db is not None:
        cmd += ["--db", str(db)]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=slave, env=env, timeout=120)
    os.close(slave)
    reader.join(5)
    os.close(master)
    return proc.returncode, seen.decode("utf-8", "replace")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 just now (for a receiver a test starts)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it accepts."""

    def __init__(self) -> None:
        import email.message

        from aiosmtpd.controller import Controller

        self.messages: list[email.message.EmailMessage] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import email
        import email.policy

        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(msg)  # type: ignore[arg-type]
        return "250 OK"
