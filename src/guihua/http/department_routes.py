"""A department's endpoints: submit records, retract one, read its own quarantine.

The department is always the token's: no department writes for another.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from guihua.core import policy
from guihua.http.auth import Caller, enforce, store_of
from guihua.http.params import SourceId, Who
from guihua.intake.jsonl_reader import object_chunk
from guihua.usecases import records, submissions

router = APIRouter(prefix="/api/v1", tags=["departments"])
MAX_RECORDS = 10_000


class RecordsIn(BaseModel):
    """Records in the JSON Lines shape of the spec; the department is always the token's."""

    records: list[Any] = Field(max_length=MAX_RECORDS)


def _department_of(request: Request, who: Caller, action: str) -> str:
    dept = policy.department_of(who.actor)
    enforce(request, who, None if dept else "only a department account may do this", action)
    assert dept is not None
    return dept


async def _payload(request: Request) -> submissions.Payload:
    """The request's body as received (FastAPI has read it already: this is the same bytes)."""
    return submissions.Payload.of_body(await request.body())


Payload = Annotated[submissions.Payload, Depends(_payload)]


def _line(outcome: dict[str, object]) -> int:
    line = outcome.get("line")
    return line if isinstance(line, int) else 0


@router.post("/records")
def submit(request: Request, body: RecordsIn, who: Who, payload: Payload) -> dict[str, Any]:
    """Up to 10,000 records; each gets its outcome (accepted, duplicate, corrected, superseded,
    rejected + reason), and the submission its number and the SHA-256 of the body. A department
    whose agreement is not in force is refused whole (403, ``agreement_not_in_force``)."""
    dept = _department_of(request, who, "records.submit")
    result = submissions.ingest_chunks(
        store_of(request),
        [object_chunk(body.records)],
        dept,
        f"api:{who.account.name}",
        keep_outcomes=True,
        actor=who.actor,
        payload=payload,
    )
    outcomes = sorted(result.outcomes or [], key=_line)
    return {
        **{k: v for k, v in result.as_dict().items() if k != "department"},
        "department": dept,
        "outcomes": [
            {"index": _line(o) - 1, **{k: v for k, v in o.items() if k != "line"}} for o in outcomes
        ],
    }


@router.delete("/records/{source_id}")
def retract(request: Request, source_id: SourceId, who: Who) -> dict[str, Any]:
    dept = _department_of(request, who, "records.retract")
    when = records.retract(store_of(request), dept, source_id, actor=who.actor)
    return {"department": dept, "source_id": source_id, "retracted_at": when.isoformat()}


@router.get("/rejects")
def rejects(
    request: Request,
    who: Who,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    submission: Annotated[
        int | None, Query(ge=1, le=records.MAX_ID, description="Only the rows this submission refused")
    ] = None,
    open_only: Annotated[
        bool, Query(alias="open", description="Only rows whose key has not been accepted since")
    ] = False,
) -> dict[str, Any]:
    """The calling department's own quarantine (a submission of another department is a 404)."""
    dept = _department_of(request, who, "rejects.read")
    rows = records.list_rejects(store_of(request), dept, limit, submission, open_only)
    return {"department": dept, "count": len(rows), "rejects": rows}
