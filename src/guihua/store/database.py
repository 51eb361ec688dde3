"""Opening a store: URL resolution, engine set-up, migrations, transactions."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Row, create_engine, event, inspect
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from guihua.core.errors import InvalidInput, NoStore, StoreBusy, StoreUnavailable
from guihua.store.dialect import single_writer

DEFAULT_DB = "guihua.db"
AnyRow = Row[*tuple[Any, ...]]  # a row of any shape, as queries hand them back
SQL_DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres"}


def resolve_url(db: str | None) -> str:
    """``--db`` value (path or SQLAlchemy URL), else ``GUIHUA_DB``, else ``guihua.db`` here."""
    db = db or os.environ.get("GUIHUA_DB") or DEFAULT_DB
    if "://" in db:
        if db.startswith("postgresql://") or db.startswith("postgres://"):
            return "postgresql+psycopg://" + db.split("://", 1)[1]
        return db
    return f"sqlite:///{Path(db).expanduser()}"


@dataclass
class Store:
    engine: Engine
    read_only: bool = False  # every connection refuses writes (open_store(..., read_only=True))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def single_writer(self) -> bool:
        """SQLite: one writer at a time for the whole store; PostgreSQL: row locks, many writers."""
        return single_writer(self.dialect)

    @property
    def sql_dialect(self) -> str:
        """The dialect name Ibis compiles to for this store."""
        return SQL_DIALECTS[self.dialect]

    @contextmanager
    def begin(self, bulk: bool = False) -> Iterator[Connection]:
        """One transaction: everything in it lands, or nothing does.

        ``bulk``: the transaction mostly adds new pages (a load larger than what
        is stored). On SQLite it then runs with a rollback journal instead of
        the write-ahead log when no other connection has the store open: new
        pages are written once, where the log writes every page twice (to the
        log, then to the file at the checkpoint). Atomicity and durability are
        the same (``synchronous=FULL`` meanwhile). When the transaction ends,
        however it ends, the store goes back to WAL mode (should a connection
        opened meanwhile be reading just then, the next connection to open
        puts it back). With another connection open at the start the switch is
        refused at once and the load runs in WAL mode as any other transaction.
        """
        try:
            if not bulk or self.dialect != "sqlite":
                with self.engine.begin() as conn:
                    yield conn
                return
            with self.engine.connect() as conn:
                driver = conn.connection.driver_connection
                rollback = _set_journal(driver, "delete")
                try:
                    with conn.begin():
                        yield conn
                finally:
                    if rollback:
                        _set_journal(driver, "wal")
        except OperationalError as exc:
            if "database is locked" in str(exc.orig):
                raise StoreBusy(
                    "the store is busy with another write that did not finish in time; nothing was done: "
                    "try again in a few seconds"
                ) from None
            raise

    def dispose(self) -> None:
        self.engine.dispose()


BUSY_TIMEOUT_MS = 5000  # how long a connection waits for another's write lock before "busy"
WAL_CHECKPOINT_PAGES = 256  # 8 MiB of write-ahead log at 32 KiB pages (see _sqlite_pragmas)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # 32 KiB pages for a new store (no effect on an existing one): a bulk load of records, their
    # indexes and notices runs ~5-10% faster than with 16 KiB pages (1.81 -> 1.69 s for the
    # 300k-row benchmark), and 16 KiB was already faster than 4 KiB; lookups stay at 0.3 ms.
    dbapi_conn.execute("PRAGMA page_size=32768")
    # WAL, unless a bulk load holds the store in rollback-journal mode right now (Store.begin):
    # it puts the store back in WAL mode when it ends, and this connection follows.
    _set_journal(dbapi_conn, "wal")
    dbapi_conn.execute("PRAGMA foreign_keys=ON")
    dbapi_conn.execute("PRAGMA temp_store=MEMORY")
    dbapi_conn.execute("PRAGMA cache_size=-200000")
    # The log is copied into the file (a checkpoint) by whichever commit takes it past this many
    # pages: in an HTTP request, that one waits. SQLite's default of 1,000 pages meant 32 MiB of
    # log with 32 KiB pages, and lookups (each writes its audit entry) had p99 25 ms against 19 ms
    # with 16 KiB pages; 256 pages (8 MiB) gives 14 ms at 2-5% of throughput (bench/http.py).
    dbapi_conn.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")


def _refuse_unstorable_text(
    _conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, executemany: bool
) -> None:
    """No text with a NUL character or a lone surrogate reaches the store, on either backend.

    PostgreSQL cannot hold either (SQLite can), so without this a stray ``\\x00`` in a
    purpose or a reason was a 500 on one store and fine on the other. Rows loaded in
    bulk (``executemany``, ``COPY``) were validated column by column before; this
    checks the single statements, where a person's input goes.
    """
    if executemany or not parameters:
        return
    values = parameters.values() if isinstance(parameters, dict) else parameters
    for value in values:
        if isinstance(value, str) and ("\x00" in value or not value.isascii()):
            _check_text(value)


def _check_text(value: str) -> None:
    if "\x00" in value:
        raise InvalidInput("text with a NUL character (\\0) cannot be stored or looked up: remove it")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            "text that is not valid Unicode (a lone surrogate) cannot be stored: fix it"
        ) from None


def _set_journal(driver: Any, mode: str) -> bool:
    """Put a SQLite connection's store in ``mode`` ("wal" or "delete"); whether it is in it now.

    Never waits and never raises: leaving WAL mode needs the store to itself,
    and entering it needs no write in progress, so when another connection
    stands in the way the store stays as it is. ``synchronous`` follows the
    mode: NORMAL is durable with WAL; a rollback journal needs FULL.
    """
    now = "unknown"
    driver.execute("PRAGMA busy_timeout=0")
    try:
        now = str(driver.execute(f"PRAGMA journal_mode={mode}").fetchone()[0]).lower()
    except sqlite3.OperationalError:
        with suppress(sqlite3.OperationalError):
            now = str(driver.execute("PRAGMA journal_mode").fetchone()[0]).lower()
    finally:
        driver.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    driver.execute("PRAGMA synchronous=NORMAL" if now == "wal" else "PRAGMA synchronous=FULL")
    return now == mode


def open_store(db: str | None = None, create: bool = True, read_only: bool = False) -> Store:
    """Open (migrating as needed) the store named by ``db``; with ``create``, make it if it is not there.

    Without ``create`` a store that does not exist is an error (:class:`NoStore`): a command
    that only reads must never answer from an empty store it has just made (an operator who
    forgot ``--db`` would tell a defaulter that they are clean).

    ``read_only`` (implies not ``create``): every connection refuses to write, so nothing done
    through the store can change it (a simulation). SQLite opens the file with ``mode=ro`` and
    ``PRAGMA query_only``; PostgreSQL runs every transaction read-only. Such a store is never
    migrated: one behind the newest schema is refused (open it once with a writing command).
    """
    url = resolve_url(db)
    try:
        engine = create_engine(url, hide_parameters=True, **_read_only_arguments(url) if read_only else {})
    except (ArgumentError, NoSuchModuleError) as exc:
        raise StoreUnavailable(f"cannot open store {db!r}: not a file path or database URL ({exc})") from exc
    event.listen(engine, "before_cursor_execute", _refuse_unstorable_text)
    if engine.dialect.name == "sqlite":
        if read_only:
            event.listen(engine, "do_connect", _sqlite_read_only)
        event.listen(engine, "connect", _sqlite_pragmas)
        if read_only:
            event.listen(engine, "connect", _sqlite_query_only)
        path = engine.url.database
        if path and path != ":memory:" and not Path(path).parent.exists():
            raise StoreUnavailable(f"cannot open store {db!r}: folder {Path(path).parent} does not exist")
        if path and path != ":memory:" and create and not read_only:
            _create_private(Path(path))
    elif engine.dialect.name not in SQL_DIALECTS:
        raise StoreUnavailable(f"unsupported store {engine.dialect.name!r}: use a SQLite file or PostgreSQL")
    store = Store(engine, read_only=read_only)
    if not create or read_only:
        _refuse_if_absent(store, engine.url.render_as_string(hide_password=True))
    try:
        if read_only:
            _refuse_if_behind(store, db or url)
        else:
            migrate(store)
    except OperationalError as exc:
        reason = " ".join(str(exc.orig).split())[:200]
        raise StoreUnavailable(f"cannot open store {db or url!r}: {reason}") from exc
    return store


def _read_only_arguments(url: str) -> dict[str, Any]:
    if url.startswith("postgresql"):
        return {"connect_args": {"options": "-c default_transaction_read_only=on"}}
    return {}


def _sqlite_read_only(_dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
    """Open the SQLite file with ``mode=ro``: the library itself refuses every write."""
    from urllib.parse import quote

    path = str(cparams.get("database") or (cargs[0] if cargs else ""))
    if path and path != ":memory:" and not path.startswith("file:"):
        if cargs:
            cargs.pop(0)
        cparams["database"] = f"file:{quote(str(Path(path).resolve()))}?mode=ro"
        cparams["uri"] = True


def _sqlite_query_only(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA query_only=1")  # and statements too, should mode=ro ever be lost


def _refuse_if_behind(store: Store, name: str) -> None:
    with store.engine.connect() as conn:
        revision = _revision(conn)
    if revision != HEAD_REVISION:
        raise StoreUnavailable(
            f"cannot open store {name!r} read-only: its schema is at {revision}, not {HEAD_REVISION}; "
            "open it once with a writing command (such as `guihua init`) to migrate it"
        )


def _create_private(path: Path) -> None:
    """Make a new SQLite file readable by its owner only (0600): SQLite gives its WAL, shared
    memory and journal files the database file's mode, so they are private too."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreUnavailable(f"cannot create store {path}: {exc.strerror or exc}") from None


def exposure(store: Store) -> str | None:
    """A warning when others than the owner may read a SQLite store (or its folder lets them in)."""
    path = store.engine.url.database
    if store.dialect != "sqlite" or not path or path == ":memory:":
        return None
    try:
        mode = Path(path).stat().st_mode
    except OSError:
        return None
    if mode & 0o077:
        return (
            f"the store {path} can be read by other users of this machine (mode {mode & 0o777:o}): "
            f"run chmod 600 {path}"
        )
    return None


def _refuse_if_absent(store: Store, name: str) -> None:
    path = store.engine.url.database
    if store.dialect == "sqlite" and path and path != ":memory:" and not Path(path).exists():
        raise NoStore(f"no store at {path}: {_HOW_TO_CREATE.format(db=path)}")
    try:
        with store.engine.connect() as conn:
            present = inspect(conn).has_table("alembic_version")
    except OperationalError as exc:
        reason = " ".join(str(exc.orig).split())[:200]
        raise StoreUnavailable(f"cannot open store {name!r}: {reason}") from exc
    if not present:
        raise NoStore(f"{name} holds no Guihua store: {_HOW_TO_CREATE.format(db=name)}")


_HOW_TO_CREATE = (
    "create one with `guihua init --db {db}`, or by loading data (`guihua catalog load` or "
    "`guihua ingest`); check --db or GUIHUA_DB if you meant another store"
)


# The newest migration. A store already there opens without importing Alembic (a quarter of a
# second on every command); tests/store/test_migrations.py checks this is Alembic's own head.
HEAD_REVISION = "0016_certificate_checks"


def _alembic_config(conn: Connection) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(files("guihua.store") / "migrations"))
    cfg.attributes["connection"] = conn
    return cfg


def _revision(conn: Connection) -> str | None:
    """The store's migration revision, or None for a new store."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def migrate(store: Store) -> None:
    """Bring the schema to the newest revision (cheap when already there)."""
    with store.engine.begin() as conn:
        if _revision(conn) == HEAD_REVISION:
            return
        from alembic import command

        command.upgrade(_alembic_config(conn), "head")
