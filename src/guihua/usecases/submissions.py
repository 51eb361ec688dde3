"""A department's submission: check the agreement, read, validate, classify, match, store.

One submission is one transaction: either every accepted record and every
quarantined row of it lands, or (on a file-level error) nothing does.
Idempotency (spec section 3) makes sending a file again safe: a key the
submission holds twice counts once (its last valid occurrence), and what is
already stored is a duplicate. Reading and checking run in a worker thread
ahead of storing (:mod:`guihua.usecases.pipeline`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from guihua.core.catalog import Catalog, Department
from guihua.core.errors import AgreementNotInForce, Conflict, NotFound, UnreadableFile
from guihua.core.policy import Actor
from guihua.engine.batch import BatchMatcher
from guihua.intake.chunks import RawChunk
from guihua.intake.readers import estimated_rows, read_chunks
from guihua.intake.seen_keys import SeenKeys
from guihua.intake.validation import ChunkValidator
from guihua.kit.clock import now, today
from guihua.store import notice_queries, record_mirror, record_queries
from guihua.store.catalog_queries import ensure_catalog
from guihua.store.database import Store
from guihua.store.dialect import single_writer
from guihua.usecases import audit, feeds
from guihua.usecases.pipeline import IngestResult as IngestResult
from guihua.usecases.pipeline import StoringStep, checked_ahead


@dataclass(frozen=True)
class Payload:
    """What was sent, byte for byte: its SHA-256 (hex) and size; the file's base name when it was a file."""

    sha256: str
    size_bytes: int
    file_name: str | None = None

    @classmethod
    def of_file(cls, path: Path) -> Payload:
        """The file's digest and size, read in blocks (never whole into memory)."""
        try:
            with path.open("rb") as fh:
                digest = hashlib.file_digest(fh, "sha256")
                size = fh.tell()
        except OSError as exc:
            raise UnreadableFile(f"cannot read {path.name}: {exc.strerror}") from exc
        return cls(digest.hexdigest(), size, path.name)

    @classmethod
    def of_body(cls, body: bytes) -> Payload:
        """An API request's body as received."""
        return cls(hashlib.sha256(body).hexdigest(), len(body))


@dataclass(frozen=True)
class Submission:
    """One department's submission: who sends what, on which day, and what the caller wants back."""

    department: str
    origin: str  # the file name, the API account, the objection a correction decides
    as_of: dt.date | None = None  # the day it is received (default: today in the scheme's zone)
    actor: Actor | None = None
    keep_outcomes: bool = False  # the outcome of every row (the API answers with them)
    size_hint: int = 0  # about how many rows (a load larger than the store is a bulk load)
    on_progress: Callable[[int], None] | None = None
    due_process: bool = False  # a reviewer's correction: due process, so no agreement is needed
    payload: Payload | None = None  # what was sent (None: not bytes, as a reviewer's correction)
    started: float | None = None  # time.monotonic() when receiving began (None: when storing begins)


def ingest_file(
    store: Store,
    path: Path,
    department: str,
    on_progress: Callable[[int], None] | None = None,
    as_of: dt.date | None = None,
    encoding: str = "utf-8",
) -> IngestResult:
    """Ingest a CSV, JSON Lines or Parquet file for ``department`` (``as_of``: the day it is received)."""
    started = time.monotonic()
    chunks = read_chunks(path, encoding=encoding)
    return ingest_chunks(
        store,
        chunks,
        department,
        str(path),
        on_progress,
        as_of,
        size_hint=estimated_rows(path),
        payload=Payload.of_file(path),
        started=started,
    )


def ingest_chunks(
    store: Store,
    chunks: Iterable[RawChunk],
    department: str,
    origin: str,
    on_progress: Callable[[int], None] | None = None,
    as_of: dt.date | None = None,
    keep_outcomes: bool = False,
    size_hint: int = 0,
    actor: Actor | None = None,
    payload: Payload | None = None,
    started: float | None = None,
) -> IngestResult:
    """One submission in its own transaction; refused whole when the agreement is not in force."""
    actor = actor or audit.cli_actor()
    started = time.monotonic() if started is None else started
    sent = Submission(
        department,
        origin,
        as_of,
        actor,
        keep_outcomes,
        size_hint,
        on_progress,
        payload=payload,
        started=started,
    )
    try:
        with store.begin(bulk=_mostly_new(store, size_hint)) as conn:
            result = ingest_in(conn, chunks, sent)
    except AgreementNotInForce as refused:
        audit.record(store, actor, "records.ingest", outcome="refused", detail=refused.message)
        raise
    except Exception as exc:  # the drivers report these differently (COPY goes around SQLAlchemy)
        if record_queries.is_current_key_clash(exc):
            raise Conflict(
                f"another submission from {department} stored some of the same source ids while this "
                "one was being stored; nothing from this one was kept: send it again (the records "
                "already stored will count as duplicates)"
            ) from None
        raise
    record_mirror.keep_current(store)
    return result


def submitting_department(catalog: Catalog, department: str, day: dt.date) -> Department:
    """The department, if it exists and its agreement is in force on ``day`` (spec section 3)."""
    dept = catalog.department_by_code.get(department)
    if dept is None:
        known = ", ".join(sorted(catalog.department_by_code)) or "none"
        raise NotFound(f"unknown department {department!r}; the catalog has: {known}")
    state = dept.agreement.state_on(day)
    if state != "in_force":
        a = dept.agreement
        terms = f"status {a.status}, valid from {a.valid_from or 'always'} to {a.valid_to or 'open'}"
        raise AgreementNotInForce(
            f"{department}'s data-sharing agreement is not in force on {day} ({state.replace('_', ' ')}: "
            f"{terms}); nothing of this submission was stored: keep the file and send it once the "
            "agreement is in force"
        )
    return dept


def ingest_in(conn: Connection, chunks: Iterable[RawChunk], sent: Submission) -> IngestResult:
    """:func:`ingest_chunks` in the caller's transaction (a reviewer's correction lands with its decision)."""
    started = time.monotonic() if sent.started is None else sent.started
    active = ensure_catalog(conn)
    catalog, department = active.catalog, sent.department
    day = sent.as_of or today(catalog.scheme.timezone)
    if not sent.due_process:
        submitting_department(catalog, department, day)
    elif department not in catalog.department_by_code:
        raise NotFound(f"unknown department {department!r}")
    assert active.version is not None
    received = now()
    actor = sent.actor or audit.cli_actor()
    sub_id = record_queries.open_submission(
        conn, department, sent.origin, active.version, received, _identity(sent, actor, day)
    )
    result = IngestResult(sub_id, department, active.version)
    if sent.payload is not None:
        result.sha256, result.size_bytes = sent.payload.sha256, sent.payload.size_bytes
    result.outcomes = [] if sent.keep_outcomes else None
    metrics = frozenset(catalog.department_by_code[department].metrics)
    step = StoringStep(
        conn,
        ChunkValidator(catalog, department, day),
        BatchMatcher(catalog, metrics),
        result,
        received,
        day,
        _seen_keys(conn, department, sent.size_hint),
    )
    _store_all(conn, step, chunks, sent.on_progress, sent.size_hint)
    feeds.after_submission(conn, catalog, result, day, sent.due_process)  # counts kept, quality warnings
    counts = (
        f"{result.accepted} accepted, {result.duplicates} duplicates, {result.corrected} corrected, "
        f"{result.superseded} superseded"
    )
    audit.append(
        conn,
        actor,
        "records.ingest",
        detail=f"{department} submission {sub_id}: {counts}, {result.rejected} rejected",
    )
    duration_ms = round((time.monotonic() - started) * 1000)
    record_queries.close_submission(conn, sub_id, result.counts(), duration_ms)
    return result


def _identity(sent: Submission, actor: Actor, day: dt.date) -> dict[str, object]:
    """What the submission row says about what was sent, by whom, on which day."""
    found: dict[str, object] = {"sent_by": actor.account, "received_on": day, "due_process": sent.due_process}
    if sent.payload is not None:
        p = sent.payload
        found |= {"sha256": p.sha256, "size_bytes": p.size_bytes, "file_name": p.file_name}
    return found


def _store_all(
    conn: Connection,
    step: StoringStep,
    chunks: Iterable[RawChunk],
    on_progress: Callable[[int], None] | None,
    size_hint: int,
) -> None:
    """Every chunk checked ahead and stored, then the notices the stored rows call for."""
    stored_before = record_queries.table_size_hint(conn)  # ids of this submission's rows are all above it
    record_queries.duplicates_reset(conn)
    try:
        with record_queries.bulk_load(conn, enabled=size_hint > stored_before):
            with closing(checked_ahead(chunks, step.check)) as checked_chunks:
                for chunk, checked in checked_chunks:
                    step.run(checked)
                    if on_progress:
                        on_progress(chunk.table.num_rows + len(chunk.unreadable))
            # before the deferred indexes are built; the id range keeps it to this submission's rows
            scope = (step.result.submission_id, stored_before)
            notice_queries.create_for_records(conn, step.validator.catalog, step.day, step.received, scope)
    finally:
        step.matcher.close()


def _mostly_new(store: Store, size_hint: int) -> bool:
    """Whether a submission of about ``size_hint`` rows outnumbers what the store holds."""
    if not size_hint:
        return False
    with store.begin() as conn:
        return size_hint > record_queries.table_size_hint(conn)


def _seen_keys(conn: Connection, department: str, size_hint: int) -> SeenKeys | None:
    """A filter of the keys this submission stores, when only they can have stored versions.

    That is when the department has no current records yet. SQLite only: there
    the submission row already written holds the store's write lock, so no
    other writer can add records for the department until this one commits
    (PostgreSQL asks the store about every key, as a concurrent submission may
    commit in between).
    """
    if not single_writer(conn.dialect.name) or record_queries.department_has_records(conn, department):
        return None
    return SeenKeys(size_hint)
