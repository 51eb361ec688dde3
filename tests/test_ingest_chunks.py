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

from guihua.ingest.readers import read_chunks
from guihua.store.database import Store, open_store
from guihua.usecases.ingest import ingest_chunks
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


def test_many_chunks_store_what_one_chunk_stores(store: Store, tmp_path: Path) -> None:
    path = jsonl(tmp_path / "traffic.jsonl", _rows())
    one = open_store(str(tmp_path / "one.db"))
    expected = ingest_chunks(one, read_chunks(path, 10_000), "TRAFFIC", str(path))
    got = ingest_chunks(store, read_chunks(path, 7), "TRAFFIC", str(path), size_hint=10_000)
    assert got.as_dict() | {"submission_id": 0} == expected.as_dict() | {"submission_id": 0}
    assert expected.duplicates > 0 and expected.corrected > 0
    assert _stored(store) == _stored(one)
    # the same file again, now that the department has records: every key is looked up in the store
    expected = ingest_chunks(one, read_chunks(path, 10_000), "TRAFFIC", str(path))
    got = ingest_chunks(store, read_chunks(path, 7), "TRAFFIC", str(path), size_hint=10_000)
    assert got.as_dict() | {"submission_id": 0} == expected.as_dict() | {"submission_id": 0}
    assert expected.duplicates > 0 and expected.accepted == 0
    assert _stored(store) == _stored(one)
    one.dispose()
