"""Departments' feeds: submissions, feed status and feed notices (operators, auditors; a department its own).

Nothing here holds a resident's data. The public, department-level figures are
``GET /api/v1/stats/feeds`` (:mod:`guihua.http.public_routes`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from guihua.core import policy
from guihua.http.auth import enforce, store_of
from guihua.http.params import At, Who
from guihua.usecases import feeds

router = APIRouter(prefix="/api/v1", tags=["feeds"])

DepartmentCode = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Only this department (a department's account: its own, the default)",
    ),
]
Limit = Annotated[int, Query(ge=1, le=feeds.MAX_LIMIT)]


def _scope(request: Request, who: Any, department: str | None, action: str) -> str | None:
    """The department the caller may read (its own for a department's account), after the policy."""
    enforce(request, who, policy.read_feeds(who.actor, department), action)
    return policy.department_of(who.actor) or department


@router.get("/submissions")
def submissions(
    request: Request, who: Who, department: DepartmentCode = None, limit: Limit = 100
) -> dict[str, Any]:
    """Submissions, newest first: file name, SHA-256, size, account, rows by outcome, rejects by
    reason, catalog version, duration, quality warnings."""
    scope = _scope(request, who, department, "submissions.list")
    rows = feeds.list_submissions(store_of(request), scope, limit)
    return {"count": len(rows), "submissions": rows}


@router.get("/feeds")
def feed_status(
    request: Request, who: Who, at: At = None, department: DepartmentCode = None
) -> dict[str, Any]:
    """Each department's feed on ``at``: agreement in force, submissions, last one, accepted and
    rejected in the last 30 days and overall, reject rate and top reasons, overdue, silent,
    failing, warnings (a department's account: its own row)."""
    scope = _scope(request, who, department, "feeds.read")
    day, rows = feeds.feed_status(store_of(request), at, scope)
    return {"at": day.isoformat(), "feeds": [f.as_dict() for f in rows]}


@router.get("/feed-notices")
def feed_notices(
    request: Request, who: Who, department: DepartmentCode = None, limit: Limit = 100
) -> dict[str, Any]:
    """What departments were told about their feeds (alerts, quality warnings), with delivery states."""
    scope = _scope(request, who, department, "feed_notices.read")
    rows = feeds.feed_notices(store_of(request), scope, limit)
    return {"count": len(rows), "notices": rows}
