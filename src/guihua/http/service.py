"""The FastAPI application: routers by audience, problem documents for every error, and the portal.

Endpoints parse, ask the access policy, call a use case and shape the answer. The web portal's
pages (:mod:`guihua.web`) are mounted into the same application and call the same use cases.
"""

from __future__ import annotations

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
    schedule,
    subject_routes,
)
from guihua.http.guards import RateLimit, RateLimited, SecurityHeaders
from guihua.http.limits import DEFAULT_MAX_BODY, BodySizeLimit
from guihua.store.database import Store
from guihua.web import portal

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
    feed_check_every: float | None = None,
) -> FastAPI:
    """The service on ``store``; with ``checkpoint_dir`` it keeps a signed checkpoint of the audit
    trail there every ``checkpoint_every`` seconds (and once at start); with ``feed_check_every``
    it checks the departments' feeds that often and queues their alerts (once per episode)."""
    from guihua.usecases.certificates import key_dir as default_key_dir

    keys = key_dir or default_key_dir(None, store.engine.url.render_as_string(hide_password=False))
    app = FastAPI(
        lifespan=schedule.lifespan(_jobs(store, keys, checkpoint_dir, checkpoint_every, feed_check_every)),
        responses=problems.problem_responses(400, 401, 403, 404, 409, 413, 422, 429),
        title="Guihua",
        description="A public-credit scheme run fairly: every point traces to a record, a rule and its law.",
        version="0.1.0",
        openapi_url="/openapi.json",
        docs_url=None,  # the portal serves /docs with Swagger UI's files from Guihua itself
        redoc_url=None,  # ReDoc would come from a CDN
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
    portal.install(app, keys)  # the web portal's pages, sessions and /docs (after the API's handlers)
    _declare_problem_schema(app)
    return app


def _jobs(
    store: Store,
    keys: Path,
    checkpoint_dir: Path | None,
    checkpoint_every: float,
    feed_check_every: float | None,
) -> list[schedule.Job]:
    """What the service does on its own: signed checkpoints of the audit trail, the feeds' alerts."""
    jobs = []
    if checkpoint_dir is not None:

        def checkpoint() -> str:
            from guihua.kit import signing
            from guihua.usecases import checkpoints

            path = checkpoints.keep(store, signing.load_or_create(keys), checkpoint_dir)
            return f"audit checkpoint written to {path}"

        jobs.append(schedule.Job("guihua.checkpoints", checkpoint_every, checkpoint))
    if feed_check_every:

        def feed_alerts() -> str:
            from guihua.usecases import feeds

            checked = feeds.check_alerts(store)
            return f"feeds checked: {checked.as_dict()}"

        jobs.append(schedule.Job("guihua.feeds", feed_check_every, feed_alerts))
    return jobs


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
