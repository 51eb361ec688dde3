"""Catalog versions: load one (validate, keep every version, re-match stored records), list them."""

from __future__ import annotations

from dataclasses import dataclass

from guihua.core.catalog import Catalog
from guihua.core.catalog_parsing import parse_catalog
from guihua.kit.clock import now, today
from guihua.store import catalog_queries, notice_queries
from guihua.store.catalog_queries import active_catalog as active_catalog
from guihua.store.database import Store
from guihua.usecases import audit
from guihua.usecases.rematch import rematch_all


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
    catalog = parse_catalog(text)
    with store.begin() as conn:
        current = catalog_queries.stored_catalog(conn)
        if current is not None and current.catalog.digest == catalog.digest:
            return LoadResult(current.version or 0, catalog, 0, unchanged=True)
        version = catalog_queries.store_version(conn, catalog, text, loaded_by)
        count = rematch_all(conn, catalog)
        notice_queries.create_for_records(conn, catalog, today(catalog.scheme.timezone), now())
        audit.append(conn, audit.cli_actor(), "catalog.load", detail=f"version {version}, {count} re-matched")
    return LoadResult(version, catalog, count, unchanged=False)


def catalog_versions(store: Store) -> list[tuple[int, str, str, str]]:
    with store.begin() as conn:
        rows = catalog_queries.versions(conn)
    return [(r.version, r.name, str(r.loaded_at)[:19], r.digest[:12]) for r in rows]
