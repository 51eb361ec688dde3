"""Catalog versions: load one (validate, keep every version, re-match stored records), list them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from guihua.core.catalog import Catalog
from guihua.core.catalog_parsing import parse_catalog
from guihua.core.errors import InvalidInput, NotFound
from guihua.core.record_format import MetricFormat, record_format, record_formats
from guihua.kit.clock import now, today
from guihua.store import catalog_queries, notice_queries
from guihua.store.catalog_queries import active_catalog as active_catalog
from guihua.store.database import Store
from guihua.usecases import agreements, audit
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
        old = current.catalog if current is not None else None
        agreements.audit_changes(conn, audit.cli_actor(), old, catalog, version)
    return LoadResult(version, catalog, count, unchanged=False)


def catalog_versions(store: Store) -> list[tuple[int, str, str, str]]:
    with store.begin() as conn:
        rows = catalog_queries.versions(conn)
    return [(r.version, r.name, str(r.loaded_at)[:19], r.digest[:12]) for r in rows]


def active(store: Store) -> tuple[int | None, Catalog]:
    """The active catalog's version and model: what ``published`` answers, for an adapter that words
    it in its reader's language (the portal's home page) rather than as JSON."""
    with store.begin() as conn:
        found = catalog_queries.active_catalog(conn)
    return found.version, found.catalog


def published(store: Store) -> dict[str, object]:
    """The active catalog as published: its rules, legal bases, perks and every metric's format.

    The rules of a public-credit scheme are public: the CLI's ``catalog show --json`` and the
    API's ``GET /api/v1/catalog`` answer this same object.
    """
    with store.begin() as conn:
        active = catalog_queries.active_catalog(conn)
    shown = active.catalog.model_dump(mode="json")
    formats: list[MetricFormat] = record_formats(active.catalog)
    return {"version": active.version, **shown, "record_formats": [f.as_dict() for f in formats]}


TEMPLATE_FORMATS = ("csv", "jsonl")


def template(store: Store, metric: str, form: str = "csv") -> str:
    """A header and one example row of ``metric`` in ``form`` (csv or jsonl), ready to fill in.

    The example row passes validation as it stands: a department can send it to a test store
    to see the whole path work before sending real data.
    """
    if form not in TEMPLATE_FORMATS:
        raise InvalidInput(f"unknown template format {form!r}: use csv or jsonl")
    with store.begin() as conn:
        catalog = catalog_queries.active_catalog(conn).catalog
    found = record_format(catalog, metric)
    if found is None:
        known = ", ".join(m.code for m in catalog.metrics)
        raise NotFound(f"no metric {metric!r} in the active catalog; metrics: {known}")
    example = found.example()
    if form == "jsonl":
        typed = {c.name: _typed(example[c.name], c.type) for c in found.columns}
        return json.dumps(typed, ensure_ascii=False) + "\n"
    return _csv_line(found.header) + _csv_line([example[h] for h in found.header])


def export_catalog(store: Store, out: Path, version: int | None = None) -> int | None:
    """Write a catalog version's YAML (the active one by default) exactly as it was loaded."""
    if out.suffix.lower() not in (".yaml", ".yml"):
        raise InvalidInput(f"--out must end in .yaml or .yml, not {out.name!r}")
    with store.begin() as conn:
        number, text = catalog_queries.active_source(conn, version)
    if version is not None and number is None:
        raise NotFound(f"no catalog version {version}: see `guihua catalog versions`")
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot write {out}: {exc.strerror or exc}") from None
    return number


def _typed(text: str, ftype: str) -> object:
    """The example's text as the JSON value a department's system would write."""
    if ftype == "int":
        return int(text)
    if ftype == "number":
        return float(text)
    if ftype == "bool":
        return text == "true"
    return text


def _csv_line(cells: list[str]) -> str:
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()
