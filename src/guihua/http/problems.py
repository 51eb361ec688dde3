"""RFC 9457 problem documents: every error of the service, with a stable ``code``."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from guihua.core.errors import GuihuaError, InvalidInput, StoreBusy
from guihua.core.masking import mask_text

PROBLEM = "application/problem+json"


class ProblemDocument(BaseModel):
    """An RFC 9457 problem; ``code`` is stable and machine-readable (reject reasons keep their names)."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses an endpoint may answer."""
    schema = {"$ref": "#/components/schemas/ProblemDocument"}
    return {s: {"description": "problem", "content": {PROBLEM: {"schema": schema}}} for s in statuses}


class Problem(Exception):
    """An error answered as a problem document."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def problem_response(status: int, code: str, detail: str, instance: str) -> JSONResponse:
    """A problem document; its detail and instance never hold a resident id whole (masked)."""
    detail, instance = mask_text(detail), mask_text(instance)
    body = {
        "type": f"https://guihua.example/problems/{code}",
        "title": code.replace("_", " "),
        "status": status,
        "detail": detail,
        "code": code,
        "instance": instance,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


async def on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(exc.status, exc.code, exc.detail, request.url.path)


async def on_guihua_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GuihuaError)
    response = problem_response(exc.status, exc.code, exc.message, request.url.path)
    if isinstance(exc, StoreBusy):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    return problem_response(
        422, InvalidInput.code, f"{where}: {first.get('msg', 'invalid')}", request.url.path
    )


async def on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    response = problem_response(exc.status_code, code, str(exc.detail), request.url.path)
    response.headers.update(exc.headers or {})  # 405 carries Allow
    return response
