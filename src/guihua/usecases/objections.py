"""Objections (spec section 7): filing, listing with their state, and a reviewer's decision.

What an objection does to the score, and its state at any date, are the
engine's rules (:mod:`guihua.engine.objection_state`): scores stay a pure
function of what is stored. This module keeps who, when and why for every step.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Connection

from guihua.core.errors import Conflict, InvalidInput, NotFound
from guihua.core.policy import Actor
from guihua.core.results import Objection
from guihua.engine.objection_state import DECISIONS, objections_at, suspends_on
from guihua.intake.jsonl_reader import object_chunk
from guihua.kit.clock import as_date, now
from guihua.store import notice_queries, objection_queries, record_queries
from guihua.store.catalog_queries import active_catalog
from guihua.store.database import AnyRow, Store
from guihua.store.engine_queries import query_rows
from guihua.usecases import audit
from guihua.usecases.scores import scheme_day
from guihua.usecases.subjects import check_subject
from guihua.usecases.submissions import Submission, ingest_in

MAX_REASON = 2000


def _day(value: Any) -> str | None:
    day = as_date(value)
    return day.isoformat() if day else None


def _view(row: dict[str, Any]) -> Objection:
    """An objection as the engine states it (``state`` at the date asked)."""
    return Objection(
        id=int(row["id"]),
        subject_id=row["subject_id"],
        department=row["department"],
        source_id=row["source_id"],
        record_version=int(row["record_version"]),
        reason=row["reason"],
        filed_on=str(_day(row["filed_on"])),
        suspends_on=str(_day(row["suspends_on"])),
        filed_by=row["filed_by"],
        state=str(row["state"]),
        decided_on=_day(row["decided_on"]),
        decided_by=row["decided_by"],
        decision_reason=row["decision_reason"],
    )


def _reason(text: str | None, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput(f"give a reason for the {what}: it is kept and shown to the resident")
    if len(text) > MAX_REASON:
        raise InvalidInput(f"the reason is {len(text)} characters long; keep it under {MAX_REASON}")
    return text


def _states(conn: Connection, day: dt.date, subject_id: str | None = None) -> dict[int, dict[str, Any]]:
    """Every objection's (or one subject's) state at ``day``, by id, from the engine."""
    catalog = active_catalog(conn).catalog
    return {int(r["id"]): r for r in query_rows(conn, objections_at, catalog, day, subject_id)}


def _with_state(conn: Connection, row: AnyRow, day: dt.date) -> Objection:
    state = _states(conn, day, row.subject_id)[int(row.id)]["state"]
    return _view({**row._asdict(), "state": state})


def file(
    store: Store, subject_id: str, department: str, source_id: str, reason: str, actor: Actor | None = None
) -> Objection:
    """A resident objects to one of its current records; from today the record is disputed."""
    sid, why, actor = check_subject(subject_id), _reason(reason, "objection"), actor or audit.cli_actor()
    with store.begin() as conn:
        filed_on = scheme_day(active_catalog(conn), None)
        record = record_queries.current_record(conn, department, source_id)
        if record is None or record.subject_id != sid:
            raise NotFound(f"resident {sid} has no record {source_id!r} from {department}")
        if record.retracted_at is not None:
            raise InvalidInput(f"record {source_id!r} from {department} was retracted: it no longer counts")
        _refuse_second(conn, department, source_id, int(record.version))
        objection_id = objection_queries.add(
            conn,
            {
                "subject_id": sid,
                "department": department,
                "source_id": source_id,
                "record_version": int(record.version),
                "reason": why,
                "filed_on": filed_on,
                "suspends_on": suspends_on(filed_on),
                "filed_at": now(),
                "filed_by": actor.account,
            },
        )
        audit.append(
            conn,
            actor,
            "objection.file",
            subject_id=sid,
            detail=f"objection {objection_id}: {department} {source_id}",
        )
        row = objection_queries.get(conn, objection_id)
        assert row is not None
        return _with_state(conn, row, filed_on)


def _refuse_second(conn: Connection, department: str, source_id: str, version: int) -> None:
    """One objection at a time per record, and none again to a version already decided."""
    for row in objection_queries.of_key(conn, department, source_id):
        if row.decision is None:
            raise Conflict(f"objection {row.id} to this record is already open (filed {row.filed_on})")
        if row.record_version == version:
            raise Conflict(
                f"objection {row.id} to this version of the record was decided on {row.decided_on} "
                f"({row.decision}); only a new version of the record can be objected to again"
            )


def decide(
    store: Store,
    objection_id: int,
    decision: str,
    reason: str,
    actor: Actor | None = None,
    changes: dict[str, Any] | None = None,
    occurred_at: dt.date | None = None,
) -> Objection:
    """A reviewer upholds, corrects (a new version of the record) or revokes; the resident is told."""
    if decision not in DECISIONS:
        raise InvalidInput(f"unknown decision {decision!r}; use one of: {', '.join(DECISIONS)}")
    why, actor = _reason(reason, "decision"), actor or audit.cli_actor()
    if decision != "correct" and (changes or occurred_at):
        raise InvalidInput("field changes and a new date only go with the decision 'correct'")
    when = now()
    with store.begin() as conn:
        decided_on = scheme_day(active_catalog(conn), None)
        row = objection_queries.get(conn, objection_id)
        if row is None:
            raise NotFound(f"no objection {objection_id}")
        if row.decision is not None:
            raise Conflict(
                f"objection {objection_id} was already decided on {row.decided_on} ({row.decision})"
            )
        if decision == "correct":
            _correct(conn, row, changes or {}, occurred_at, actor, decided_on)
        outcome = DECISIONS[decision]
        objection_queries.record_decision(conn, objection_id, outcome, decided_on, when, actor.account, why)
        notice_queries.create_decision(conn, row, outcome, when, decided_on)
        audit.append(
            conn,
            actor,
            f"objection.{decision}",
            subject_id=row.subject_id,
            detail=f"objection {objection_id}",
        )
        decided = objection_queries.get(conn, objection_id)
        assert decided is not None
        return _with_state(conn, decided, decided_on)


def _correct(
    conn: Connection,
    objection: AnyRow,
    changes: dict[str, Any],
    occurred_at: dt.date | None,
    actor: Actor,
    day: dt.date,
) -> None:
    """Store the corrected version through ingestion (validated and matched like any record, received
    on the decision day)."""
    if not changes and occurred_at is None:
        raise InvalidInput("a correction needs at least one changed field (--set NAME=VALUE) or a new date")
    current = record_queries.current_record(conn, objection.department, objection.source_id)
    assert current is not None
    row = {
        "source_id": current.source_id,
        "subject_id": current.subject_id,
        "metric": current.metric,
        "occurred_at": (occurred_at or as_date(current.occurred_at) or day).isoformat(),
        "fields": {**json.loads(current.fields), **changes},
    }
    sent = Submission(
        objection.department, f"objection {objection.id}", day, actor, keep_outcomes=True, due_process=True
    )
    result = ingest_in(conn, [object_chunk([row])], sent)
    outcome = (result.outcomes or [{}])[0]
    if outcome.get("outcome") == "rejected":
        raise InvalidInput(
            f"the correction is not a valid record: {outcome.get('reason')}: {outcome.get('detail')}"
        )
    if outcome.get("outcome") == "duplicate":
        raise InvalidInput(
            "the correction equals the record as stored: uphold it instead, or change something"
        )


def subject_objections(
    store: Store,
    subject_id: str,
    actor: Actor | None = None,
    purpose: str | None = None,
    open_only: bool = False,
    overdue_only: bool = False,
) -> list[Objection]:
    """One resident's objections with their state today; the read is audited."""
    sid = check_subject(subject_id)
    rows = list_objections(store, open_only, overdue_only, subject_id=sid)
    audit.record(store, actor or audit.cli_actor(), "subject.objections", subject_id=sid, purpose=purpose)
    return rows


def list_objections(
    store: Store,
    open_only: bool = False,
    overdue_only: bool = False,
    department: str | None = None,
    subject_id: str | None = None,
    at: dt.date | None = None,
    limit: int = 1000,
) -> list[Objection]:
    """Objections, oldest first, with their state at ``at`` (default today).

    ``open_only``: undecided (disputed or suspended); ``overdue_only``:
    undecided past 30 days, so the record is suspended.
    """
    sid = check_subject(subject_id) if subject_id else None
    with store.begin() as conn:
        day = scheme_day(active_catalog(conn), at)
        rows = list(_states(conn, day, sid).values())
    wanted = {"open", "suspended"} if open_only else None
    if overdue_only:
        wanted = {"suspended"}
    picked = [
        r
        for r in rows
        if r["state"] is not None  # filed after the day asked about
        and (wanted is None or r["state"] in wanted)
        and (department is None or r["department"] == department)
    ]
    return [_view(r) for r in picked[:limit]]
