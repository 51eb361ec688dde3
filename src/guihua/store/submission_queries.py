"""Submissions as first-class records, and the figures of departments' feeds.

Every statement here reads ``submissions`` and the per-submission counts
(``submission_metrics``, ``submission_rejects``), never ``records``: a feed's status
costs the same on a city of 13 million residents as on a town.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, and_, case, func, insert, or_, select, update

from guihua.core.feeds import FeedFigures
from guihua.kit.clock import as_date
from guihua.store import schema

_s, _m, _r = schema.submissions, schema.submission_metrics, schema.submission_rejects

# --------------------------------------------------------------------------- written at ingest


def put_counts(
    conn: Connection,
    submission_id: int,
    department: str,
    day: dt.date,
    rows_by_metric: Mapping[str, tuple[int, int]],
    rejected_by_reason: Mapping[str, int],
) -> None:
    """What one submission carried: valid and old rows per metric, rejected rows per reason."""
    if rows_by_metric:
        conn.execute(
            insert(_m),
            [
                {"submission_id": submission_id, "metric": m, "rows": n, "old_rows": old}
                for m, (n, old) in sorted(rows_by_metric.items())
            ],
        )
    if rejected_by_reason:
        conn.execute(
            insert(_r),
            [
                {
                    "submission_id": submission_id,
                    "reason": reason,
                    "rows": n,
                    "department": department,
                    "received_on": day,
                }
                for reason, n in sorted(rejected_by_reason.items())
            ],
        )


def set_warnings(conn: Connection, submission_id: int, warnings: list[dict[str, Any]]) -> None:
    conn.execute(
        update(_s).where(_s.c.id == submission_id).values(warnings=json.dumps(warnings, ensure_ascii=False))
    )


def _feed_submissions() -> Any:
    """Submissions that are a department's feed (not a reviewer's correction)."""
    return _s.c.due_process.is_(False)


def earlier_submissions(conn: Connection, department: str, before_id: int) -> int:
    """How many feed submissions the department made before ``before_id``."""
    stmt = select(func.count()).where(_s.c.department == department, _s.c.id < before_id, _feed_submissions())
    return int(conn.execute(stmt).scalar_one())


def volume_history(
    conn: Connection, department: str, before_id: int, metrics: list[str], lookback: int
) -> dict[str, list[int]]:
    """Per metric, its valid rows in the department's last ``lookback`` earlier submissions carrying it
    (newest first)."""
    found: dict[str, list[int]] = {}
    for metric in metrics:
        stmt = (
            select(_m.c.rows)
            .select_from(_m.join(_s, _s.c.id == _m.c.submission_id))
            .where(
                _s.c.department == department,
                _s.c.id < before_id,
                _feed_submissions(),
                _m.c.metric == metric,
            )
            .order_by(_s.c.id.desc())
            .limit(lookback)
        )
        found[metric] = [int(n) for (n,) in conn.execute(stmt)]
    return found


def metrics_carried_lately(conn: Connection, department: str, before_id: int, last: int) -> frozenset[str]:
    """The metrics that each of the department's last ``last`` earlier submissions with valid rows carried
    (empty when it has fewer)."""
    recent = (
        select(_s.c.id)
        .where(
            _s.c.department == department,
            _s.c.id < before_id,
            _feed_submissions(),
            select(_m.c.submission_id).where(_m.c.submission_id == _s.c.id).exists(),
        )
        .order_by(_s.c.id.desc())
        .limit(last)
    )
    ids = [int(i) for (i,) in conn.execute(recent)]
    if len(ids) < last:
        return frozenset()
    rows = conn.execute(
        select(_m.c.metric, func.count()).where(_m.c.submission_id.in_(ids)).group_by(_m.c.metric)
    )
    return frozenset(str(m) for m, n in rows if int(n) == len(ids))


# --------------------------------------------------------------------------- submissions, listed


def list_submissions(conn: Connection, department: str | None, limit: int) -> list[dict[str, Any]]:
    """Submissions, newest first, each with its rejects by reason and its warnings."""
    stmt = select(_s).order_by(_s.c.id.desc()).limit(limit)
    if department is not None:
        stmt = stmt.where(_s.c.department == department)
    rows = [dict(r) for r in conn.execute(stmt).mappings()]
    reasons: dict[int, dict[str, int]] = {}
    if rows:
        found = conn.execute(
            select(_r.c.submission_id, _r.c.reason, _r.c.rows)
            .where(_r.c.submission_id.in_([r["id"] for r in rows]))
            .order_by(_r.c.submission_id, _r.c.reason)
        )
        for sub, reason, n in found:
            reasons.setdefault(int(sub), {})[str(reason)] = int(n)
    return [_submission(r, reasons.get(int(r["id"]), {})) for r in rows]


_COUNTS = ("accepted", "duplicates", "corrected", "superseded", "rejected")


def _submission(row: dict[str, Any], reasons: dict[str, int]) -> dict[str, Any]:
    received = row["received_at"]
    if isinstance(received, dt.datetime):
        aware = received if received.tzinfo else received.replace(tzinfo=dt.UTC)
        received = aware.astimezone(dt.UTC).isoformat(timespec="seconds")
    counts = {c: int(row[c] or 0) for c in _COUNTS}
    day = as_date(row["received_on"])
    return {
        "id": int(row["id"]),
        "department": row["department"],
        "received_at": received,
        "received_on": day.isoformat() if day else None,
        "file_name": row["file_name"],
        "origin": row["origin"],
        "sha256": row["sha256"],
        "size_bytes": row["size_bytes"],
        "sent_by": row["sent_by"],
        "by_review": bool(row["due_process"]),
        "rows": sum(counts.values()),
        **counts,
        "rejected_by_reason": reasons,
        "catalog_version": row["catalog_version"],
        "duration_ms": row["duration_ms"],
        "warnings": json.loads(row["warnings"]) if row["warnings"] else [],
    }


# --------------------------------------------------------------------------- feed figures


def _rows() -> Any:
    return _s.c.accepted + _s.c.duplicates + _s.c.corrected + _s.c.superseded + _s.c.rejected


def feed_figures(conn: Connection, at: dt.date, window_days: int) -> dict[str, FeedFigures]:
    """Per department that ever sent (up to and including ``at``): its feed's figures."""
    since = at - dt.timedelta(days=window_days)  # the window is (since, at]
    upto = and_(_feed_submissions(), or_(_s.c.received_on.is_(None), _s.c.received_on <= at))
    recent = _s.c.received_on > since

    def within(value: Any) -> Any:
        return func.coalesce(func.sum(case((recent, value), else_=0)), 0)

    totals = (
        select(
            _s.c.department,
            func.count().label("submissions"),
            func.min(_s.c.received_on).label("first_on"),
            func.max(_s.c.received_on).label("last_on"),
            *[func.coalesce(func.sum(_s.c[c]), 0).label(c) for c in _COUNTS],
            within(1).label("submissions_30d"),
            within(_rows()).label("rows_30d"),
            within(_s.c.accepted).label("accepted_30d"),
            within(_s.c.rejected).label("rejected_30d"),
        )
        .where(upto)
        .group_by(_s.c.department)
    )
    out: dict[str, FeedFigures] = {}
    for r in conn.execute(totals).mappings():
        counts = {c: int(r[c]) for c in _COUNTS}
        out[r["department"]] = FeedFigures(
            submissions=int(r["submissions"]),
            first_submission_on=as_date(r["first_on"]),
            last_submission_on=as_date(r["last_on"]),
            rows=sum(counts.values()),
            accepted=counts["accepted"],
            duplicates=counts["duplicates"],
            corrected=counts["corrected"],
            superseded=counts["superseded"],
            rejected=counts["rejected"],
            submissions_30d=int(r["submissions_30d"]),
            rows_30d=int(r["rows_30d"]),
            accepted_30d=int(r["accepted_30d"]),
            rejected_30d=int(r["rejected_30d"]),
        )
    if not out:
        return out
    for dept, f in out.items():  # one probe of (department, received_on) each
        last = conn.execute(
            select(_s.c.id, _rows().label("rows"), _s.c.rejected)
            .where(upto, _s.c.department == dept)
            .order_by(_s.c.received_on.desc(), _s.c.id.desc())
            .limit(1)
        ).one()
        f.last_submission_id, f.last_rows, f.last_rejected = int(last.id), int(last.rows), int(last.rejected)
    # reviewers' corrections never reject a row (a rejected correction is refused whole): no join needed
    reasons = (
        select(
            _r.c.department,
            _r.c.reason,
            func.sum(_r.c.rows).label("rows"),
            func.coalesce(func.sum(case((_r.c.received_on > since, _r.c.rows), else_=0)), 0).label(
                "rows_30d"
            ),
        )
        .where(_r.c.received_on <= at)
        .group_by(_r.c.department, _r.c.reason)
    )
    for dept, reason, n, n_30d in conn.execute(reasons):
        out[dept].reasons[str(reason)] = int(n)
        if int(n_30d):
            out[dept].reasons_30d[str(reason)] = int(n_30d)
    warned = (
        select(_s.c.department, _s.c.id, _s.c.received_on, _s.c.warnings)
        .where(upto, recent, _s.c.warnings.is_not(None))
        .order_by(_s.c.id.desc())
    )
    for dept, sub, day, text in conn.execute(warned):
        received = as_date(day)
        for w in json.loads(text):
            out[dept].warnings.append(
                {"submission_id": int(sub), "received_on": received.isoformat() if received else None, **w}
            )
    return out
