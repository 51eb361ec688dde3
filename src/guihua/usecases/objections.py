"""Objections (spec section 7): filing, the 30-day suspension, and a reviewer's decision.

What an objection does to the score is the engine's business
(:func:`guihua.engine.score.withheld`): it reads ``suspends_on``, ``decided_on``
and ``decision`` from this table, so a score at any date stays a pure function
of what is stored. This module keeps who, when and why for every step.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from guihua.core.errors import Conflict, InvalidInput, NotFound
from guihua.ingest.readers import object_chunk
from guihua.kit.clock import now, today
from guihua.store import schema
from guihua.store.database import Store
from guihua.usecases import audit, ingest, notices
from guihua.usecases.subjects import check_subject

SUSPENSION_DAYS = 30
DECISIONS = {"uphold": "upheld", "correct": "corrected", "revoke": "revoked"}
MAX_REASON = 2000


@dataclass
class Objection:
    id: int
    subject_id: str
    department: str
    source_id: str
    record_version: int
    reason: str
    filed_on: str
    suspends_on: str
    filed_by: str
    state: str  # open | suspended | upheld | corrected | revoked
    decided_on: str | None
    decided_by: str | None
    decision_reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def state_at(row: Any, at: dt.date) -> str:
    """open (disputed, still counting), suspended (30 days passed undecided), or the decision."""
    decided_on = _date(row.decided_on)
    if row.decision is not None and decided_on is not None and decided_on <= at:
        return str(row.decision)
    return "suspended" if _date(row.suspends_on) <= at else "open"  # type: ignore[operator]


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _view(row: Any, at: dt.date) -> Objection:
    return Objection(
        id=int(row.id),
        subject_id=row.subject_id,
        department=row.department,
        source_id=row.source_id,
        record_version=int(row.record_version),
        reason=row.reason,
        filed_on=str(_date(row.filed_on)),
        suspends_on=str(_date(row.suspends_on)),
        filed_by=row.filed_by,
        state=state_at(row, at),
        decided_on=str(_date(row.decided_on)) if row.decided_on is not None else None,
        decided_by=row.decided_by,
        decision_reason=row.decision_reason,
    )


def _reason(text: str | None, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput(f"give a reason for the {what}: it is kept and shown to the resident")
    if len(text) > MAX_REASON:
        raise InvalidInput(f"the reason is {len(text)} characters long; keep it under {MAX_REASON}")
    return text


def file(
    store: Store,
    subject_id: str,
    department: str,
    source_id: str,
    reason: str,
    actor: audit.Actor | None = None,
) -> Objection:
    """A resident objects to one of its current records; from today the record is disputed."""
    sid, why, actor = check_subject(subject_id), _reason(reason, "objection"), actor or audit.cli_actor()
    r, o = schema.records, schema.objections
    filed_on = today()
    with store.begin() as conn:
        record = conn.execute(
            select(r.c.subject_id, r.c.version, r.c.retracted_at).where(
                r.c.department == department, r.c.source_id == source_id, r.c.is_current
            )
        ).first()
        if record is None or record.subject_id != sid:
            raise NotFound(f"resident {sid} has no record {source_id!r} from {department}")
        if record.retracted_at is not None:
            raise InvalidInput(f"record {source_id!r} from {department} was retracted: it no longer counts")
        _refuse_second(conn, department, source_id, int(record.version))
        values = {
            "subject_id": sid,
            "department": department,
            "source_id": source_id,
            "record_version": int(record.version),
            "reason": why,
            "filed_on": filed_on,
            "suspends_on": filed_on + dt.timedelta(days=SUSPENSION_DAYS),
            "filed_at": now(),
            "filed_by": actor.account,
        }
        key = conn.execute(insert(o).values(**values)).inserted_primary_key
        assert key is not None
        audit.append(
            conn,
            actor,
            "objection.file",
            subject_id=sid,
            detail=f"objection {key[0]}: {department} {source_id}",
        )
        row = conn.execute(select(o).where(o.c.id == key[0])).one()
    return _view(row, filed_on)


def _refuse_second(conn: Connection, department: str, source_id: str, version: int) -> None:
    """One objection at a time per record, and none again to a version already decided."""
    o = schema.objections
    rows = conn.execute(
        select(o).where(o.c.department == department, o.c.source_id == source_id).order_by(o.c.id)
    ).all()
    for row in rows:
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
    actor: audit.Actor | None = None,
    changes: dict[str, Any] | None = None,
    occurred_at: dt.date | None = None,
) -> Objection:
    """A reviewer upholds, corrects (a new version of the record) or revokes; the resident is told."""
    if decision not in DECISIONS:
        raise InvalidInput(f"unknown decision {decision!r}; use one of: {', '.join(DECISIONS)}")
    why, actor = _reason(reason, "decision"), actor or audit.cli_actor()
    if decision != "correct" and (changes or occurred_at):
        raise InvalidInput("field changes and a new date only go with the decision 'correct'")
    o = schema.objections
    decided_on, when = today(), now()
    with store.begin() as conn:
        row = conn.execute(select(o).where(o.c.id == objection_id)).first()
        if row is None:
            raise NotFound(f"no objection {objection_id}")
        if row.decision is not None:
            raise Conflict(
                f"objection {objection_id} was already decided on {row.decided_on} ({row.decision})"
            )
        if decision == "correct":
            _correct(conn, row, changes or {}, occurred_at, actor, objection_id)
        outcome = DECISIONS[decision]
        conn.execute(
            update(o)
            .where(o.c.id == objection_id)
            .values(
                decision=outcome,
                decided_on=decided_on,
                decided_at=when,
                decided_by=actor.account,
                decision_reason=why,
            )
        )
        notices.create_decision(conn, row, outcome, when, decided_on)
        audit.append(
            conn,
            actor,
            f"objection.{decision}",
            subject_id=row.subject_id,
            detail=f"objection {objection_id}",
        )
        row = conn.execute(select(o).where(o.c.id == objection_id)).one()
    return _view(row, decided_on)


def _correct(
    conn: Connection,
    objection: Row[Any],
    changes: dict[str, Any],
    occurred_at: dt.date | None,
    actor: audit.Actor,
    objection_id: int,
) -> None:
    """Store the corrected version through ingestion, so it is validated and matched like any record."""
    if not changes and occurred_at is None:
        raise InvalidInput("a correction needs at least one changed field (--set NAME=VALUE) or a new date")
    r = schema.records
    current = conn.execute(
        select(r).where(
            r.c.department == objection.department, r.c.source_id == objection.source_id, r.c.is_current
        )
    ).one()
    row = {
        "source_id": current.source_id,
        "subject_id": current.subject_id,
        "metric": current.metric,
        "occurred_at": (occurred_at or _date(current.occurred_at)).isoformat(),  # type: ignore[union-attr]
        "fields": {**json.loads(current.fields), **changes},
    }
    result = ingest.ingest_in(
        conn,
        [object_chunk([row])],
        objection.department,
        f"objection {objection_id}",
        keep_outcomes=True,
        actor=actor,
    )
    outcome = (result.outcomes or [{}])[0]
    if outcome.get("outcome") == "rejected":
        raise InvalidInput(
            f"the correction is not a valid record: {outcome.get('reason')}: {outcome.get('detail')}"
        )
    if outcome.get("outcome") == "duplicate":
        raise InvalidInput(
            "the correction equals the record as stored: uphold it instead, or change something"
        )


def list_objections(
    store: Store,
    open_only: bool = False,
    overdue_only: bool = False,
    department: str | None = None,
    subject_id: str | None = None,
    at: dt.date | None = None,
    limit: int = 1000,
) -> list[Objection]:
    """Objections, oldest first; ``overdue`` = undecided past 30 days (the record is suspended)."""
    at = at or today()
    o = schema.objections
    stmt = select(o).order_by(o.c.id).limit(limit)
    if open_only or overdue_only:
        stmt = stmt.where(o.c.decision.is_(None))
    if overdue_only:
        stmt = stmt.where(o.c.suspends_on <= at)
    if department:
        stmt = stmt.where(o.c.department == department)
    if subject_id:
        stmt = stmt.where(o.c.subject_id == check_subject(subject_id))
    with store.begin() as conn:
        return [_view(row, at) for row in conn.execute(stmt).all()]


def states_by_record(conn: Connection, subject_id: str, at: dt.date) -> dict[tuple[str, str], str]:
    """The latest objection's state at ``at`` for each of a subject's records (for explanations)."""
    o = schema.objections
    rows = conn.execute(
        select(o).where(o.c.subject_id == subject_id, o.c.filed_on <= at).order_by(o.c.id)
    ).all()
    return {(row.department, row.source_id): state_at(row, at) for row in rows}
