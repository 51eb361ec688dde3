"""The FastAPI application: routers by audience, problem documents for every error.

Endpoints parse, ask the access policy, call a use case and shape the answer.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from guihua.core.errors import GuihuaError
from guihua.http import (
    audit_routes,
    department_routes,
    feed_routes,
    problems,
    provider_routes,
    public_routes,
    review_routes,
    subject_routes,
)
from guihua.http.guards import RateLimit, RateLimited, SecurityHeaders
from guihua.http.limits import DEFAULT_MAX_BODY, BodySizeLimit
from guihua.store.database import Store

ROUTERS = (
    public_routes,
    audit_routes,
    subject_routes,
    department_routes,
    provider_routes,
    review_routes,
    feed_routes,
)


def create_app(
    store: Store,
    max_body_bytes: int = DEFAULT_MAX_BODY,
    key_dir: Path | None = None,
    checkpoint_dir: Path | None = None,
    checkpoint_every: float = 3600.0,
    rate_limit: RateLimit | None = None,
) -> FastAPI:
    """The service on ``store``; with ``checkpoint_dir`` it keeps a signed checkpoint of the audit
    trail there every ``checkpoint_every`` seconds (and once at start)."""
    from guihua.usecases.certificates import key_dir as default_key_dir

    keys = key_dir or default_key_dir(None, store.engine.url.render_as_string(hide_password=False))
    app = FastAPI(
        lifespan=_checkpoints(store, keys, checkpoint_dir, checkpoint_every),
        responses=problems.problem_responses(400, 401, 403, 404, 409, 413, 422, 429),
        title="Guihua",
        description="A public-credit scheme run fairly: every point traces to a record, a rule and its law.",
        version="0.1.0",
        openapi_url="/openapi.json",
        docs_url="/docs",
    )
    app.state.store = store
    app.state.key_dir = keys
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    app.add_middleware(RateLimited, limit=rate_limit)
    app.add_middleware(SecurityHeaders)  # added last, so outermost: every answer carries them
    app.add_exception_handler(problems.Problem, problems.on_problem)
    app.add_exception_handler(GuihuaError, problems.on_guihua_error)
    app.add_exception_handler(RequestValidationError, problems.on_validation)
    app.add_exception_handler(StarletteHTTPException, problems.on_http)
    for module in ROUTERS:
        app.include_router(module.router)
    _declare_problem_schema(app)
    return app


def _checkpoints(store: Store, keys: Path, folder: Path | None, every: float) -> Any:
    """A lifespan that keeps checkpoints in ``folder`` on a schedule while the service runs."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if folder is None:
            yield
            return
        stop = threading.Event()
        worker = threading.Thread(
            target=_keep_checkpoints, args=(store, keys, folder, every, stop), daemon=True
        )
        worker.start()
        try:
            yield
        finally:
            stop.set()
            worker.join(10)

    return lifespan


def _keep_checkpoints(store: Store, keys: Path, folder: Path, every: float, stop: threading.Event) -> None:
    import logging

    from guihua.core.errors import GuihuaError
    from guihua.kit import signing
    from guihua.usecases import checkpoints

    log = logging.getLogger("guihua.checkpoints")
    while True:
        try:
            path = checkpoints.keep(store, signing.load_or_create(keys), folder)
            log.info("audit checkpoint written to %s", path)
        except (GuihuaError, OSError) as exc:  # a broken trail is not signed: say so, keep serving
            log.error("audit checkpoint not written: %s", getattr(exc, "message", exc))
        if stop.wait(every):
            return


def _declare_problem_schema(app: FastAPI) -> None:
    """Put ProblemDocument into the OpenAPI components that every error response refers to."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["ProblemDocument"] = problems.ProblemDocument.model_json_schema()
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
