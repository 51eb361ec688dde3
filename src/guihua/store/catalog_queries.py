"""Catalog versions: every catalog ever loaded, the newest one in force.

Reading the active catalog is the store's business (every use case needs it);
a version's text never changes once stored, so it is parsed once per process.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Connection, insert, select

from guihua.core.catalog import Catalog
from guihua.core.catalog_parsing import parse_catalog
from guihua.kit.clock import now
from guihua.schemes import default_catalog_text
from guihua.store import schema
from guihua.store.database import AnyRow

_c = schema.catalogs


@dataclass(frozen=True)
class ActiveCatalog:
    version: int | None  # None: the packaged default, not yet stored
    catalog: Catalog


_BY_VERSION: dict[tuple[str, int, str], Catalog] = {}
_HEAD = select(_c.c.version, _c.c.digest).order_by(_c.c.version.desc()).limit(1)


@lru_cache(maxsize=16)
def parsed(text: str) -> Catalog:
    """Catalogs are immutable: parse each stored text once per process."""
    return parse_catalog(text)


def stored_catalog(conn: Connection) -> ActiveCatalog | None:
    """The newest stored catalog version, if any was stored.

    Only the version number is read on every call; a version's text is read and
    parsed once per store (versions never change once stored).
    """
    head = conn.execute(_HEAD).first()
    if head is None:
        return None
    version = int(head.version)
    key = (str(conn.engine.url), version, head.digest)  # a re-created store may reuse version numbers
    catalog = _BY_VERSION.get(key)
    if catalog is None:
        source = conn.execute(select(_c.c.source).where(_c.c.version == version)).scalar_one()
        catalog = _BY_VERSION[key] = parsed(source)
    return ActiveCatalog(version, catalog)


def active_catalog(conn: Connection) -> ActiveCatalog:
    """The newest stored catalog, else the packaged default."""
    return stored_catalog(conn) or ActiveCatalog(None, parsed(default_catalog_text()))


def ensure_catalog(conn: Connection) -> ActiveCatalog:
    """The active catalog, storing the default as version 1 on first use so matches stay traceable."""
    active = active_catalog(conn)
    if active.version is not None:
        return active
    version = store_version(conn, active.catalog, default_catalog_text(), "default")
    return ActiveCatalog(version, active.catalog)


def store_version(conn: Connection, catalog: Catalog, source: str, loaded_by: str) -> int:
    result = conn.execute(
        insert(_c).values(
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


def versions(conn: Connection) -> list[AnyRow]:
    stmt = select(_c.c.version, _c.c.name, _c.c.loaded_at, _c.c.digest).order_by(_c.c.version)
    return list(conn.execute(stmt).all())


def active_source(conn: Connection, version: int | None = None) -> tuple[int | None, str]:
    """A version's text exactly as it was loaded (comments included), by default the active one's.

    With no version stored yet the packaged default's text is the active catalog.
    """
    stmt = select(_c.c.version, _c.c.source).order_by(_c.c.version.desc()).limit(1)
    if version is not None:
        stmt = select(_c.c.version, _c.c.source).where(_c.c.version == version)
    row = conn.execute(stmt).first()
    if row is None:
        return None, default_catalog_text()
    return int(row.version), str(row.source)
