"""The FastAPI application. Endpoints parse, authorise, call a use case and shape the answer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from guihua.core.errors import GuihuaError
from guihua.http import certificates, due_process, problems, reports
from guihua.http.auth import Caller, may_read_subject, refuse, store_of
from guihua.http.limits import DEFAULT_MAX_BODY, BodySizeLimit
from guihua.http.params import At, Who
from guihua.ingest.readers import object_chunk
from guihua.store.database import Store
from guihua.usecases import audit, ingest, scores
from guihua.usecases.catalogs import active_catalog

SUPPRESS_BELOW = 10  # public statistics never show a cell of fewer residents


MAX_RECORDS = 10_000


class RecordsIn(BaseModel):
    """Records in the JSON Lines shape of the spec; the department is always the token's."""

    records: list[Any] = Field(max_length=MAX_RECORDS)


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
    _routes(app)
    app.include_router(due_process.router)
    app.include_router(certificates.router)
    app.include_router(reports.router)
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


def _routes(app: FastAPI) -> None:
    @app.get("/api/v1/health", tags=["public"])
    def health(request: Request) -> dict[str, Any]:
        with store_of(request).begin() as conn:
            version = active_catalog(conn).version
        return {"status": "ok", "catalog_version": version}

    @app.get("/api/v1/stats/distribution", tags=["public"])
    def distribution(request: Request, at: At = None) -> dict[str, Any]:
        """Counts above, at and below base, defaulters and a histogram; cells under 10 suppressed."""
        d = scores.distribution(store_of(request), at)

        def cell(n: int) -> int | None:
            return n if n >= SUPPRESS_BELOW else None

        return {
            "at": d.at,
            "base": d.base,
            "subjects": cell(d.subjects),
            "above": cell(d.above),
            "at_base": cell(d.at_base),
            "below": cell(d.below),
            "defaulters": cell(d.defaulters),
            "histogram": [{**b, "count": cell(b["count"])} for b in d.histogram],
            "suppressed_below": SUPPRESS_BELOW,
        }

    # The two hot lookups run on the event loop: their store work is well under a millisecond on
    # SQLite, and two threadpool hand-offs per request (dependency + endpoint) cost 3x more than it.
    # Slow or remote stores would want an async driver instead (see docs/engine.md).
    @app.get("/api/v1/subjects/{subject_id}/score", tags=["residents"])
    async def score(
        request: Request, subject_id: str, who: Who, at: At = None, purpose: str | None = None
    ) -> dict[str, Any]:
        sid = may_read_subject(request, who, subject_id, purpose, "subject.score")
        s = scores.subject_score(store_of(request), sid, at, actor=who.actor, purpose=purpose)
        return {"subject_id": s.subject_id, "at": s.at, "score": s.score, "defaulter": s.defaulter}

    @app.get("/api/v1/subjects/{subject_id}/explanation", tags=["residents"])
    def explanation(
        request: Request, subject_id: str, who: Who, at: At = None, purpose: str | None = None
    ) -> dict[str, Any]:
        sid = may_read_subject(request, who, subject_id, purpose, "subject.explain")
        return scores.explain(store_of(request), sid, at, actor=who.actor, purpose=purpose).as_dict()

    @app.get("/api/v1/subjects/{subject_id}/access-log", tags=["residents"])
    def access_log(request: Request, subject_id: str, who: Who) -> dict[str, Any]:
        """Who read this resident's data, when, in which role and why: for the resident and auditors."""
        store = store_of(request)
        sid = scores.check_subject(subject_id)
        own = who.account.role == "resident" and who.account.subject_id == sid
        if not (own or who.account.role == "auditor"):
            raise refuse(store, who, "subject.access_log", "only the resident itself and auditors", sid)
        audit.record(store, who.actor, "subject.access_log", subject_id=sid)
        rows = audit.entries(store, sid, limit=1000)
        keys = ("at", "account", "role", "action", "purpose", "outcome")
        return {"subject_id": sid, "entries": [{k: r[k] for k in keys} for r in rows]}

    @app.get("/api/v1/perks/{code}/eligibility/{subject_id}", tags=["providers"])
    async def eligibility(
        request: Request, code: str, subject_id: str, who: Who, at: At = None
    ) -> dict[str, Any]:
        """For the provider that owns the perk only: eligible or not, never the score or the records."""
        store = store_of(request)
        with store.begin() as conn:
            catalog = active_catalog(conn).catalog
        perk = catalog.perk_by_code.get(code)
        if perk is None:
            raise problems.Problem(404, "not_found", f"no perk {code!r}")
        sid = scores.check_subject(subject_id)
        if who.account.role != "provider" or who.account.provider != perk.provider:
            raise refuse(store, who, "perk.eligibility", f"only {perk.provider} checks {code}", sid)
        s = scores.subject_score(store, sid, at, actor=who.actor, purpose=f"perk {code}")
        return {
            "perk": code,
            "subject_id": sid,
            "at": s.at,
            "eligible": scores.perk_eligibility(catalog, code, s).eligible,
        }

    @app.post("/api/v1/records", tags=["departments"])
    def submit(request: Request, body: RecordsIn, who: Who) -> dict[str, Any]:
        """Up to 10,000 records; each gets its outcome (accepted, duplicate, corrected, rejected + reason)."""
        dept = _department_of(request, who, "records.submit")
        result = ingest.ingest_chunks(
            store_of(request),
            [object_chunk(body.records)],
            dept,
            f"api:{who.account.name}",
            keep_outcomes=True,
            actor=who.actor,
        )
        outcomes = sorted(result.outcomes or [], key=_line)
        return {
            **{k: v for k, v in result.as_dict().items() if k != "department"},
            "department": dept,
            "outcomes": [
                {"index": _line(o) - 1, **{k: v for k, v in o.items() if k != "line"}} for o in outcomes
            ],
        }

    @app.delete("/api/v1/records/{source_id}", tags=["departments"])
    def retract(request: Request, source_id: str, who: Who) -> dict[str, Any]:
        dept = _department_of(request, who, "records.retract")
        when = ingest.retract(store_of(request), dept, source_id, actor=who.actor)
        return {"department": dept, "source_id": source_id, "retracted_at": when.isoformat()}

    @app.get("/api/v1/rejects", tags=["departments"])
    def rejects(
        request: Request, who: Who, limit: Annotated[int, Query(ge=1, le=10_000)] = 1000
    ) -> dict[str, Any]:
        """The calling department's own quarantine."""
        dept = _department_of(request, who, "rejects.read")
        rows = ingest.list_rejects(store_of(request), dept, limit)
        return {"department": dept, "count": len(rows), "rejects": rows}


def _department_of(request: Request, who: Caller, action: str) -> str:
    if who.account.role != "department" or not who.account.department:
        raise refuse(store_of(request), who, action, "only a department account may do this")
    return who.account.department


def _line(outcome: dict[str, object]) -> int:
    line = outcome.get("line")
    return line if isinstance(line, int) else 0
