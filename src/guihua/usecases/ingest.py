"""Ingesting a department's submission: validate, classify (new / duplicate / correction), match, store.

One submission is one transaction: either every accepted record and every
quarantined row of the file lands, or (on a file-level error) nothing does.
Idempotency (spec section 3) makes re-sending a file safe.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from sqlalchemy import Connection, insert, update
from sqlalchemy.exc import OperationalError

from guihua.core.errors import Conflict, GuihuaError, NotFound
from guihua.engine.match import MATCH_COLUMNS
from guihua.engine.runner import BatchMatcher
from guihua.ingest.keys import SeenKeys
from guihua.ingest.readers import LINE, RawChunk, estimated_rows, read_chunks
from guihua.ingest.validate import ChunkValidator
from guihua.kit.clock import now, today
from guihua.store import records, schema
from guihua.store.database import InsertBatch, Store, bulk_insert, run_batches, sqlite_batches
from guihua.usecases import audit, notices
from guihua.usecases.catalogs import ensure_catalog

CONTENT = ("subject_id", "metric", "occurred_at", "fields")
# Record columns with few distinct values per chunk (a department's few metrics, what a matched
# rule implies, the year its adjustment starts, versions): SQLite gets them as literals, one
# insert per combination (``bulk_insert``'s ``grouped``).
_FEW_VALUES = ("version", "is_current", "metric", "rule_id", "points", "category", "start_year", "action")


@dataclass
class IngestResult:
    submission_id: int
    department: str
    catalog_version: int
    accepted: int = 0
    duplicates: int = 0
    corrected: int = 0
    rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    outcomes: list[dict[str, object]] | None = None  # per row, when asked for

    def as_dict(self) -> dict[str, object]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "corrected": self.corrected,
            "rejected": self.rejected,
            "rejected_by_reason": self.rejected_by_reason,
            "submission_id": self.submission_id,
            "department": self.department,
            "catalog_version": self.catalog_version,
        }


def ingest_file(
    store: Store,
    path: Path,
    department: str,
    on_progress: Callable[[int], None] | None = None,
    as_of: dt.date | None = None,
) -> IngestResult:
    """Ingest a CSV, JSON Lines or Parquet file for ``department``."""
    chunks = read_chunks(path)
    return ingest_chunks(
        store, chunks, department, str(path), on_progress, as_of, size_hint=estimated_rows(path)
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
    actor: audit.Actor | None = None,
) -> IngestResult:
    try:
        with store.begin(bulk=_mostly_new(store, size_hint)) as conn:
            return ingest_in(
                conn, chunks, department, origin, on_progress, as_of, keep_outcomes, size_hint, actor
            )
    except Exception as exc:  # the drivers report these differently (COPY goes around SQLAlchemy)
        if records.is_current_key_clash(exc):
            raise Conflict(
                f"another submission from {department} stored some of the same source ids while this "
                "one was being stored; nothing from this one was kept: send it again (the records "
                "already stored will count as duplicates)"
            ) from None
        if isinstance(exc, OperationalError) and "database is locked" in str(exc.orig):
            raise Conflict(
                "the store is busy with another write that did not finish in time; nothing from "
                "this submission was kept: send it again"
            ) from None
        raise


def ingest_in(
    conn: Connection,
    chunks: Iterable[RawChunk],
    department: str,
    origin: str,
    on_progress: Callable[[int], None] | None = None,
    as_of: dt.date | None = None,
    keep_outcomes: bool = False,
    size_hint: int = 0,
    actor: audit.Actor | None = None,
) -> IngestResult:
    """:func:`ingest_chunks` in the caller's transaction (a reviewer's correction lands with its decision)."""
    active = ensure_catalog(conn)
    catalog = active.catalog
    if department not in catalog.department_by_code:
        known = ", ".join(sorted(catalog.department_by_code)) or "none"
        raise NotFound(f"unknown department {department!r}; the catalog has: {known}")
    assert active.version is not None
    received = now()
    sub_id = _open_submission(conn, department, origin, active.version, received)
    result = IngestResult(sub_id, department, active.version)
    result.outcomes = [] if keep_outcomes else None
    step = _Step(
        conn,
        ChunkValidator(catalog, department, as_of or today()),
        BatchMatcher(catalog, frozenset(catalog.department_by_code[department].metrics)),
        result,
        received,
        _seen_keys(conn, department, size_hint),
    )
    stored_before = records.table_size_hint(conn)  # ids of this submission's rows are all above it
    try:
        with records.bulk_load(conn, enabled=size_hint > stored_before):
            with closing(_checked_ahead(chunks, step.check)) as checked_chunks:
                for chunk, checked in checked_chunks:
                    step.run(checked)
                    if on_progress:
                        on_progress(chunk.table.num_rows + len(chunk.unreadable))
            # before the deferred indexes are built; the id range keeps it to this submission's rows
            notices.create_for_records(conn, received, result.submission_id, after_id=stored_before)
    finally:
        step.matcher.close()
    counts = f"{result.accepted} accepted, {result.duplicates} duplicates, {result.corrected} corrected"
    audit.append(
        conn,
        actor or audit.cli_actor(),
        "records.ingest",
        detail=f"{department} submission {result.submission_id}: {counts}, {result.rejected} rejected",
    )
    conn.execute(
        update(schema.submissions)
        .where(schema.submissions.c.id == result.submission_id)
        .values(
            accepted=result.accepted,
            duplicates=result.duplicates,
            corrected=result.corrected,
            rejected=result.rejected,
        )
    )
    return result


def _mostly_new(store: Store, size_hint: int) -> bool:
    """Whether a submission of about ``size_hint`` rows outnumbers what the store holds."""
    if not size_hint:
        return False
    with store.begin() as conn:
        return size_hint > records.table_size_hint(conn)


def _seen_keys(conn: Connection, department: str, size_hint: int) -> SeenKeys | None:
    """A filter of the keys this submission stores, when only they can have stored versions.

    That is when the department has no current records yet. SQLite only: there
    the submission row already written holds the store's write lock, so no
    other writer can add records for the department until this one commits
    (PostgreSQL asks the store about every key, as a concurrent submission may
    commit in between).
    """
    if conn.dialect.name != "sqlite" or records.department_has_records(conn, department):
        return None
    return SeenKeys(size_hint)


def _open_submission(
    conn: Connection, department: str, origin: str, version: int, received: dt.datetime
) -> int:
    """The submission row every accepted and quarantined row of this file points to."""
    values = {"accepted": 0, "duplicates": 0, "corrected": 0, "rejected": 0}
    result = conn.execute(
        insert(schema.submissions).values(
            department=department,
            origin=origin[:500],
            received_at=received,
            catalog_version=version,
            **values,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


CHECKED_AHEAD = 2  # chunks the worker may have checked before the storing thread takes them


def _checked_ahead(
    chunks: Iterable[RawChunk], check: Callable[[RawChunk], _Checked]
) -> Generator[tuple[RawChunk, _Checked], None, None]:
    """Each chunk with its check; chunks are read and checked in a worker thread, ahead of storing.

    Reading, validating and matching (Arrow, Polars, NumPy, DuckDB) and storing
    (SQLite steps) release the GIL, so chunks are checked while earlier ones
    are stored. The worker takes chunks one after the other, in order, and
    keeps up to :data:`CHECKED_AHEAD` ready, which evens out chunks of unequal
    cost and keeps memory bounded. Only the worker touches the reader and the
    matcher, only the caller the store. A reader's error reaches the caller in
    order. Closing the generator drops what was not started and waits for the
    worker.
    """
    source = iter(chunks)

    def next_checked() -> tuple[RawChunk, _Checked] | None:
        chunk = next(source, None)
        return None if chunk is None else (chunk, check(chunk))

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="guihua-validate") as pool:
        pending = deque(pool.submit(next_checked) for _ in range(CHECKED_AHEAD))
        try:
            while (item := pending.popleft().result()) is not None:
                pending.append(pool.submit(next_checked))
                yield item
        finally:
            for future in pending:
                future.cancel()


@dataclass
class _Checked:
    """A chunk as the worker leaves it: everything that needs no store is done."""

    valid: pl.DataFrame  # valid rows in line order, with their match columns
    rejects: pl.DataFrame
    maybe_stored: pl.Series | None = None  # per valid row: its key may be stored (None: ask for every key)
    new_rows: list[InsertBatch] | None = None  # how SQLite inserts them all if none is stored (each key once)


@dataclass
class _Step:
    conn: Connection
    validator: ChunkValidator
    matcher: BatchMatcher
    result: IngestResult
    received: dt.datetime
    seen: SeenKeys | None  # None: every key is looked up in the store

    def check(self, chunk: RawChunk) -> _Checked:
        """Validate a chunk, match its valid rows, and prepare what needs no store (runs in the worker).

        Matching depends only on a row and the catalog, so rows that turn out
        to be duplicates are matched too and dropped later. With a filter of
        keys seen (SQLite, a department's first records) the worker also tells
        which keys may be stored already, adding this chunk's keys after, and
        when no key repeats within the chunk it splits the rows for insertion
        as if all were new: if the store has none of the keys that may be
        stored (mostly the filter's false positives), the storing thread only
        runs those inserts. Chunks are checked in order, ahead of storing, so
        a key the filter has seen is stored by the time its chunk is stored.
        """
        checked = self.validator.validate(chunk)
        if not checked.valid.height:
            return _Checked(checked.valid, checked.rejects)
        valid = checked.valid.sort(LINE)
        valid = valid.hstack(self._match(valid))
        if self.seen is None:
            return _Checked(valid, checked.rejects)
        keys = valid.get_column("source_id")
        maybe = self.seen.maybe(keys)
        self.seen.add(keys)
        if keys.n_unique() != keys.len():
            return _Checked(valid, checked.rejects, maybe_stored=maybe)
        first: dict[str, str | int] = {"version": 1, "is_current": True}
        batches = sqlite_batches("records", self._columns(valid), self._constants(first), _FEW_VALUES)
        return _Checked(valid, checked.rejects, maybe_stored=maybe, new_rows=batches)

    def run(self, checked: _Checked) -> None:
        self._quarantine(checked.rejects)
        if not checked.valid.height:
            return
        stored = self._stored_versions(checked.valid, checked.maybe_stored)
        if checked.new_rows is not None and stored.height == 0:  # as the worker hoped: every row new
            self.result.accepted += checked.valid.height
            if self.result.outcomes is not None:
                self.result.outcomes += [
                    {"line": line, "source_id": key, "outcome": "accepted"}
                    for line, key in checked.valid.select(LINE, "source_id").iter_rows()
                ]
            run_batches(self.conn, checked.new_rows)
        else:
            self._store(checked.valid, stored)

    def _stored_versions(self, valid: pl.DataFrame, maybe_stored: pl.Series | None) -> pl.DataFrame:
        """The stored current version of the rows' keys; only keys that may be stored are asked for."""
        keys = valid.get_column("source_id")
        lookup = keys if maybe_stored is None else keys.filter(maybe_stored)
        return records.current_versions(self.conn, self.result.department, lookup.unique().to_list())

    def _constants(self, more: dict[str, str | int] | None = None) -> dict[str, str | int]:
        """Record columns the same for every row of this submission."""
        return {
            "department": self.result.department,
            "submission_id": self.result.submission_id,
            **(more or {}),
        }

    @staticmethod
    def _columns(rows: pl.DataFrame) -> pl.DataFrame:
        """The record columns of classified, matched rows, as the records table names them."""
        extra = [c for c in ("version", "is_current") if c in rows.columns]
        return rows.select("source_id", *extra, *CONTENT, pl.col(LINE).alias("line"), *schema.DERIVED_COLUMNS)

    def _quarantine(self, rejects: pl.DataFrame) -> None:
        if not rejects.height:
            return
        self.result.rejected += rejects.height
        for reason, n in rejects.group_by("reason").len().iter_rows():
            self.result.rejected_by_reason[reason] = self.result.rejected_by_reason.get(reason, 0) + n
        rows = rejects.rename({LINE: "line"}).with_columns(
            submission_id=pl.lit(self.result.submission_id, pl.Int64),
            department=pl.lit(self.result.department),
            received_at=pl.lit(self.received.isoformat()),
        )
        if self.result.outcomes is not None:
            self.result.outcomes += [
                {
                    "line": r["line"],
                    "source_id": r["source_id"],
                    "outcome": "rejected",
                    "reason": r["reason"],
                    "detail": r["detail"],
                }
                for r in rows.iter_rows(named=True)
            ]
        bulk_insert(self.conn, "quarantine", rows)

    def _store(self, valid: pl.DataFrame, stored: pl.DataFrame) -> None:
        classified = self._classify(valid, stored)
        counts = dict(classified.group_by("outcome").len().iter_rows())
        self.result.accepted += counts.get("accepted", 0)
        self.result.duplicates += counts.get("duplicate", 0)
        self.result.corrected += counts.get("corrected", 0)
        if self.result.outcomes is not None:
            self.result.outcomes += [
                {"line": r[LINE], "source_id": r["source_id"], "outcome": r["outcome"]}
                for r in classified.select(LINE, "source_id", "outcome").iter_rows(named=True)
            ]
        stored_ids = classified.filter(pl.col("outcome") != "duplicate").get_column("__stored_id")
        superseded = stored_ids.drop_nulls().unique().to_list()
        if superseded:
            records.supersede(self.conn, superseded)
        new = classified.filter(pl.col("outcome") != "duplicate")
        if new.height:
            bulk_insert(self.conn, "records", self._columns(new), self._constants(), grouped=_FEW_VALUES)

    def _match(self, valid: pl.DataFrame) -> pl.DataFrame:
        """The match columns for ``valid``'s rows, in its order.

        Only what rules read (metric, date, typed fields) travels to DuckDB and
        only the match columns come back: the record's text columns would be
        copied twice for nothing.
        """
        needed = valid.select(LINE, "metric", "occurred_at", *self.validator.field_columns.values())
        out = pl.from_arrow(self.matcher.match(needed.to_arrow()))
        assert isinstance(out, pl.DataFrame)
        derived = out.select(LINE, *MATCH_COLUMNS)
        if not derived.get_column(LINE).equals(valid.get_column(LINE)):  # DuckDB keeps the order; be sure
            derived = valid.select(LINE).join(derived, on=LINE, how="left", maintain_order="left")
        # all-NULL columns may come back typed as floats
        return derived.drop(LINE).with_columns(pl.col("points", "start_year").cast(pl.Int32))

    def _classify(self, valid: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
        """Outcome per row; versions and current flag for rows to store.

        The first row of a key compares with ``stored``, its current version in
        the store, each later row of the same key in this submission with the
        row before it.
        """
        if stored.height == 0 and valid.get_column("source_id").n_unique() == valid.height:  # all new, once
            return valid.with_columns(
                outcome=pl.lit("accepted"),
                __stored_id=pl.lit(None, pl.Int64),
                version=pl.lit(1, pl.Int32),
                is_current=pl.lit(True),
            )
        content = pl.concat_str([pl.col(c).cast(pl.String) for c in CONTENT], separator="\x1f")
        stored = stored.select(
            "source_id",
            pl.col("id").alias("__stored_id"),
            pl.col("version").alias("__stored_version"),
            content.alias("__stored_content"),
        )
        df = valid.with_columns(content.alias("__content")).join(stored, on="source_id", how="left")
        prev = pl.col("__content").shift(1).over("source_id", order_by=LINE)
        df = df.with_columns(
            pl.when(prev.is_null()).then(pl.col("__stored_content")).otherwise(prev).alias("__prev")
        )
        outcome = (
            pl.when(pl.col("__prev").is_null())
            .then(pl.lit("accepted"))
            .when(pl.col("__prev") == pl.col("__content"))
            .then(pl.lit("duplicate"))
            .otherwise(pl.lit("corrected"))
        )
        df = df.with_columns(outcome.alias("outcome"))
        stores = (pl.col("outcome") != "duplicate").cast(pl.Int32)
        version = pl.col("__stored_version").fill_null(0) + stores.cum_sum().over("source_id", order_by=LINE)
        last_stored = pl.when(stores == 1).then(pl.col(LINE)).max().over("source_id")
        df = df.with_columns(
            version.cast(pl.Int32).alias("version"),
            (pl.col(LINE) == last_stored).fill_null(False).alias("is_current"),
        )
        return df.drop("__content", "__stored_content", "__prev", "__stored_version")


def retract(store: Store, department: str, source_id: str, actor: audit.Actor | None = None) -> dt.datetime:
    """Retract a department's record: it no longer counts; its history stays."""
    table = schema.records
    with store.begin() as conn:
        catalog = ensure_catalog(conn).catalog
        if department not in catalog.department_by_code:
            raise NotFound(f"unknown department {department!r}")
        row = conn.execute(
            table.select().where(
                table.c.department == department, table.c.source_id == source_id, table.c.is_current
            )
        ).first()
        if row is None:
            raise NotFound(f"no record {source_id!r} from {department}")
        if row.retracted_at is not None:
            since = str(row.retracted_at)[:10]
            raise GuihuaError(f"record {source_id!r} from {department} was already retracted on {since}")
        when = now()
        conn.execute(update(table).where(table.c.id == row.id).values(retracted_at=when))
        audit.append(
            conn,
            actor or audit.cli_actor(),
            "records.retract",
            subject_id=row.subject_id,
            detail=f"{department} {source_id}",
        )
    return when


def list_rejects(store: Store, department: str | None = None, limit: int = 1000) -> list[dict[str, object]]:
    """Quarantined rows, newest submission first, with reason, line and the raw row."""
    q = schema.quarantine
    stmt = q.select().order_by(q.c.submission_id.desc(), q.c.line).limit(limit)
    if department:
        stmt = stmt.where(q.c.department == department)
    with store.begin() as conn:
        rows = conn.execute(stmt).mappings().all()
    return [
        {
            "submission_id": r["submission_id"],
            "department": r["department"],
            "line": r["line"],
            "reason": r["reason"],
            "detail": r["detail"],
            "source_id": r["source_id"],
            "raw": r["raw"],
            "received_at": str(r["received_at"])[:19],
        }
        for r in rows
    ]
