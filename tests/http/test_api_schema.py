"""schemathesis against the service's own OpenAPI document: no 5xx, no response outside its schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from guihua.core.policy import Actor
from guihua.http.guards import RateLimit
from guihua.http.service import create_app
from guihua.store.database import open_store
from guihua.usecases import accounts, catalogs, submissions
from tests.conftest import DATA
from tests.helpers import jsonl, record, subject

TOKENS: dict[str, str] = {}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    folder = tmp_path_factory.mktemp("api")
    store = open_store(str(Path(folder) / "api.db"))
    catalogs.load_catalog(store, (DATA / "mini.yaml").read_text())
    rows = [record("v1", subject(1), "volunteer_service", "2026-03-01", hours=12, organisation="x")]
    submissions.ingest_file(store, jsonl(Path(folder) / "v.jsonl", rows), "CIVIL")
    admin = Actor("schema-test", "admin")
    TOKENS["department"] = accounts.create(store, admin, "department", "civil", department="CIVIL")
    TOKENS["provider"] = accounts.create(store, admin, "provider", "lib", provider="SZLIB")
    TOKENS["auditor"] = accounts.create(store, admin, "auditor", "aud")
    # generated requests are a flood by design: a limit this high lets every one reach its route
    app = create_app(store, rate_limit=RateLimit(rate=1e6, burst=10**6))
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    store.dispose()


def _token_for(path: str) -> str:
    if path.startswith("/api/v1/records") or path.startswith("/api/v1/rejects"):
        return TOKENS["department"]
    if path.startswith("/api/v1/perks"):
        return TOKENS["provider"]
    return TOKENS["auditor"]


def test_generated_requests(api_schema: schemathesis.BaseSchema) -> None:
    """Every operation, 40 generated requests each (a few hundred in all), with a token that may call it."""
    calls = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: schemathesis.Case) -> None:
            nonlocal calls
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {_token_for(case.path)}"}
            # a well-formed but invalid id (bad check digit) is rightly 422: only that check is left out
            case.call_and_validate(excluded_checks=[positive_data_acceptance])
            calls += 1

        check()
    assert calls >= 200
