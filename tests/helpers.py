"""Writing department files for tests."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from guihua.core.ids import check_digit


def subject(seq: int, birth: str = "19850312", area: str = "320508") -> str:
    first17 = f"{area}{birth}{seq:03d}"
    return first17 + check_digit(first17)


def jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    def enc(v: Any) -> Any:
        return v.isoformat() if isinstance(v, dt.date) else v

    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            out = {k: enc(v) for k, v in r.items() if k != "fields"}
            out["fields"] = {k: enc(v) for k, v in r.get("fields", {}).items()}
            fh.write(json.dumps(out) + "\n")
    return path


def record(
    source_id: str, subject_id: str, metric: str, occurred_at: dt.date | str, **fields: Any
) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "subject_id": subject_id,
        "metric": metric,
        "occurred_at": occurred_at,
        "fields": fields,
    }


def day_of(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def submit_as_they_happen(store: Any, folder: Path, department: str, rows: list[dict[str, Any]]) -> list[Any]:
    """Each row received on the day it occurred (a department that sends at once), days in order.

    Spec version 2: a penalty never counts before the day its record was received, so a
    scenario about dates near ``occurred_at`` must say when each record arrived.
    """
    from guihua.usecases import submissions

    by_day: dict[dt.date, list[dict[str, Any]]] = {}
    for r in rows:
        by_day.setdefault(day_of(r["occurred_at"]), []).append(r)
    results = []
    for day in sorted(by_day):
        path = jsonl(folder / f"{department}-{day}-{len(by_day[day])}.jsonl", by_day[day])
        results.append(submissions.ingest_file(store, path, department, as_of=day))
    return results
