"""A department's stored records: retract one, see what was refused, write it back to be fixed.

Submitting records is :mod:`guihua.usecases.submissions`.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from guihua.core.errors import Conflict, InvalidInput, NotFound
from guihua.core.policy import Actor
from guihua.intake.chunks import BASE_COLUMNS
from guihua.kit.clock import now, today
from guihua.store import record_queries
from guihua.store.catalog_queries import ensure_catalog
from guihua.store.database import Store
from guihua.usecases import audit


def retract(store: Store, department: str, source_id: str, actor: Actor | None = None) -> dt.datetime:
    """Retract a department's record: it no longer counts; its history stays.

    A retraction carries no data, so it needs no agreement in force: a
    department can always withdraw what it sent.
    """
    with store.begin() as conn:
        catalog = ensure_catalog(conn).catalog
        if department not in catalog.department_by_code:
            raise NotFound(f"unknown department {department!r}")
        row = record_queries.current_record(conn, department, source_id)
        if row is None:
            raise NotFound(f"no record {source_id!r} from {department}")
        if row.retracted_at is not None:
            since = str(row.retracted_at)[:10]
            raise Conflict(f"record {source_id!r} from {department} was already retracted on {since}")
        when = now()
        record_queries.mark_retracted(conn, int(row.id), when, today(catalog.scheme.timezone))
        audit.append(
            conn,
            actor or audit.cli_actor(),
            "records.retract",
            subject_id=row.subject_id,
            detail=f"{department} {source_id}",
        )
    return when


MAX_ID = 2**63 - 1  # what a store's BIGINT holds


def list_rejects(
    store: Store,
    department: str | None = None,
    limit: int | None = 1000,
    submission: int | None = None,
    open_only: bool = False,
) -> list[dict[str, object]]:
    """Quarantined rows, newest submission first, with reason, line and the raw row.

    ``submission``: only the rows that submission refused (a row a file sent again refuses once
    more is one row, listed under every submission that refused it); ``open_only``: only rows whose
    key has not been accepted since (see :func:`guihua.store.record_queries.rejects`).
    ``limit`` None: every row.
    """
    with store.begin() as conn:
        rows = _rejects_in(conn, department, limit, submission, open_only)
    return [_reject_out(r) for r in rows]


def _rejects_in(
    conn: Connection,
    department: str | None,
    limit: int | None,
    submission: int | None,
    open_only: bool,
    oldest_first: bool = False,
) -> list[dict[str, Any]]:
    if submission is not None:
        if not 1 <= submission <= MAX_ID:
            raise InvalidInput(f"no submission {submission}: submission numbers start at 1")
        found = record_queries.submission_department(conn, submission)
        if found is None or (department and found != department):
            raise NotFound(f"no submission {submission}" + (f" from {department}" if department else ""))
    return record_queries.rejects(conn, department, limit, submission, open_only, oldest_first)


def _reject_out(r: dict[str, Any]) -> dict[str, object]:
    return {
        "submission_id": r["submission_id"],
        "submissions": r["submissions"],
        "department": r["department"],
        "line": r["line"],
        "reason": r["reason"],
        "detail": r["detail"],
        "source_id": r["source_id"],
        "raw": r["raw"],
        "received_at": str(r["received_at"])[:19],
        "open": r["open"],
    }


# --------------------------------------------------------------------------- rejects back to the department

NOTE_COLUMNS = ("line", "reason", "detail")  # what ``write_rejects`` adds after the department's columns


def write_rejects(
    store: Store,
    out: Path,
    department: str | None = None,
    submission: int | None = None,
    open_only: bool = False,
    limit: int | None = None,
    actor: Actor | None = None,
) -> RejectsFile:
    """Quarantined rows written back as a CSV file in the department's own columns, to fix and resend.

    The columns are those the rows were sent with (for JSON Lines, the base keys and then each
    field), in the order first seen, then ``line``, ``reason`` and ``detail`` (and ``raw``, the text
    as received, when a row could not be split into cells: it is to be typed again). A note column
    whose name a department column already has is prefixed ``reject_``. Before sending the file
    again, the clerk deletes (or empties) the note columns: ingest reads any other non-empty column
    as a field (spec section 3). UTF-8 with a byte-order mark, which spreadsheets and ingest read.
    """
    if out.suffix.lower() != ".csv":
        raise InvalidInput(f"cannot write {out.name}: rejects are written as CSV; use a .csv file name")
    if not out.parent.exists():
        raise InvalidInput(f"cannot write {out}: folder {out.parent} does not exist")
    with store.begin() as conn:
        rows = _rejects_in(conn, department, limit, submission, open_only, oldest_first=True)
    departments = sorted({str(r["department"]) for r in rows})
    if len(departments) > 1:
        raise InvalidInput(
            f"the rows come from {len(departments)} departments ({', '.join(departments)}): each sends its "
            "own file; add --department"
        )
    cells = [_cells(r["raw"]) for r in rows]
    columns = list(dict.fromkeys(name for row in cells if row is not None for name in row))
    columns += [c for c in BASE_COLUMNS if c not in columns]
    notes = list(NOTE_COLUMNS) + (["raw"] if any(row is None for row in cells) else [])
    named = {note: _free_name(note, columns) for note in notes}
    try:
        with out.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([*columns, *named.values()])
            for r, row in zip(rows, cells, strict=True):
                given = row or {}
                note = {"line": r["line"], "reason": r["reason"], "detail": r["detail"]}
                if "raw" in named:
                    note["raw"] = r["raw"] if row is None else ""
                writer.writerow([*(given.get(c, "") for c in columns), *(note[n] for n in named)])
    except OSError as exc:
        raise InvalidInput(f"cannot write {out}: {exc.strerror}") from exc
    audit.record(
        store, actor or audit.cli_actor(), "rejects.export", detail=f"{len(rows)} rows to {out.name}"
    )
    return RejectsFile(out, len(rows), list(named.values()))


@dataclass(frozen=True)
class RejectsFile:
    """A written file of rejects: where, how many rows, the note columns to delete before resending."""

    path: Path
    rows: int
    note_columns: list[str]


def _free_name(name: str, taken: list[str]) -> str:
    while name in taken:
        name = f"reject_{name}"
    return name


def _cells(raw: str) -> dict[str, str] | None:
    """A quarantined row as the department's cells, or None when it could not be split into cells.

    CSV and Parquet rows are kept as a JSON object of their cells; JSON Lines rows as the line
    sent, whose ``fields`` object is spread into one cell per field, as a CSV file holds them.
    """
    try:
        obj = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    fields = obj.get("fields")
    if not isinstance(fields, dict):  # a CSV or Parquet row: its cells in the file's order
        return {str(name): _cell(value) for name, value in obj.items()}
    cells = {name: _cell(obj.get(name)) for name in BASE_COLUMNS}
    cells |= {str(name): _cell(value) for name, value in obj.items() if name not in (*BASE_COLUMNS, "fields")}
    return cells | {str(name): _cell(value) for name, value in fields.items()}


def _cell(value: object) -> str:
    """A JSON value as a CSV cell: text as is, true/false, numbers as written, objects as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
