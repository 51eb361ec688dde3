"""A manifest of department files (as ``guihua synth`` writes it): checked whole, then loaded file by file.

Nothing is loaded unless every entry is right: its file exists and its header
(and first row) can be read, its department is in the active catalog and has
an agreement in force on the day. Then each file is one submission
(:func:`guihua.usecases.submissions.ingest_file`, in its own transaction). A
file that fails stops the load: the files before it stay loaded, the failed
one left nothing, the rest were not attempted, and the result says which is
which. Running the same manifest again completes it: a file already loaded is
sent again and its records count as duplicates (spec section 3), so nothing is
stored twice.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guihua.core.catalog import Catalog
from guihua.core.errors import GuihuaError, InvalidInput, UnreadableFile
from guihua.intake.readers import estimated_rows, read_chunks
from guihua.kit.clock import today
from guihua.store.catalog_queries import active_catalog
from guihua.store.database import Store
from guihua.usecases import submissions
from guihua.usecases.pipeline import IngestResult

MAX_LISTED = 20  # problems named in the one-line refusal; the rest are counted
_SHAPE = '{"file", "department"}'


@dataclass(frozen=True)
class ManifestEntry:
    """One line of a manifest: a file (as the manifest names it) and the department that sends it."""

    file: str
    department: str
    path: Path  # the file, relative to the manifest's folder unless absolute
    rows: int = 0  # about how many rows (exact for Parquet), for progress

    def as_dict(self) -> dict[str, str]:
        return {"file": self.file, "department": self.department}


@dataclass(frozen=True)
class LoadedFile:
    entry: ManifestEntry
    result: IngestResult

    def as_dict(self) -> dict[str, object]:
        r = self.result
        return {
            **self.entry.as_dict(),
            **r.counts(),
            "rejected_by_reason": r.rejected_by_reason,
            "submission_id": r.submission_id,
        }


@dataclass(frozen=True)
class FailedFile:
    entry: ManifestEntry
    exc: GuihuaError  # why; nothing of the file was stored

    @property
    def error(self) -> str:
        return self.exc.message

    def as_dict(self) -> dict[str, str]:
        return {**self.entry.as_dict(), "error": self.exc.message, "code": self.exc.code}


@dataclass
class ManifestLoad:
    """What a load did: the files loaded in order, the one that failed (if any), the rest."""

    entries: list[ManifestEntry]
    loaded: list[LoadedFile] = field(default_factory=list)
    failed: FailedFile | None = None

    @property
    def not_attempted(self) -> list[ManifestEntry]:
        return self.entries[len(self.loaded) + (self.failed is not None) :]

    @property
    def complete(self) -> bool:
        return self.failed is None

    def totals(self) -> dict[str, int]:
        keys = ("accepted", "duplicates", "corrected", "superseded", "rejected")
        return {k: sum(getattr(f.result, k) for f in self.loaded) for k in keys}

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.totals(),
            "files": len(self.entries),
            "complete": self.complete,
            "loaded": [f.as_dict() for f in self.loaded],
            "failed": self.failed.as_dict() if self.failed else None,
            "not_attempted": [e.as_dict() for e in self.not_attempted],
        }


def load_manifest(
    store: Store,
    manifest: Path,
    as_of: dt.date | None = None,
    on_file: Callable[[ManifestEntry, int, int], None] | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> ManifestLoad:
    """Check every entry of ``manifest`` (refusing it whole, every problem named), then load file by file.

    ``on_file(entry, i, n)`` is called before the ``i``-th file of ``n`` (from 0),
    ``on_rows(k)`` as ``k`` more rows of it are read. A file that fails stops the
    load (see the module's docstring); the result says what was loaded, what
    failed and why, and what was not attempted.
    """
    entries = check_manifest(store, manifest, as_of)
    load = ManifestLoad(entries)
    for i, entry in enumerate(entries):
        if on_file:
            on_file(entry, i, len(entries))
        try:
            result = submissions.ingest_file(
                store, entry.path, entry.department, on_progress=on_rows, as_of=as_of
            )
        except GuihuaError as exc:
            load.failed = FailedFile(entry, exc)
            break
        except OSError as exc:  # the file went away or became unreadable since it was checked
            load.failed = FailedFile(
                entry, UnreadableFile(f"cannot read {entry.file}: {exc.strerror or exc}")
            )
            break
        load.loaded.append(LoadedFile(entry, result))
    return load


def check_manifest(store: Store, manifest: Path, as_of: dt.date | None = None) -> list[ManifestEntry]:
    """Every entry of ``manifest`` checked before anything is loaded; refused whole, naming each problem.

    A manifest is a JSON list of ``{"file", "department"}`` objects. An entry is
    right when its file (relative to the manifest's folder) exists and its
    header and first row can be read, and its department is in the store's
    active catalog with an agreement in force on ``as_of`` (today). Returns the
    entries, with their estimated rows.
    """
    items = _items(manifest)
    with store.begin() as conn:
        catalog = active_catalog(conn).catalog
    day = as_of or today(catalog.scheme.timezone)
    problems: list[str] = []
    entries: list[ManifestEntry] = []
    unknown = False
    for n, item in enumerate(items, start=1):
        shape = _shape_problem(item)
        if shape:
            problems.append(f"entry {n} {shape}")
            continue
        entry = ManifestEntry(item["file"], item["department"], manifest.parent / item["file"])
        unknown |= entry.department not in catalog.department_by_code
        for problem in (_file_problem(entry), _department_problem(catalog, entry.department, day)):
            if problem:
                problems.append(f"entry {n} ({entry.file}, {entry.department}): {problem}")
        entries.append(entry)
    if problems:
        known = f" (the catalog's departments: {', '.join(sorted(catalog.department_by_code))})"
        raise _refused(manifest, problems, known if unknown else "")
    return [ManifestEntry(e.file, e.department, e.path, estimated_rows(e.path)) for e in entries]


def _items(manifest: Path) -> list[Any]:
    try:
        items = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise InvalidInput(f"cannot read manifest {manifest}: {reason}") from None
    if not isinstance(items, list):
        raise InvalidInput(f"cannot read manifest {manifest}: expected a list of {_SHAPE} objects")
    return items


def _shape_problem(item: Any) -> str | None:
    if not isinstance(item, dict):
        return f"is not a {_SHAPE} object"
    missing = [k for k in ("file", "department") if not isinstance(item.get(k), str) or not item[k]]
    if missing:
        return f"has no {' or '.join(repr(k) for k in missing)} (a non-empty string)"
    return None


def _file_problem(entry: ManifestEntry) -> str | None:
    """Why the entry's file cannot be read (its header and first row), else None."""
    try:
        chunks = read_chunks(entry.path, chunk_rows=1)
        try:
            next(chunks, None)
        finally:
            if isinstance(chunks, Generator):  # the reader's file is closed now, not when collected
                chunks.close()
    except GuihuaError as exc:
        return exc.message
    except OSError as exc:
        return f"cannot read {entry.file}: {exc.strerror or exc}"
    return None


def _department_problem(catalog: Catalog, code: str, day: dt.date) -> str | None:
    dept = catalog.department_by_code.get(code)
    if dept is None:
        return f"unknown department {code!r}"
    state = dept.agreement.state_on(day)
    if state != "in_force":
        return f"{code}'s data-sharing agreement is not in force on {day} ({state.replace('_', ' ')})"
    return None


def _refused(manifest: Path, problems: list[str], note: str = "") -> InvalidInput:
    """The one-line refusal of a whole manifest: each problem (the first :data:`MAX_LISTED`), and a note."""
    listed = "; ".join(problems[:MAX_LISTED])
    more = f"; and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
    return InvalidInput(
        f"manifest {manifest} refused, nothing was loaded: {len(problems)} problem(s): {listed}{more}{note}"
    )
