"""The records' columnar copy: Parquet parts beside the store, kept current by ingest.

The batch engines (DuckDB, Spark) read records in columnar form. Copying ~100 million
records out of the store for every export costs minutes where the engine's query costs
seconds, so the store keeps a copy that follows it: parts of consecutive record ids
(``records/part-FIRST-LAST-GEN.parquet``) and ``state.json`` (the store's identity, the
last id and the last change copied, the parts). Records are mostly added, so a sync
copies only the ids added since; the few stored versions that change afterwards (a
correction supersedes one, a retraction, a re-match, a purge) are noted in
``record_changes`` (:func:`guihua.store.record_queries.note_changes`) and a sync copies
again only the parts whose ids they touch. Each sync adds its new ids as parts of their
own; past :data:`MAX_PARTS` parts, neighbouring small ones are merged (from the copy's own
files, not the store), so parts stay few.

Where: beside a SQLite file store (``guihua.db.columnar/``); anywhere for any store with
``GUIHUA_COLUMNAR_DIR`` (for PostgreSQL, shared storage that Spark's executors read).
``GUIHUA_COLUMNAR=off`` turns the copy off: the batch engines then copy the records
for each run, as before.

Consistency: :func:`synced` runs inside the caller's transaction after
:func:`~guihua.store.record_queries.hold_writes` (SQLite: no writer commits until it
ends; PostgreSQL: the transaction's snapshot), so the copy, the objections and the
catalog read in that transaction are of one moment. A file lock on the folder keeps a
sync from rewriting parts that an engine is reading (:func:`reading`).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from guihua.core.errors import StoreBusy
from guihua.engine.tables import RECORDS_SCHEMA
from guihua.store import export_queries, record_queries, schema
from guihua.store.database import Store

FORMAT = 1
PART_IDS = 4_000_000  # a part spans at most this many ids (rows: fewer, where versions were deleted)
MAX_PARTS = 64  # past this many parts, small neighbours are merged
SMALL_PART = PART_IDS // 4


@dataclass(frozen=True)
class Part:
    file: str
    first: int
    last: int
    rows: int


@dataclass
class MirrorState:
    """What the copy holds: the store it copies, up to which id and which change, in which parts."""

    token: str
    last_id: int = 0
    seq: int = 0
    parts: list[Part] = field(default_factory=list)
    generation: int = 0
    last_key: str = ""  # the last id's record (department, source id, version): a restored store differs


def mirror_folder(conn: Connection | Engine) -> Path | None:
    """Where this store's columnar copy lives, or None (in memory, or turned off)."""
    if os.environ.get("GUIHUA_COLUMNAR", "").lower() in ("off", "0", "no", "false"):
        return None
    configured = os.environ.get("GUIHUA_COLUMNAR_DIR")
    if configured:
        return Path(configured)
    database = conn.engine.url.database
    if conn.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database + ".columnar")


def store_token(conn: Connection) -> str:
    return str(conn.execute(select(schema.store_identity.c.token)).scalar_one())


@contextmanager
def _locked(folder: Path, exclusive: bool) -> Iterator[int]:
    """The folder's lock file, locked (its descriptor, to change the lock's kind)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(folder / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield fd
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextmanager
def held(conn: Connection, folder: Path) -> Iterator[Path | None]:
    """Sync the copy to what ``conn`` reads (after ``hold_writes``) and keep it so until the block
    ends; the records folder, or None when there are no records.

    The block may outlast ``conn``'s transaction: the engine reads the copy after the store's
    transaction has ended, and no sync rewrites it meanwhile (an ingest's waits).
    """
    with _locked(folder, exclusive=True) as fd:
        state = _sync(conn, folder)
        fcntl.flock(fd, fcntl.LOCK_SH)  # others may read it too now, and none rewrite it
        yield folder / "records" if state.parts else None


def keep_current(store: Store) -> MirrorState | None:
    """After a change to the records (a submission): bring the store's copy up to date, if it has one.

    What was stored stays stored whatever happens here: a copy that cannot be written now
    (the disk is full, another writer holds the store) is brought up to date by the next sync.
    """
    if store.read_only:
        return None
    folder = mirror_folder(store.engine)
    if folder is None:
        return None  # no transaction, no lock: nothing to keep (a PostgreSQL store without a folder)
    try:
        with store.begin() as conn:
            record_queries.hold_writes(conn)
            return synced(conn, folder)
    except (OSError, StoreBusy) as exc:
        logging.getLogger(__name__).warning("the records' columnar copy is not up to date: %s", exc)
        return None


@contextmanager
def if_current(conn: Connection) -> Iterator[Path | None]:
    """The records folder of the store's copy if it holds exactly what ``conn`` reads, else None.

    For readers that may not write (a store opened read-only, a simulation): the copy is used
    as it is, never synced; no sync rewrites it until the block ends.
    """
    folder = mirror_folder(conn)
    if folder is None or not (folder / "state.json").is_file():
        yield None
        return
    with _locked(folder, exclusive=False):
        state = _state(folder)
        yield folder / "records" if state is not None and state.parts and is_current(conn, folder) else None


def synced(conn: Connection, folder: Path) -> MirrorState:
    """Bring the copy in ``folder`` up to what ``conn`` reads; call after ``hold_writes``."""
    with _locked(folder, exclusive=True):
        return _sync(conn, folder)


def _sync(conn: Connection, folder: Path) -> MirrorState:
    token = store_token(conn)
    state = _state(folder)
    if state is None or state.token != token:
        _clear(folder)
        state = MirrorState(token)
    newest = record_queries.table_size_hint(conn)
    went_back = newest < state.last_id or record_queries.newest_change(conn) < state.seq
    if went_back or (state.last_id and record_queries.version_key(conn, state.last_id) != state.last_key):
        _clear(folder)  # the store went back (restored from a backup): copy it all again
        state = MirrorState(token)
    seq, changed = record_queries.changes_since(conn, state.seq)
    dirty = [p for p in state.parts if any(a <= p.last and b >= p.first for a, b in changed)]
    if not dirty and newest == state.last_id:
        if seq != state.seq:
            state.seq = seq
            _save(folder, state)
        return state
    state.generation += 1
    kept = [p for p in state.parts if p not in dirty]
    spans = [(p.first, p.last) for p in dirty]
    start = state.last_id + 1
    spans += [(a, min(a + PART_IDS - 1, newest)) for a in range(start, newest + 1, PART_IDS)]
    made = [_write_part(conn, folder, a, b, state.generation) for a, b in spans]
    state.parts = sorted([*kept, *(p for p in made if p.rows)], key=lambda p: p.first)
    if len(state.parts) > MAX_PARTS:
        state.parts = _merged(folder, state.parts, state.generation)
    state.last_id, state.seq = newest, seq
    state.last_key = record_queries.version_key(conn, newest)
    _save(folder, state)
    _remove_unlisted(folder, state)
    return state


def is_current(conn: Connection, folder: Path) -> bool:
    """Whether the copy holds exactly what ``conn`` reads (for a store opened read-only)."""
    state = _state(folder)
    return (
        state is not None
        and state.token == store_token(conn)
        and state.last_id == record_queries.table_size_hint(conn)
        and record_queries.changes_since(conn, state.seq)[1] == []
        and record_queries.newest_change(conn) == state.seq
        and record_queries.version_key(conn, state.last_id) == state.last_key
    )


def _write_part(conn: Connection, folder: Path, first: int, last: int, generation: int) -> Part:
    records = folder / "records"
    records.mkdir(mode=0o700, exist_ok=True)
    name = f"part-{first:012d}-{last:012d}-{generation}.parquet"
    partial = records / (name + ".partial")  # not *.parquet: no engine reads it half written
    columns = list(RECORDS_SCHEMA)
    rows = export_queries.scan_to_parquet(conn, "records", columns, (first, last), partial)
    if rows:
        os.chmod(partial, 0o600)  # residents' records: the store's own permissions
        partial.rename(records / name)
    else:
        partial.unlink()
    return Part(name, first, last, rows)


def _merged(folder: Path, parts: list[Part], generation: int) -> list[Part]:
    """Neighbouring small parts merged into parts of up to :data:`PART_IDS` ids, read from their files."""
    runs: list[list[Part]] = []
    for p in parts:
        run = runs[-1] if runs else None
        small = p.last - p.first < SMALL_PART
        if run and small and run[-1].last - run[-1].first < SMALL_PART and p.last - run[0].first < PART_IDS:
            run.append(p)
        else:
            runs.append([p])
    return [run[0] if len(run) == 1 else _merge_files(folder, run, generation) for run in runs]


def _merge_files(folder: Path, run: list[Part], generation: int) -> Part:
    import pyarrow.parquet as pq

    records = folder / "records"
    name = f"part-{run[0].first:012d}-{run[-1].last:012d}-{generation}.parquet"
    partial = records / (name + ".partial")
    schema = pq.ParquetFile(records / run[0].file).schema_arrow
    with pq.ParquetWriter(partial, schema) as writer:
        for p in run:
            for batch in pq.ParquetFile(records / p.file).iter_batches(export_queries.BATCH_ROWS):
                writer.write_batch(batch)
    os.chmod(partial, 0o600)
    partial.rename(records / name)
    return Part(name, run[0].first, run[-1].last, sum(p.rows for p in run))


def _state(folder: Path) -> MirrorState | None:
    try:
        raw = json.loads((folder / "state.json").read_text())
    except (OSError, ValueError):
        return None
    if raw.get("format") != FORMAT:
        return None
    parts = [Part(**p) for p in raw.get("parts", [])]
    if not all((folder / "records" / p.file).is_file() for p in parts):
        return None
    return MirrorState(
        raw["token"], raw["last_id"], raw["seq"], parts, raw.get("generation", 0), raw.get("last_key", "")
    )


def _save(folder: Path, state: MirrorState) -> None:
    partial = folder / "state.json.partial"
    body = {"format": FORMAT, **asdict(state)}
    partial.write_text(json.dumps(body, indent=1))
    os.chmod(partial, 0o600)
    partial.replace(folder / "state.json")  # atomic: a reader sees the old state or the new


def _remove_unlisted(folder: Path, state: MirrorState) -> None:
    listed = {p.file for p in state.parts}
    for path in (folder / "records").glob("part-*"):
        if path.name not in listed:
            path.unlink()


def _clear(folder: Path) -> None:
    (folder / "state.json").unlink(missing_ok=True)
    records = folder / "records"
    if records.is_dir():
        for path in records.iterdir():
            path.unlink()
