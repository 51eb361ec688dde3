"""A property of every submission, on both stores: nothing lost, nothing doubled, a resend changes nothing.

Hypothesis mixes valid rows (keys repeating, so later occurrences supersede
earlier ones) with bad rows of every kind the spec names: each reject reason,
the limits, NUL, a lone surrogate (JSON Lines), a ragged row (CSV), in CSV with
every line-ending convention and in JSON Lines. Then:

- every key with a valid occurrence is stored once, with its last valid occurrence;
- every bad row is in quarantine once, on its line, with its reason;
- sending the same file again adds no version, no notice and no quarantined row.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guihua.store.database import Store, open_store
from guihua.usecases import catalogs, records, submissions
from tests.conftest import DATA, _empty_pg
from tests.helpers import subject

CATALOG_TEXT = (DATA / "mini.yaml").read_text()
A = subject(1)
COLUMNS = ["source_id", "subject_id", "metric", "occurred_at", "hours", "organisation", "colour", "religion"]
KEYS = [f"k{i}" for i in range(6)]

# kind -> (the reason it must get (None: valid), how it differs from a valid row)
KINDS: dict[str, tuple[str | None, dict[str, str]]] = {
    "valid": (None, {}),
    "missing_source_id": ("missing_source_id", {"source_id": ""}),
    "invalid_subject_id": ("invalid_subject_id", {"subject_id": "123"}),
    "invalid_date": ("invalid_date", {"occurred_at": "2025-02-30"}),
    "future_date": ("future_date", {"occurred_at": "2026-07-01"}),
    "unknown_metric": ("unknown_metric", {"metric": "no_such_metric"}),
    "metric_not_permitted": ("metric_not_permitted", {"metric": "traffic_offence"}),
    "prohibited_attribute": ("prohibited_attribute", {"religion": "x"}),
    "unknown_field": ("unknown_field", {"colour": "red"}),
    "missing_field": ("missing_field", {"hours": ""}),
    "invalid_field": ("invalid_field", {"hours": "ten"}),
    "long_source_id": ("unreadable", {"source_id": "s" * 201}),
    "long_cell": ("unreadable", {"organisation": "o" * 4001}),
    "nul": ("unreadable", {"organisation": "a\x00b"}),
}
JSON_ONLY = {"surrogate": ("unreadable", {"organisation": "\ud800"})}
CSV_ONLY = {"ragged": ("unreadable", {})}


@st.composite
def submission(draw: Any, fmt: str) -> list[tuple[str, dict[str, str]]]:
    kinds = {**KINDS, **(JSON_ONLY if fmt == "jsonl" else CSV_ONLY)}
    out = []
    for _ in range(draw(st.integers(1, 30))):
        kind = draw(st.sampled_from(["valid"] * 4 + list(kinds)))
        row = {
            "source_id": draw(st.sampled_from(KEYS)),
            "subject_id": A,
            "metric": "volunteer_service",
            "occurred_at": draw(st.sampled_from(["2025-01-01", "2025-06-01"])),
            "hours": draw(st.sampled_from(["1", "12", "2.5"])),
            "organisation": draw(st.sampled_from(["Red Cross", "桂花"])),
            "colour": "",
            "religion": "",
        }
        row.update(kinds[kind][1])
        out.append((kind, row))
    return out


def _write(path: Path, rows: list[tuple[str, dict[str, str]]], fmt: str, ending: str) -> Path:
    if fmt == "jsonl":
        lines = []
        for _, r in rows:
            fields = {k: r[k] for k in ("hours", "organisation", "colour", "religion") if r[k] != ""}
            base = {k: r[k] for k in ("source_id", "subject_id", "metric", "occurred_at")}
            lines.append(json.dumps({**base, "fields": fields}))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=ending)
    writer.writerow(COLUMNS)
    for kind, r in rows:
        writer.writerow([r[c] for c in COLUMNS] if kind != "ragged" else [r["source_id"], "too", "few"])
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")
    return path


def _reason(kind: str) -> str | None:
    return {**KINDS, **JSON_ONLY, **CSV_ONLY}[kind][0]


@contextmanager
def fresh_store(kind: str, request: pytest.FixtureRequest) -> Iterator[Store]:
    if kind == "postgres":
        store = _empty_pg(request.getfixturevalue("pg_url"))
    else:
        folder = Path(tempfile.mkdtemp(prefix="guihua-mixed-"))
        store = open_store(str(folder / "s.db"))
    catalogs.load_catalog(store, CATALOG_TEXT)
    try:
        yield store
    finally:
        store.dispose()
        if kind != "postgres":
            shutil.rmtree(folder, ignore_errors=True)


def _state(store: Store) -> dict[str, Any]:
    with store.begin() as conn:
        current = conn.exec_driver_sql(
            "SELECT source_id, occurred_at, fields FROM records WHERE is_current ORDER BY source_id"
        ).all()
        counts = {
            t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one()
            for t in ("records", "notices", "quarantine")
        }
    return {"current": [(r[0], str(r[1])[:10], json.loads(r[2])) for r in current], **counts}


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
@pytest.mark.parametrize(("fmt", "ending"), [("csv", "\n"), ("csv", "\r\n"), ("csv", "\r"), ("jsonl", "\n")])
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_nothing_lost_nothing_doubled_and_a_resend_changes_nothing(kind, fmt, ending, request, data) -> None:
    rows = data.draw(submission(fmt))
    first_line = 2 if fmt == "csv" else 1
    with fresh_store(kind, request) as store, tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp) / f"civil.{fmt}", rows, fmt, ending)
        result = submissions.ingest_file(store, path, "CIVIL")
        valid = [(i, r) for i, (k, r) in enumerate(rows) if _reason(k) is None]
        last: dict[str, dict[str, str]] = {r["source_id"]: r for _, r in valid}
        assert (result.accepted, result.superseded) == (len(last), len(valid) - len(last))
        state = _state(store)
        assert [s for s, _, _ in state["current"]] == sorted(last)
        for source_id, occurred, fields in state["current"]:
            assert (occurred, fields["organisation"]) == (
                last[source_id]["occurred_at"],
                last[source_id]["organisation"],
            )
        assert state["records"] == len(last)  # one version per key: earlier occurrences never stored
        expected = sorted((i + first_line, _reason(k)) for i, (k, _) in enumerate(rows) if _reason(k))
        quarantined = sorted((int(r["line"]), r["reason"]) for r in records.list_rejects(store))  # type: ignore[call-overload]
        assert quarantined == expected
        again = submissions.ingest_file(store, path, "CIVIL")
        assert (again.accepted, again.corrected, again.duplicates) == (0, 0, len(last))
        assert _state(store) == state  # no version, no notice, no quarantined row added
