"""Catalog versions: load (validate, keep every version, re-match stored records), show."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Connection, insert, select

from guihua.catalogs import default_catalog_text
from guihua.core.catalog import Catalog, parse_catalog
from guihua.kit.clock import now
from guihua.store import schema
from guihua.store.database import Store
from guihua.usecases import audit, notices


@dataclass(frozen=True)
class ActiveCatalog:
    version: int | None  # None: the packaged default, not yet stored
    catalog: Catalog


def stored_catalog(conn: Connection) -> ActiveCatalog | None:
    """The newest stored catalog version, if any was stored.

    Only the version number is read on every call; a version's text is read and
    parsed once per store (versions never change once stored).
    """
    head = conn.execute(_HEAD).first()
    if head is None:
        return None
    version = head.version
    key = (str(conn.engine.url), int(version), head.digest)  # a re-created store may reuse version numbers
    catalog = _BY_VERSION.get(key)
    if catalog is None:
        t = schema.catalogs
        source = conn.execute(select(t.c.source).where(t.c.version == version)).scalar_one()
        catalog = _BY_VERSION[key] = _parsed(source)
    return ActiveCatalog(int(version), catalog)


_BY_VERSION: dict[tuple[str, int, str], Catalog] = {}
_HEAD = (
    select(schema.catalogs.c.version, schema.catalogs.c.digest)
    .order_by(schema.catalogs.c.version.desc())
    .limit(1)
)


@lru_cache(maxsize=16)
def _parsed(text: str) -> Catalog:
    """Catalogs are immutable: parse each stored text once per process."""
    return parse_catalog(text)


def active_catalog(conn: Connection) -> ActiveCatalog:
    """The newest stored catalog, else the packaged default."""
    return stored_catalog(conn) or ActiveCatalog(None, _parsed(default_catalog_text()))


def ensure_catalog(conn: Connection) -> ActiveCatalog:
    """The active catalog, storing the default as version 1 on first use so matches stay traceable."""
    active = active_catalog(conn)
    if active.version is not None:
        return active
    version = _store_version(conn, active.catalog, default_catalog_text(), "default")
    return ActiveCatalog(version, active.catalog)


def _store_version(conn: Connection, catalog: Catalog, source: str, loaded_by: str) -> int:
    result = conn.execute(
        insert(schema.catalogs).values(
            name=catalog.scheme.name,
            digest=catalog.digest,
            source=source,
            loaded_at=now(),
            loaded_by=loaded_by,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


@dataclass(frozen=True)
class LoadResult:
    version: int
    catalog: Catalog
    rematched: int
    unchanged: bool


def load_catalog(store: Store, text: str, loaded_by: str = "cli") -> LoadResult:
    """Validate ``text`` (refusing it whole with every problem), store it, re-match all records.

    Loading a catalog identical to the active one changes nothing.
    """
    from guihua.usecases.rematch import rematch_all

    catalog = parse_catalog(text)
    with store.begin() as conn:
        current = stored_catalog(conn)
        if current is not None and current.version is not None and current.catalog.digest == catalog.digest:
            return LoadResult(current.version, catalog, 0, unchanged=True)
        version = _store_version(conn, catalog, text, loaded_by)
        count = rematch_all(conn, catalog)
        notices.create_for_records(conn, now())
        audit.append(conn, audit.cli_actor(), "catalog.load", detail=f"version {version}, {count} re-matched")
    return LoadResult(version, catalog, count, unchanged=False)


def catalog_versions(store: Store) -> list[tuple[int, str, str, str]]:
    with store.begin() as conn:
        rows = conn.execute(
            select(
                schema.catalogs.c.version,
                schema.catalogs.c.name,
                schema.catalogs.c.loaded_at,
                schema.catalogs.c.digest,
            ).order_by(schema.catalogs.c.version)
        ).all()
    return [(r.version, r.name, str(r.loaded_at)[:19], r.digest[:12]) for r in rows]
