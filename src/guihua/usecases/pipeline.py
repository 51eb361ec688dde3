"""The storing pipeline of a submission: chunks checked in a worker thread, stored on the store's thread.

Reading, validating and matching (Arrow, Polars, NumPy, DuckDB) need no store
and release the GIL, so the worker checks the next chunks while the store's
thread stores the current one. What a row does (new, duplicate, correction,
superseded) is decided against the store on the store's thread
(:mod:`guihua.intake.classify`).
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import Connection

from guihua.core.feeds import OLD_AFTER_DAYS
from guihua.engine.batch import BatchMatcher
from guihua.engine.match import MATCH_COLUMNS
from guihua.intake.chunks import LINE, RawChunk
from guihua.intake.classify import CONTENT, compare, last_per_key
from guihua.intake.seen_keys import SeenKeys
from guihua.intake.validation import ChunkValidator
from guihua.store import record_queries, schema
from guihua.store.bulk import InsertBatch, bulk_insert, run_batches, sqlite_batches

# Record columns with few distinct values per chunk (a department's few metrics, what a matched
# rule implies, the year its adjustment starts, versions): SQLite gets them as literals, one
# insert per combination (``bulk_insert``'s ``grouped``).
_FEW_VALUES = ("version", "is_current", "metric", "rule_id", "points", "category", "start_year", "action")
CHECKED_AHEAD = 2  # chunks the worker may have checked before the storing thread takes them


@dataclass
class IngestResult:
    """What a submission did: counts by outcome, rejects by reason, and each row's outcome if asked."""

    submission_id: int
    department: str
    catalog_version: int
    accepted: int = 0
    duplicates: int = 0
    corrected: int = 0
    superseded: int = 0
    rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    outcomes: list[dict[str, object]] | None = None  # per row, when asked for
    sha256: str | None = None  # of the file's bytes or the request's body (None: not known)
    size_bytes: int | None = None
    # per metric: valid rows, and those dated more than OLD_AFTER_DAYS before the day received
    rows_by_metric: dict[str, tuple[int, int]] = field(default_factory=dict)
    warnings: list[dict[str, object]] = field(default_factory=list)  # quality warnings (core.feeds)

    def counts(self) -> dict[str, int]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "corrected": self.corrected,
            "superseded": self.superseded,
            "rejected": self.rejected,
        }

    def as_dict(self) -> dict[str, object]:
        return {
            **self.counts(),
            "rejected_by_reason": self.rejected_by_reason,
            "submission_id": self.submission_id,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "department": self.department,
            "catalog_version": self.catalog_version,
            "warnings": self.warnings,
        }


def checked_ahead(
    chunks: Iterable[RawChunk], check: Callable[[RawChunk], Checked]
) -> Generator[tuple[RawChunk, Checked], None, None]:
    """Each chunk with its check; chunks are read and checked in a worker thread, ahead of storing.

    The worker takes chunks one after the other, in order, and keeps up to
    :data:`CHECKED_AHEAD` ready, which evens out chunks of unequal cost and
    keeps memory bounded. Only the worker touches the reader and the matcher,
    only the caller the store. A reader's error reaches the caller in order.
    Closing the generator drops what was not started and waits for the worker.
    """
    source = iter(chunks)

    def next_checked() -> tuple[RawChunk, Checked] | None:
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
class Checked:
    """A chunk as the worker leaves it: everything that needs no store is done."""

    valid: pl.DataFrame  # valid rows in line order, with their match columns
    rejects: pl.DataFrame
    maybe_stored: pl.Series | None = None  # per valid row: its key may be stored (None: ask for every key)
    new_rows: list[InsertBatch] | None = None  # how SQLite inserts them all if none is stored (each key once)
    by_metric: dict[str, tuple[int, int]] = field(default_factory=dict)  # valid rows, old rows per metric


@dataclass
class StoringStep:
    conn: Connection
    validator: ChunkValidator
    matcher: BatchMatcher
    result: IngestResult
    received: dt.datetime
    day: dt.date  # the day the submission is received (``received_on`` of what it stores)
    seen: SeenKeys | None  # None: every key is looked up in the store
    replaced: list[pl.DataFrame] = field(default_factory=list)  # (source_id, id) this submission superseded
    stored_at: dict[str, int] = field(default_factory=dict)  # outcome index of a key's last occurrence
    duplicates_noted: int = 0  # keys sent as duplicates so far (kept in a scratch table)

    def check(self, chunk: RawChunk) -> Checked:
        """Validate a chunk, match its valid rows, and prepare what needs no store (runs in the worker).

        Matching depends only on a row, its day of receipt and the catalog, so
        rows that turn out to be duplicates are matched too and dropped later.
        With a filter of keys seen (SQLite, a department's first records) the
        worker also tells which keys may be stored already, adding this chunk's
        keys after, and when no key repeats within the chunk it splits the
        rows for insertion as if all were new: if the store has none of the
        keys that may be stored (mostly the filter's false positives), the
        storing thread only runs those inserts.
        """
        checked = self.validator.validate(chunk)
        if not checked.valid.height:
            return Checked(checked.valid, checked.rejects)
        valid = checked.valid.sort(LINE)
        by_metric = self._by_metric(valid)
        valid = valid.hstack(self._match(valid))
        if self.seen is None:
            return Checked(valid, checked.rejects, by_metric=by_metric)
        keys = valid.get_column("source_id")
        maybe = self.seen.maybe(keys)
        self.seen.add(keys)
        if keys.n_unique() != keys.len():
            return Checked(valid, checked.rejects, maybe_stored=maybe, by_metric=by_metric)
        first: dict[str, str | int] = {"version": 1, "is_current": True}
        batches = sqlite_batches("records", self._columns(valid), self._constants(first), _FEW_VALUES)
        return Checked(valid, checked.rejects, maybe_stored=maybe, new_rows=batches, by_metric=by_metric)

    def _by_metric(self, valid: pl.DataFrame) -> dict[str, tuple[int, int]]:
        """Valid rows per metric, and those dated more than OLD_AFTER_DAYS before the day received."""
        old_before = self.day - dt.timedelta(days=OLD_AFTER_DAYS)
        counts = valid.group_by("metric").agg(
            pl.len().alias("rows"), (pl.col("occurred_at") < old_before).sum().alias("old")
        )
        return {str(m): (int(n), int(old)) for m, n, old in counts.iter_rows()}

    def run(self, checked: Checked) -> None:
        for metric, (n, old) in checked.by_metric.items():
            rows, olds = self.result.rows_by_metric.get(metric, (0, 0))
            self.result.rows_by_metric[metric] = (rows + n, olds + old)
        self._quarantine(checked.rejects)
        if not checked.valid.height:
            return
        stored = self._stored_versions(checked.valid, checked.maybe_stored)
        if checked.new_rows is not None and stored.height == 0:  # as the worker hoped: every row new
            self.result.accepted += checked.valid.height
            self._outcomes(checked.valid.with_columns(outcome=pl.lit("accepted")))
            run_batches(self.conn, checked.new_rows)
        else:
            self._store(checked.valid, stored)

    def _stored_versions(self, valid: pl.DataFrame, maybe_stored: pl.Series | None) -> pl.DataFrame:
        """The stored current version of the rows' keys; only keys that may be stored are asked for."""
        keys = valid.get_column("source_id")
        lookup = keys if maybe_stored is None else keys.filter(maybe_stored)
        return record_queries.current_versions(self.conn, self.result.department, lookup.unique().to_list())

    def _constants(self, more: dict[str, str | int] | None = None) -> dict[str, str | int]:
        """Record columns the same for every row of this submission."""
        return {
            "department": self.result.department,
            "submission_id": self.result.submission_id,
            "received_on": self.day.isoformat(),
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
        record_queries.quarantine_rows(self.conn, self.result.department, self.result.submission_id, rows)

    def _outcomes(self, rows: pl.DataFrame) -> None:
        """Per-row outcomes, when asked for (a stored row's index is kept: a later chunk may supersede it)."""
        if self.result.outcomes is None:
            return
        for line, key, outcome in rows.select(LINE, "source_id", "outcome").iter_rows():
            if outcome != "superseded":
                self.stored_at[key] = len(self.result.outcomes)
            self.result.outcomes.append({"line": line, "source_id": key, "outcome": outcome})

    def _store(self, valid: pl.DataFrame, stored: pl.DataFrame) -> None:
        kept, earlier = last_per_key(valid)
        self.result.superseded += earlier.height
        self._outcomes(earlier.with_columns(outcome=pl.lit("superseded")))
        mine = stored.filter(pl.col("submission_id") == self.result.submission_id)
        if mine.height:
            stored = self._take_back(stored, mine)
        if self.duplicates_noted:
            self._supersede_duplicates(kept.get_column("source_id").to_list())
        classified = compare(kept, stored)
        counts = dict(classified.group_by("outcome").len().iter_rows())
        self.result.accepted += counts.get("accepted", 0)
        self.result.duplicates += counts.get("duplicate", 0)
        self.result.corrected += counts.get("corrected", 0)
        self._outcomes(classified.sort(LINE))
        same = classified.filter(pl.col("outcome") == "duplicate").get_column("source_id").to_list()
        record_queries.duplicates_add(self.conn, same)
        self.duplicates_noted += len(same)
        new = classified.filter(pl.col("outcome") != "duplicate")
        replaced = new.filter(pl.col("__stored_id").is_not_null()).select("source_id", id="__stored_id")
        if replaced.height:
            record_queries.supersede(self.conn, replaced.get_column("id").to_list())
            self.replaced.append(replaced)
        if new.height:
            bulk_insert(self.conn, "records", self._columns(new), self._constants(), grouped=_FEW_VALUES)

    def _supersede_duplicates(self, keys: list[str]) -> None:
        """Keys an earlier chunk sent as duplicates come again: that earlier occurrence is superseded."""
        again = record_queries.duplicates_take(self.conn, keys)
        self.duplicates_noted -= len(again)
        self.result.duplicates -= len(again)
        self.result.superseded += len(again)
        self._mark_superseded(again)

    def _mark_superseded(self, keys: list[str]) -> None:
        if self.result.outcomes is not None:
            for key in keys:
                self.result.outcomes[self.stored_at.pop(key)]["outcome"] = "superseded"

    def _take_back(self, stored: pl.DataFrame, mine: pl.DataFrame) -> pl.DataFrame:
        """Keys an earlier chunk of this submission stored come again: the earlier rows are superseded.

        They are deleted and the versions they had replaced become current
        again, so the new occurrence is compared with what was stored before
        this submission. Returns ``stored`` as it then is.
        """
        first_version = mine.filter(pl.col("version") == 1).height
        self.result.accepted -= first_version
        self.result.corrected -= mine.height - first_version
        self.result.superseded += mine.height
        self._mark_superseded(mine.get_column("source_id").to_list())
        before = pl.concat(self.replaced).unique("source_id") if self.replaced else None
        prev = (
            mine.select("source_id").join(before, on="source_id", how="inner")
            if before is not None
            else pl.DataFrame(schema={"source_id": pl.String, "id": pl.Int64})
        )
        prev_ids = prev.get_column("id").to_list()
        record_queries.withdraw(self.conn, mine.get_column("id").to_list(), restore=prev_ids)
        restored = record_queries.previous_versions(self.conn, prev_ids).join(prev, on="id")
        restored = restored.join(
            mine.select("source_id", (pl.col("version") - 1).cast(pl.Int32).alias("version")), on="source_id"
        ).with_columns(submission_id=pl.lit(None, pl.Int64))
        others = stored.filter(pl.col("submission_id") != self.result.submission_id)
        return pl.concat([others, restored.select(others.columns)], how="vertical_relaxed")

    def _match(self, valid: pl.DataFrame) -> pl.DataFrame:
        """The match columns for ``valid``'s rows, in its order.

        Only what rules read (metric, dates, typed fields) travels to DuckDB and
        only the match columns come back: the record's text columns would be
        copied twice for nothing.
        """
        needed = valid.select(
            LINE,
            "metric",
            "occurred_at",
            pl.lit(self.day, pl.Date).alias("received_on"),
            *self.validator.field_columns.values(),
        )
        out = pl.from_arrow(self.matcher.match(needed.to_arrow()))
        assert isinstance(out, pl.DataFrame)
        derived = out.select(LINE, *MATCH_COLUMNS)
        if not derived.get_column(LINE).equals(valid.get_column(LINE)):  # DuckDB keeps the order; be sure
            derived = valid.select(LINE).join(derived, on=LINE, how="left", maintain_order="left")
        # all-NULL columns may come back typed as floats
        return derived.drop(LINE).with_columns(pl.col("points", "start_year").cast(pl.Int32))
