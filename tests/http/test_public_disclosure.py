"""A withheld public count is not a subtraction away (issue 16, statistical disclosure control).

A real store with 8 residents below base (one histogram bin) and 25 above: before, the 8 was
withheld while ``below`` and the other cells were shown. Now every sum the published figures
obey leaves each withheld figure undetermined: checked by brute force over the whole numbers
that agree with what is shown.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

from fastapi.testclient import TestClient

from guihua.http.service import create_app
from guihua.store.database import Store
from guihua.usecases import catalogs, submissions
from tests.conftest import DATA
from tests.helpers import jsonl, offence, subject, vol


def published_sums(d: dict) -> list[tuple[str, list[str]]]:
    bins = [f"bin:{b['from']}" for b in d["histogram"]]
    under = [f"bin:{b['from']}" for b in d["histogram"] if b["to"] <= d["base"]]
    return [("subjects", ["above", "at_base", "below"]), ("subjects", bins), ("below", under)]


def test_no_withheld_count_follows_from_the_shown_ones(tmp_path: Path, sqlite_store: Store) -> None:
    catalogs.load_catalog(sqlite_store, (DATA / "mini.yaml").read_text())
    rows = [offence(i, subject(i), "2026-01-10") for i in range(1, 9)]  # 8 residents at 97
    submissions.ingest_file(
        sqlite_store, jsonl(tmp_path / "t.jsonl", rows), "TRAFFIC", as_of=dt.date(2026, 2, 1)
    )
    rows = [vol(i, subject(100 + i), "2026-01-10") for i in range(25)]  # 25 residents at 103
    submissions.ingest_file(
        sqlite_store, jsonl(tmp_path / "v.jsonl", rows), "CIVIL", as_of=dt.date(2026, 2, 1)
    )
    with TestClient(create_app(sqlite_store)) as c:
        d = c.get("/api/v1/stats/distribution?at=2026-04-01").json()
    cells = {k: d[k] for k in ("subjects", "above", "at_base", "below")}
    cells |= {f"bin:{b['from']}": b["count"] for b in d["histogram"]}
    hidden = sorted(k for k, v in cells.items() if v is None)
    assert "below" in hidden and "bin:90" in hidden  # 8 residents: withheld
    assert len(hidden) >= 2
    sums = published_sums(d)
    total = 33
    options = []
    for values in itertools.product(range(total + 1), repeat=len(hidden)):
        guess = {**cells, **dict(zip(hidden, values, strict=True))}
        if all(guess[t] == sum(guess[p] for p in parts) for t, parts in sums):
            options.append(guess)
    assert options
    for name in hidden:
        assert len({o[name] for o in options}) >= 2, (name, d)


def test_a_feeds_withheld_rejects_are_not_rows_minus_accepted() -> None:
    from guihua.usecases.public_stats import public_feed

    row = {k: None for k in ("department", "name", "at", "in_force", "agreement_state", "frequency_days")}
    row |= {k: None for k in ("submissions", "first_submission_on", "last_submission_on", "due_on")}
    row |= {"overdue": False, "silent": False, "failing": False, "submissions_30d": 3, "warnings": []}
    row |= {"rows": 1000, "accepted": 980, "duplicates": 12, "corrected": 0, "superseded": 0, "rejected": 8}
    row |= {
        "rows_30d": 300,
        "accepted_30d": 295,
        "rejected_30d": 5,
        "reject_rate": 0.008,
        "reject_rate_30d": 0.0167,
    }
    row |= {
        "top_reasons": [{"reason": "bad_id", "rows": 8}],
        "top_reasons_30d": [{"reason": "bad_id", "rows": 5}],
    }
    shown = public_feed(row)
    assert shown["rejected"] is None and shown["top_reasons"][0]["rows"] is None
    known = [shown[k] for k in ("rows", "accepted", "duplicates", "corrected", "superseded")]
    assert None in known  # else rows - the others = the 8 withheld
    assert shown["reject_rate"] is None and shown["rejected_30d"] is None
