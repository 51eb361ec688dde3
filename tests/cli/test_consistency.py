"""Every command alike: --json everywhere, --purpose on staff reads, --as on counter and reviewer
writes, exit codes by kind, and one error code per kind of problem in the CLI and the service."""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import guihua
from guihua.core import errors
from guihua.core.errors import ERROR_CODES, GuihuaError
from tests.conftest import DATA
from tests.helpers import jsonl, record, run, subject

ROOT = Path(__file__).resolve().parents[2]
A = subject(1)

# `serve` prints no result of its own: it runs until stopped, and its output is the request log.
NO_JSON = {"serve"}
STAFF_READS = {
    "score",
    "explain",
    "perks",
    "defaulters",
    "export scores",
    "report subject",
    "objections list",
    "certificate issue",
    "notices list",
    "contacts show",
    "audit log",
}
COUNTER_OR_REVIEWER_WRITES = {"objections file", "objections decide", "contacts set", "certificate issue"}


def _commands() -> Iterator[tuple[str, Any]]:
    from typer.main import get_command

    from guihua.cli.app import app

    def walk(cmd: Any, path: list[str]) -> Iterator[tuple[str, Any]]:
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                yield from walk(sub, [*path, name])
        else:
            yield " ".join(path), cmd

    yield from walk(get_command(app), [])


def _options(cmd: Any) -> set[str]:
    return {o for p in cmd.params for o in getattr(p, "opts", [])}


COMMANDS = dict(_commands())


def test_the_command_tree_is_what_this_test_knows() -> None:
    assert set(COMMANDS) >= STAFF_READS | COUNTER_OR_REVIEWER_WRITES


@pytest.mark.parametrize("name", sorted(set(COMMANDS) - NO_JSON))
def test_every_command_has_json(name: str) -> None:
    assert "--json" in _options(COMMANDS[name])


@pytest.mark.parametrize("name", sorted(STAFF_READS))
def test_every_staff_read_takes_a_purpose(name: str) -> None:
    assert "--purpose" in _options(COMMANDS[name])


@pytest.mark.parametrize("name", sorted(COUNTER_OR_REVIEWER_WRITES))
def test_every_counter_or_reviewer_write_names_who(name: str) -> None:
    assert "--as" in _options(COMMANDS[name])


# --------------------------------------------------------------------------- error codes


def _error_classes() -> list[type[GuihuaError]]:
    for info in pkgutil.walk_packages(guihua.__path__, "guihua."):
        if not info.name.startswith(
            ("guihua.http", "guihua.cli", "guihua.documents", "guihua.store.migrations")
        ):
            importlib.import_module(info.name)
    seen, todo = [], [GuihuaError]
    while todo:
        kind = todo.pop()
        seen.append(kind)
        todo.extend(kind.__subclasses__())
    return seen[1:]


def test_every_kind_of_error_has_a_listed_code_and_a_status() -> None:
    for kind in _error_classes():
        assert kind.code in ERROR_CODES, kind
        assert 400 <= kind.status < 600 and kind.exit_code in (1, 2, 75), kind


def _sources() -> Iterator[tuple[Path, ast.AST]]:
    for path in sorted((ROOT / "src" / "guihua").rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def test_no_error_is_raised_without_its_kind() -> None:
    """A bare GuihuaError would answer the catch-all code ``error``: every raise names its kind."""
    bare = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path, tree in _sources()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "GuihuaError"
    ]
    assert bare == []


def test_every_code_the_service_answers_by_itself_is_listed() -> None:
    literal = re.compile(r'"([a-z_]+)"')
    found = set()
    for path in (ROOT / "src" / "guihua" / "http").glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if "Problem(" in line or "_problem(" in line or "problem_response(" in line:
                found |= {c for c in literal.findall(line) if "_" in c or c in ERROR_CODES}
    found |= {"not_found", "method_not_allowed", "http_error"}
    assert found <= set(ERROR_CODES), found - set(ERROR_CODES)


def test_the_readme_lists_every_code() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([a-z_]+)` \|", text, flags=re.M))
    assert listed == set(ERROR_CODES)
    assert errors.GuihuaError.code not in listed  # the catch-all is never answered


# --------------------------------------------------------------------------- one code in both adapters


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "g.db"
    assert run("catalog", "load", str(DATA / "mini.yaml"), db=path).returncode == 0
    rows = [record("v1", A, "volunteer_service", "2026-03-01", hours=12, organisation="Red Cross")]
    assert run("ingest", str(jsonl(tmp_path / "c.jsonl", rows)), "-d", "CIVIL", db=path).returncode == 0
    return path


def _cli_error(*args: str, db: Path) -> tuple[int, str]:
    proc = run(*args, "--json", db=db)
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    body = json.loads(proc.stdout)
    assert set(body) == {"error", "detail"}
    return proc.returncode, body["error"]


def test_the_same_problem_has_the_same_code_in_the_cli_and_the_service(db: Path) -> None:
    from guihua.store.database import open_store
    from guihua.usecases import accounts, audit

    store = open_store(str(db))
    token = accounts.create(store, audit.cli_actor(), "admin", "ops")
    civil = accounts.create(store, audit.cli_actor(), "department", "civil", department="CIVIL")
    from guihua.http.service import create_app

    with TestClient(create_app(store)) as c:
        admin = {"Authorization": f"Bearer {token}"}
        dept = {"Authorization": f"Bearer {civil}"}
        bad_id = c.get("/api/v1/subjects/110105194912310020/score", headers=admin)
        assert (bad_id.status_code, bad_id.json()["code"]) == (422, "invalid_input")
        assert _cli_error("score", "110105194912310020", db=db) == (2, "invalid_input")

        shape = c.get("/api/v1/subjects/123/score", headers=admin)
        assert (shape.status_code, shape.json()["code"]) == (422, "invalid_input")
        assert _cli_error("score", "123", db=db) == (2, "invalid_input")

        assert run("retract", "v1", "-d", "CIVIL", db=db).returncode == 0
        again = c.delete("/api/v1/records/v1", headers=dept)
        assert (again.status_code, again.json()["code"]) == (409, "conflict")
        assert _cli_error("retract", "v1", "-d", "CIVIL", db=db) == (2, "conflict")

        missing = c.delete("/api/v1/records/nope", headers=dept)
        assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
        assert _cli_error("retract", "nope", "-d", "CIVIL", db=db) == (2, "not_found")
    store.dispose()
    assert _cli_error("score", A, db=db.with_name("none.db")) == (2, "no_store")
    assert _cli_error("ingest", str(db.with_name("none.csv")), "-d", "CIVIL", db=db) == (2, "file_unreadable")


def test_a_purpose_given_at_the_terminal_reaches_the_resident(db: Path) -> None:
    assert run("score", A, "--purpose", "loan enquiry at the counter", db=db).returncode == 0
    assert run("notices", "list", A, "--purpose", "resident asked", db=db).returncode == 0
    log = json.loads(run("audit", "log", "--subject", A, "--purpose", "audit sample", "--json", db=db).stdout)
    purposes = {(e["action"], e["purpose"]) for e in log["entries"]}
    assert ("subject.score", "loan enquiry at the counter") in purposes
    assert ("subject.notices", "resident asked") in purposes


def test_verify_exits_1_when_the_check_fails(db: Path) -> None:
    import sqlite3

    ok = run("audit", "verify", "--json", db=db)
    assert ok.returncode == 0 and json.loads(ok.stdout)["intact"] is True
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE audit_log SET detail = 'edited' WHERE seq = 1")
    broken = run("audit", "verify", "--json", db=db)
    assert broken.returncode == 1
    assert json.loads(broken.stdout)["intact"] is False
