"""A department's field may bear any name, including the names the validator uses for its notes."""

from __future__ import annotations

import json
from pathlib import Path

from guihua.store.database import Store
from guihua.usecases import catalogs, records, scores, submissions
from tests.conftest import DATA
from tests.helpers import D, subject

A = subject(1)


def test_fields_named_reason_and_detail_are_kept(store: Store, tmp_path: Path) -> None:
    text = (DATA / "mini.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "fields: {hours: number, organisation: string}",
        "fields: {hours: number, reason: string, detail: string}",
    )
    catalogs.load_catalog(store, text)
    path = tmp_path / "v.csv"
    path.write_text(
        "source_id,subject_id,metric,occurred_at,hours,reason,detail\n"
        f"ok,{A},volunteer_service,2026-03-01,12,flood relief,sandbags\n"
        f"bad,{A},volunteer_service,2026-03-01,many,flood relief,sandbags\n",
        encoding="utf-8",
    )
    result = submissions.ingest_file(store, path, "CIVIL")
    assert (result.accepted, result.rejected) == (1, 1)
    (item,) = scores.explain(store, A, D("2026-04-01")).items
    assert item.fields == {"hours": 12.0, "reason": "flood relief", "detail": "sandbags"}
    (rejected,) = records.list_rejects(store, "CIVIL")
    assert (rejected["reason"], rejected["detail"]) == ("invalid_field", "field hours is not a number")
    assert json.loads(rejected["raw"])["reason"] == "flood relief"
