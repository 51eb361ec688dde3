"""A submission split into many chunks stores what the same submission in one chunk stores.

Keys repeat across chunks (duplicates and corrections of rows of earlier
chunks), so the current-version lookup must find rows stored by this very
submission: on SQLite, for a department without records, through the filter of
keys seen so far (``guihua.ingest.keys``); with a size hint that turns on the
bulk load (indexes built at the end).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from guihua.intake.readers import read_chunks
from guihua.store.database import Store, open_store
from guihua.usecases.submissions import ingest_chunks
from tests.helpers import jsonl, record, subject


def _offence(i: int, fine: float) -> dict[str, object]:
    return record(
        f"T-{i:04d}",
        subject(i % 40),
        "traffic_offence",
        dt.date(2025, 1, 1 + i % 28),
        offence="running_red_light",
        fine=fine,
        paid=True,
    )


def _rows() -> list[dict[str, object]]:
    rows = [_offence(i, 200.0 if i % 3 else 50.0) for i in range(120)]
    # later in the file: the same again (duplicate) or changed (correction)
    rows += [_offence(i, 1000.0 if i % 2 else (200.0 if i % 3 else 50.0)) for i in range(0, 120, 7)]
    return rows


def _stored(store: Store) -> list[tuple[object, ...]]:
    with store.begin() as conn:
        return [
            tuple(r)
            for r in conn.exec_driver_sql(
                "SELECT source_id, version, is_current, subject_id, metric, fields, line, rule_id, points, "
                "category, start_year FROM records ORDER BY source_id, version"
            )
        ]


def _send_both(one: Store, store: Store, path: Path) -> dict[str, object]:
    """The file in one chunk to ``one``, in chunks of 7 rows to ``store``: the same outcome, the same rows."""
    expected = ingest_chunks(one, read_chunks(path, 10_000), "TRAFFIC", str(path))
    got = ingest_chunks(store, read_chunks(path, 7), "TRAFFIC", str(path), size_hint=10_000)
    assert got.as_dict() | {"submission_id": 0} == expected.as_dict() | {"submission_id": 0}
    assert _stored(store) == _stored(one)
    return expected.counts()


def test_many_chunks_store_what_one_chunk_stores(store: Store, tmp_path: Path) -> None:
    path = jsonl(tmp_path / "traffic.jsonl", _rows())
    one = open_store(str(tmp_path / "one.db"))
    # a key sent twice counts once, its last occurrence: 120 keys, 18 earlier occurrences superseded
    counts = _send_both(one, store, path)
    assert (counts["accepted"], counts["superseded"], counts["duplicates"], counts["corrected"]) == (
        120,
        18,
        0,
        0,
    )
    before = _stored(one)
    # the same file again (the department has records now: every key is looked up): nothing changes
    counts = _send_both(one, store, path)
    assert (counts["accepted"], counts["superseded"], counts["duplicates"], counts["corrected"]) == (
        0,
        18,
        120,
        0,
    )
    assert _stored(one) == before
    # changed rows first, then the file as stored: the stored rows win, the changes are superseded
    changed = [_offence(i, 777.0) for i in range(0, 120, 5)]
    counts = _send_both(one, store, jsonl(tmp_path / "first.jsonl", changed + _rows()))
    assert (counts["duplicates"], counts["superseded"], counts["corrected"]) == (120, 24 + 18, 0)
    assert _stored(one) == before
    # the file as stored, then changed rows: those keys are corrected, each once
    counts = _send_both(one, store, jsonl(tmp_path / "last.jsonl", _rows() + changed))
    assert (counts["duplicates"], counts["corrected"], counts["superseded"]) == (120 - 24, 24, 18 + 24)
    one.dispose()
