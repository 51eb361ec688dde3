"""The FastAPI application: routers by audience, problem documents for every error.

Endpoints parse, ask the access policy, call a use case and shape the answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from guihua.core.errors import GuihuaError
from guihua.http import (
    department_routes,
    problems,
    provider_routes,
    public_routes,
    review_routes,
    subject_routes,
)
from guihua.http.limits import DEFAULT_MAX_BODY, BodySizeLimit
from guihua.store.database import Store

ROUTERS = (public_routes, subject_routes, department_routes, provider_routes, review_routes)


def create_app(store: Store, max_body_bytes: int = DEFAULT_MAX_BODY) -> FastAPI:
    app = FastAPI(
        responses=problems.problem_responses(400, 401, 403, 404, 409, 413, 422),
        title="Guihua",
        description="A public-credit scheme run fairly: every point traces to a record, a rule and its law.",
        version="0.1.0",
        openapi_url="/openapi.json",
        docs_url="/docs",
    )
    app.state.store = store
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    app.add_exception_handler(problems.Problem, problems.on_problem)
    app.add_exception_handler(GuihuaError, problems.on_guihua_error)
    app.add_exception_handler(RequestValidationError, problems.on_validation)
    app.add_exception_handler(StarletteHTTPException, problems.on_http)
    for module in ROUTERS:
        app.include_router(module.router)
    _declare_problem_schema(app)
    return app


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
