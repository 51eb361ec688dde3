"""Records, the submissions that carried them and the quarantine of what was refused.

Every statement on these three tables is here; the use cases call these
functions inside their own transactions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import polars as pl
import pyarrow as pa
from sqlalchemy import Connection, delete, func, insert, select, update

from guihua.store import schema
from guihua.store.bulk import bulk_insert, fetch_arrow
from guihua.store.database import AnyRow
from guihua.store.dialect import keys_in, statement

_r, _s, _q = schema.records, schema.submissions, schema.quarantine
_l = schema.quarantine_refusals

# --------------------------------------------------------------------------- submissions


def open_submission(
    conn: Connection,
    department: str,
    origin: str,
    catalog_version: int,
    received: dt.datetime,
    identity: dict[str, Any] | None = None,
) -> int:
    """The submission row every accepted and quarantined row of a file points to.

    ``identity``: what was sent and by whom (``sha256``, ``size_bytes``, ``file_name``, ``sent_by``),
    the day it was received (``received_on``) and whether it is a reviewer's correction (``due_process``).
    """
    counts = {"accepted": 0, "duplicates": 0, "corrected": 0, "rejected": 0, "superseded": 0}
    known = {k: v for k, v in (identity or {}).items() if k in _IDENTITY}
    if known.get("file_name"):
        known["file_name"] = str(known["file_name"])[:255]
    if known.get("sent_by"):
        known["sent_by"] = str(known["sent_by"])[:200]
    result = conn.execute(
        insert(_s).values(
            department=department,
            origin=origin[:500],
            received_at=received,
            catalog_version=catalog_version,
            **counts,
            **known,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


_IDENTITY = ("sha256", "size_bytes", "file_name", "sent_by", "received_on", "due_process")


def close_submission(
    conn: Connection, submission_id: int, counts: dict[str, int], duration_ms: int | None = None
) -> None:
    """Record a submission's final counts (accepted, duplicates, corrected, superseded, rejected)
    and how long it took."""
    conn.execute(update(_s).where(_s.c.id == submission_id).values(**counts, duration_ms=duration_ms))


# --------------------------------------------------------------------------- current versions

_CURRENT_COLUMNS = (
    "r.source_id, r.id, r.version, r.subject_id, r.metric, r.occurred_at, r.fields, r.submission_id"
)
_EMPTY = {
    "source_id": pl.String,
    "id": pl.Int64,
    "version": pl.Int32,
    "subject_id": pl.String,
    "metric": pl.String,
    "occurred_at": pl.Date,
    "fields": pl.String,
    "submission_id": pl.Int64,
}


def current_versions(conn: Connection, department: str, source_ids: list[str]) -> pl.DataFrame:
    """The stored current version of each of these keys (the keys travel as one parameter)."""
    if not source_ids:
        return pl.DataFrame(schema=_EMPTY)
    condition, params = keys_in(conn, "r.source_id", source_ids)
    sql = (
        f"SELECT {_CURRENT_COLUMNS} FROM records r "
        f"WHERE r.department = :dept AND r.is_current AND {condition}"
    )
    rows = conn.execute(statement(sql), {"dept": department, **params}).fetchall()
    if not rows:
        return pl.DataFrame(schema=_EMPTY)
    df = pl.DataFrame([tuple(r) for r in rows], schema=list(_EMPTY), orient="row")
    return df.with_columns(pl.col("occurred_at").cast(pl.String).str.slice(0, 10).str.to_date())


def current_record(conn: Connection, department: str, source_id: str) -> AnyRow | None:
    """The current version of one key (every column), or None."""
    stmt = select(_r).where(_r.c.department == department, _r.c.source_id == source_id, _r.c.is_current)
    return conn.execute(stmt).first()


def department_has_records(conn: Connection, department: str) -> bool:
    """Whether any current record of ``department`` is stored (one probe of the current-key index)."""
    stmt = select(select(_r.c.id).where(_r.c.department == department, _r.c.is_current).exists())
    return bool(conn.execute(stmt).scalar_one())


def table_size_hint(conn: Connection) -> int:
    """Roughly how many record versions are stored (max id: O(log n), unlike count)."""
    return int(conn.execute(select(func.coalesce(func.max(_r.c.id), 0))).scalar_one())


def _in_parts(ids: list[int], size: int = 10_000) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def note_changes(conn: Connection, ids: list[int]) -> None:
    """Note that stored versions ``ids`` change in this transaction (see ``record_changes``).

    One row per run of ids close together, so a correction of many records writes a few rows.
    """
    for first, last in _runs(sorted(ids)):
        conn.execute(insert(schema.record_changes).values(first_id=first, last_id=last))


def note_all_changed(conn: Connection) -> None:
    """Every stored version may change in this transaction (a re-match, a purge)."""
    last = table_size_hint(conn)
    if last:
        conn.execute(insert(schema.record_changes).values(first_id=0, last_id=last))


def _runs(ids: list[int], gap: int = 100_000) -> Iterator[tuple[int, int]]:
    """Sorted ids as (first, last) runs, a new run where two ids are more than ``gap`` apart."""
    if not ids:
        return
    first = last = ids[0]
    for i in ids[1:]:
        if i - last > gap:
            yield first, last
            first = i
        last = i
    yield first, last


def changes_since(conn: Connection, seq: int) -> tuple[int, list[tuple[int, int]]]:
    """The newest change's number and the id ranges of the changes after ``seq``."""
    rc = schema.record_changes
    rows = conn.execute(select(rc.c.seq, rc.c.first_id, rc.c.last_id).where(rc.c.seq > seq)).all()
    newest = max((int(r.seq) for r in rows), default=seq)
    return newest, [(int(r.first_id), int(r.last_id)) for r in rows]


def newest_change(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(schema.record_changes.c.seq), 0))).scalar_one())


def version_key(conn: Connection, record_id: int) -> str:
    """Which version record ``record_id`` is ("department/source_id/version"; "" when none)."""
    row = conn.execute(
        select(_r.c.department, _r.c.source_id, _r.c.version).where(_r.c.id == record_id)
    ).first()
    return "" if row is None else f"{row.department}/{row.source_id}/{row.version}"


def hold_writes(conn: Connection) -> None:
    """Keep every other writer out until this transaction ends (SQLite: take the write lock now)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("UPDATE record_changes SET seq = seq WHERE 0")


def supersede(conn: Connection, ids: list[int]) -> None:
    """Mark these versions as no longer current (a newer version replaces each)."""
    note_changes(conn, ids)
    for part in _in_parts(ids):
        conn.execute(update(_r).where(_r.c.id.in_(part)).values(is_current=False))


def previous_versions(conn: Connection, ids: list[int]) -> pl.DataFrame:
    """For versions ``ids``: the id and content of the version each replaced (by id: no key scan)."""
    rows: list[tuple[Any, ...]] = []
    for part in _in_parts(ids):
        stmt = select(_r.c.id, _r.c.subject_id, _r.c.metric, _r.c.occurred_at, _r.c.fields).where(
            _r.c.id.in_(part)
        )
        rows += [
            (r.id, r.subject_id, r.metric, str(r.occurred_at)[:10], r.fields) for r in conn.execute(stmt)
        ]
    cols = {"id": pl.Int64, "subject_id": pl.String, "metric": pl.String, "occurred_at": pl.String}
    df = pl.DataFrame(rows, schema={**cols, "fields": pl.String}, orient="row")
    return df.with_columns(pl.col("occurred_at").str.slice(0, 10).str.to_date())


def withdraw(conn: Connection, ids: list[int], restore: list[int]) -> None:
    """Undo versions a submission stored itself (a key it sends again): delete them, make ``restore``
    (the versions they had replaced) current again."""
    note_changes(conn, ids + restore)
    for part in _in_parts(ids):
        conn.execute(delete(_r).where(_r.c.id.in_(part)))
    for part in _in_parts(restore):
        conn.execute(update(_r).where(_r.c.id.in_(part)).values(is_current=True))


_SEEN_TABLE = "submission_duplicates"


def duplicates_reset(conn: Connection) -> None:
    """An empty scratch list of the keys this submission sent as duplicates (nothing stored for them)."""
    conn.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {_SEEN_TABLE} (source_id TEXT PRIMARY KEY)")
    conn.exec_driver_sql(f"DELETE FROM {_SEEN_TABLE}")


def duplicates_add(conn: Connection, keys: list[str]) -> None:
    if keys:
        bulk_insert(conn, _SEEN_TABLE, pl.DataFrame({"source_id": keys}, schema={"source_id": pl.String}))


def duplicates_take(conn: Connection, keys: list[str]) -> list[str]:
    """Which of ``keys`` this submission sent before as duplicates; they leave the list."""
    if not keys:
        return []
    condition, params = keys_in(conn, "source_id", keys)
    found = [
        r[0]
        for r in conn.execute(statement(f"SELECT source_id FROM {_SEEN_TABLE} WHERE {condition}"), params)
    ]
    if found:
        condition, params = keys_in(conn, "source_id", found)
        conn.execute(statement(f"DELETE FROM {_SEEN_TABLE} WHERE {condition}"), params)
    return found


def mark_retracted(conn: Connection, record_id: int, when: dt.datetime, day: dt.date) -> None:
    note_changes(conn, [record_id])
    conn.execute(update(_r).where(_r.c.id == record_id).values(retracted_at=when, retracted_on=day))


def subject_history(conn: Connection, subject_id: str) -> list[AnyRow]:
    """Every stored version of a subject's records with the submission that carried it."""
    stmt = (
        select(
            _r.c.department,
            _r.c.source_id,
            _r.c.version,
            _r.c.is_current,
            _r.c.metric,
            _r.c.occurred_at,
            _r.c.received_on,
            _r.c.fields,
            _r.c.retracted_at,
            _r.c.rule_id,
            _s.c.received_at,
            _s.c.origin,
        )
        .select_from(_r.outerjoin(_s, _r.c.submission_id == _s.c.id))
        .where(_r.c.subject_id == subject_id)
        .order_by(_r.c.department, _r.c.source_id, _r.c.version)
    )
    return list(conn.execute(stmt).all())


# --------------------------------------------------------------------------- quarantine


def quarantine_rows(conn: Connection, department: str, submission_id: int, rows: pl.DataFrame) -> None:
    """Refused rows, each once: a row (same line, reason and text) already quarantined is not added
    again; every one of them is linked to the submission that refused it this time."""
    digests = [quarantine_digest(*row) for row in rows.select("line", "reason", "raw").iter_rows()]
    rows = rows.with_columns(digest=pl.Series(digests, dtype=pl.String)).unique("digest", keep="first")
    condition, params = keys_in(conn, "digest", rows.get_column("digest").to_list())
    sql = f"SELECT digest FROM quarantine WHERE department = :dept AND {condition}"
    known = {r[0] for r in conn.execute(statement(sql), {"dept": department, **params})}
    bulk_insert(conn, "quarantine", rows.filter(~pl.col("digest").is_in(list(known))))
    condition, params = keys_in(conn, "q.digest", rows.get_column("digest").to_list())
    link = (
        "INSERT INTO quarantine_refusals (quarantine_id, submission_id) SELECT q.id, :sub FROM quarantine q "
        f"WHERE q.department = :dept AND {condition} AND NOT EXISTS (SELECT 1 FROM quarantine_refusals l "
        "WHERE l.quarantine_id = q.id AND l.submission_id = :sub)"
    )
    conn.execute(statement(link), {"dept": department, "sub": submission_id, **params})


def quarantine_digest(line: int | None, reason: str, raw: str) -> str:
    """What identifies a refused row: its line, reason and text (as migration 0008 wrote them).

    The same file sent again refuses the same rows on the same lines; two equal rows on two
    lines are two rows to fix.
    """
    return hashlib.sha256(f"{line}\x1f{reason}\x1f{raw}".encode("utf-8", "surrogatepass")).hexdigest()


def rejects(
    conn: Connection,
    department: str | None,
    limit: int | None,
    submission_id: int | None = None,
    open_only: bool = False,
    oldest_first: bool = False,
) -> list[dict[str, Any]]:
    """Quarantined rows, newest submission first (``oldest_first``: in the order they were sent).

    Each row has ``open``: no version of its key was stored by the submission that first refused
    it or a later one (a row without a source id stays open), and ``submissions``: the ids of every
    submission that refused it, ascending. ``submission_id``: only rows that submission refused;
    ``open_only``: only open rows.
    """
    accepted_since = (
        select(_r.c.id)
        .where(
            _r.c.department == _q.c.department,
            _r.c.source_id == _q.c.source_id,
            _r.c.is_current,
            _r.c.submission_id >= _q.c.submission_id,
        )
        .exists()
    )
    is_open = _q.c.source_id.is_(None) | ~accepted_since
    stmt = select(_q, is_open.label("open"))
    if oldest_first:
        stmt = stmt.order_by(_q.c.submission_id, _q.c.line, _q.c.id)
    else:
        stmt = stmt.order_by(_q.c.submission_id.desc(), _q.c.line, _q.c.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    if department:
        stmt = stmt.where(_q.c.department == department)
    if submission_id is not None:
        refused = select(_l.c.quarantine_id).where(_l.c.submission_id == submission_id)
        stmt = stmt.where(_q.c.id.in_(refused))
    if open_only:
        stmt = stmt.where(is_open)
    rows = [dict(r) for r in conn.execute(stmt).mappings()]
    by_row: dict[int, list[int]] = {}
    for part in _in_parts([int(r["id"]) for r in rows]):
        links = select(_l.c.quarantine_id, _l.c.submission_id).where(_l.c.quarantine_id.in_(part))
        for quarantine_id, sub in conn.execute(links):
            by_row.setdefault(int(quarantine_id), []).append(int(sub))
    for r in rows:
        r["open"] = bool(r["open"])
        r["submissions"] = sorted(by_row.get(int(r["id"]), [int(r["submission_id"])]))
    return rows


def submission_department(conn: Connection, submission_id: int) -> str | None:
    """The department of a submission, or None when there is no such submission."""
    return conn.execute(select(_s.c.department).where(_s.c.id == submission_id)).scalar_one_or_none()


# --------------------------------------------------------------------------- re-matching


def current_for_matching(conn: Connection, after_id: int, n: int) -> pa.Table:
    """The next ``n`` current versions after ``after_id`` with what a rule reads."""
    return fetch_arrow(
        conn,
        "SELECT id, metric, occurred_at, received_on, fields FROM records "
        "WHERE is_current AND id > :last ORDER BY id LIMIT :n",
        {"last": after_id, "n": n},
    )


@contextmanager
def derived_rewrite(conn: Connection, columns: tuple[str, ...]) -> Iterator[Any]:
    """A scratch table to collect re-matched derived columns; rewritten into records on exit.

    Yields a function that takes an Arrow table of ``id`` and ``columns``.
    """
    conn.exec_driver_sql(
        "CREATE TEMP TABLE IF NOT EXISTS rematch (id BIGINT PRIMARY KEY, rule_id TEXT, points INTEGER, "
        "category TEXT, start_date DATE, end_date DATE, start_year INTEGER, case_id TEXT, action TEXT)"
    )
    conn.exec_driver_sql("DELETE FROM rematch")
    yield lambda table: bulk_insert(conn, "rematch", table)
    sets = ", ".join(f"{c} = rematch.{c}" for c in columns)
    note_all_changed(conn)
    conn.exec_driver_sql(f"UPDATE records SET {sets} FROM rematch WHERE records.id = rematch.id")
    conn.exec_driver_sql("DELETE FROM rematch")


# --------------------------------------------------------------------------- bulk loads

# Built once after a bulk load instead of row by row. The current-key index stays: the
# ingest looks keys up in it while loading, and it is cheap to keep up (keys mostly arrive in
# order). So does the listing index: it holds only the few listing records, and building it
# would cost a scan of the whole table.
_DEFERRED_INDEXES = ("ix_records_subject", "ix_records_scored", "ix_notices_subject")


@contextmanager
def bulk_load(conn: Connection, enabled: bool) -> Iterator[None]:
    """For loads larger than what is stored: build the by-subject indexes once, after the rows.

    That is the records' by-subject indexes and the notices' (a load's notices
    are created inside the block).

    Maintaining a b-tree row by row (subjects arrive in random order) costs
    more than sorting once when most of the table is new. SQLite only: the
    whole ingest is one transaction, so no reader ever sees the table without
    its indexes.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    if not enabled:
        yield
        conn.exec_driver_sql("PRAGMA optimize")  # refresh planner statistics when they drifted
        return
    indexes = [*schema.records.indexes, *schema.notices.indexes]
    deferred = [ix for ix in indexes if ix.name in _DEFERRED_INDEXES]
    for ix in deferred:
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {ix.name}")
    yield
    for ix in deferred:
        ix.create(conn)
    conn.exec_driver_sql("PRAGMA analysis_limit=1000")  # sampled statistics: enough for the planner
    conn.exec_driver_sql("ANALYZE")  # without statistics SQLite scans by index, 2x slower


def is_current_key_clash(exc: BaseException) -> bool:
    """A violation of the unique current-key index, whichever driver (or COPY) reported it."""
    text = str(getattr(exc, "orig", None) or exc)
    return "ux_records_current_key" in text or (
        "UNIQUE constraint failed: records.department, records.source_id" in text
    )


# --------------------------------------------------------------------------- retention


_KEYS_TABLE = "purge_keys"


def stage_keys(conn: Connection, keys: pa.Table) -> None:
    """Put (department, source_id) keys in a scratch table the purge statements read."""
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {_KEYS_TABLE} (department TEXT NOT NULL, source_id TEXT NOT NULL, "
        "PRIMARY KEY (department, source_id))"
    )
    conn.exec_driver_sql(f"DELETE FROM {_KEYS_TABLE}")
    bulk_insert(conn, _KEYS_TABLE, keys.select(["department", "source_id"]))


_ABOUT = {
    "records": f"(department, source_id) IN (SELECT department, source_id FROM {_KEYS_TABLE})",
    "objections": f"decision IS NOT NULL AND (department, source_id) IN "
    f"(SELECT department, source_id FROM {_KEYS_TABLE})",
}
_ABOUT["notices"] = (
    f"record_id IN (SELECT id FROM records WHERE {_ABOUT['records']}) "
    f"OR objection_id IN (SELECT id FROM objections WHERE {_ABOUT['objections']})"
)
PURGED_TABLES: tuple[str, ...] = ("notices", "objections", "records")  # what points to a row goes first


def count_staged(conn: Connection) -> dict[str, int]:
    """Rows about the staged keys: record versions, decided objections, notices about either."""
    return {
        t: int(conn.exec_driver_sql(f"SELECT COUNT(*) FROM {t} WHERE {_ABOUT[t]}").scalar_one())
        for t in PURGED_TABLES
    }


def delete_staged(conn: Connection) -> None:
    """Delete every row about the staged keys (deliveries follow their notices by cascade)."""
    note_all_changed(conn)
    for table in PURGED_TABLES:
        conn.exec_driver_sql(f"DELETE FROM {table} WHERE {_ABOUT[table]}")
