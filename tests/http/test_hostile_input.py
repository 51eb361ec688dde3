"""Hostile input against every endpoint, on both stores: never a 500.

Each operation of the service's own OpenAPI document is called with a token
that may call it and with one that may not, and every path parameter, query
parameter and string field of its body is fed values meant to break things:
injection strings, NUL, lone surrogates, overlong and out-of-range values,
blanks around ids, other scripts' digits. Bodies are also sent huge, nested,
of the wrong type, or not JSON at all. Any answer but a 500 is acceptable here
(refusals, 4xx problems, 413, 503 with Retry-After); other tests say which.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from guihua.core.policy import Actor
from guihua.http.service import create_app
from guihua.store.database import Store
from guihua.usecases import accounts, objections
from tests.helpers import load, offence, subject, vol

A = subject(1)
HOSTILE: list[str] = [
    "\x00",
    "a\x00b",
    "'; DROP TABLE records; --",
    "' OR '1'='1",
    "%00",
    "%",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "x" * 5000,
    "9223372036854775808",
    "-1",
    "0",
    "1e309",
    "NaN",
    " " + A,
    A + "\n",
    "\u00a0" + A,
    "３２０５０８１９８５０３１２００１２",  # full-width digits
    "\ud800",
    "桂花" * 100,
    "",
]
BODIES: list[Any] = [None, [], "text", 123, {"records": "x"}, {"records": [[]] * 5}, {"a": {"b": {"c": []}}}]


@pytest.fixture
def api(
    store: Store, tmp_path: Path, mini_catalog_text: str
) -> Iterator[tuple[TestClient, dict[str, str], dict[str, Any]]]:
    load(store, mini_catalog_text, tmp_path, "TRAFFIC", [offence(1, A, "2026-01-05")])
    load(store, mini_catalog_text, tmp_path, "CIVIL", [vol(1, A, "2026-02-01")])
    objections.file(store, A, "TRAFFIC", "t1", "not me", actor=Actor("a", "resident"))
    admin = Actor("admin", "admin")
    tokens = {
        role: accounts.create(store, admin, role, f"t-{role}", **bind)
        for role, bind in {
            "resident": {"subject": A},
            "service_desk": {},
            "reviewer": {},
            "auditor": {},
            "department": {"department": "CIVIL"},
            "provider": {"provider": "SZLIB"},
        }.items()
    }
    with TestClient(create_app(store), raise_server_exceptions=False) as c:
        yield c, tokens, c.get("/openapi.json").json()


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            yield method.upper(), path, op


def _quoted(value: str) -> str:
    """Percent-encoded; a lone surrogate as the bytes it would be (not valid UTF-8: a hostile request)."""
    return urllib.parse.quote(value.encode("utf-8", "surrogatepass"), safe="")


def _fill(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", _quoted(value))
    return path


DEFAULTS = {"subject_id": A, "code": "library_long_loan", "source_id": "t1", "objection_id": "1"}
SAMPLE_BODY: dict[str, dict[str, Any]] = {
    "/api/v1/records": {
        "records": [
            {
                "source_id": "x",
                "subject_id": A,
                "metric": "volunteer_service",
                "occurred_at": "2026-01-01",
                "fields": {"hours": 1, "organisation": "x"},
            }
        ]
    },
    "/api/v1/subjects/{subject_id}/objections": {"department": "TRAFFIC", "source_id": "t1", "reason": "r"},
    "/api/v1/subjects/{subject_id}/contact": {"email": "a@example.org"},
    "/api/v1/objections/{objection_id}/decision": {"decision": "uphold", "reason": "r"},
}


def _caller_for(method: str, path: str) -> str:
    """A role that may call the operation, so that hostile values reach its use case."""
    if path.startswith(("/api/v1/records", "/api/v1/rejects")):
        return "department"
    if path.startswith("/api/v1/perks"):
        return "provider"
    if path.endswith("/decision"):
        return "reviewer"
    if method in ("POST", "PUT") or path.endswith("/access-log"):
        return "resident"
    return "service_desk" if path.startswith("/api/v1/subjects") else "auditor"


def _strings_replaced(body: Any, value: str) -> Iterator[Any]:
    """The body with each string in it (one at a time) replaced by ``value``."""
    if isinstance(body, str):
        yield value
    elif isinstance(body, dict):
        for k, v in body.items():
            for replaced in _strings_replaced(v, value):
                yield {**body, k: replaced}
    elif isinstance(body, list):
        for i, v in enumerate(body):
            for replaced in _strings_replaced(v, value):
                yield [*body[:i], replaced, *body[i + 1 :]]


def _send(
    c: TestClient, method: str, url: str, token: str | None, body: Any = None, raw: bytes | None = None
) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if raw is not None:
        headers["Content-Type"] = "application/json"
        return c.request(method, url, content=raw, headers=headers).status_code
    if body is not None:
        data = json.dumps(body, ensure_ascii=True).encode()  # lone surrogates travel as \\ud800 escapes
        headers["Content-Type"] = "application/json"
        return c.request(method, url, content=data, headers=headers).status_code
    return c.request(method, url, headers=headers).status_code


def test_no_hostile_request_gets_a_500(api) -> None:
    c, tokens, spec = api
    failures: list[str] = []
    sent = 0
    for method, path, op in _operations(spec):
        params = op.get("parameters", [])
        path_names = [p["name"] for p in params if p["in"] == "path"]
        query_names = [p["name"] for p in params if p["in"] == "query"]
        body = SAMPLE_BODY.get(path)
        allowed = _caller_for(method, path)
        for who in (None, "forged", *tokens):
            token = {"forged": "gh_forged"}.get(str(who), tokens.get(str(who)))
            cases: list[tuple[str, Any, bytes | None]] = [(_fill(path, DEFAULTS), body, None)]
            if who != allowed:  # refused callers: the plain request only (the matrix test says which)
                sent += sum(1 for _ in [_send(c, method, url, token, b, raw) for url, b, raw in cases])
                continue
            for value in HOSTILE:
                for name in path_names:
                    if value:
                        cases.append((_fill(path, {**DEFAULTS, name: value}), body, None))
                for name in query_names:
                    url = _fill(path, DEFAULTS) + f"?{name}={_quoted(value)}"
                    cases.append((url, body, None))
                if body is not None:
                    cases += [(_fill(path, DEFAULTS), b, None) for b in _strings_replaced(body, value)]
            if method in ("POST", "PUT"):
                cases += [(_fill(path, DEFAULTS), b, None) for b in BODIES]
                cases += [
                    (_fill(path, DEFAULTS), None, raw) for raw in (b"{", b"[" * 100_000, b"\xff\xfe", b"{}")
                ]
            for url, b, raw in cases:
                status = _send(c, method, url, token, b, raw)
                sent += 1
                if status >= 500 and status != 503:
                    failures.append(f"{method} {url[:120]!r} as {who}: {status}")
    assert sent > 500
    assert failures == [], f"{len(failures)} of {sent} requests got a 5xx:\n" + "\n".join(failures[:40])
