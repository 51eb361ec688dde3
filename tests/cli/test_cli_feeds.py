"""Agreements, submissions and feeds through the real command line, on both stores.

Each agreement state is what ``guihua agreements`` and ``guihua feeds`` say, and decides whether
``guihua ingest`` takes the file (exit 0) or refuses it whole (exit 2, one line naming the state,
nothing stored, the refusal audited).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guihua.store.database import Store
from guihua.usecases import audit
from tests.helpers import assert_one_line_error, jsonl, offence, run, subject
from tests.http.test_http_feeds import STATES
from tests.usecases.test_agreements import counts, with_agreement


def url_of(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


@pytest.mark.parametrize(("terms", "state"), STATES, ids=[s for _, s in STATES])
def test_each_agreement_state_through_the_cli(
    store: Store, tmp_path: Path, mini_catalog_text: str, terms: str, state: str
) -> None:
    db = url_of(store)
    catalog = tmp_path / "c.yaml"
    catalog.write_text(with_agreement(mini_catalog_text, terms))
    assert run("catalog", "load", str(catalog), db=db).returncode == 0
    listed = json.loads(run("agreements", "--json", db=db).stdout)
    [traffic] = [a for a in listed["agreements"] if a["department"] == "TRAFFIC"]
    assert (traffic["state"], traffic["in_force"], listed["at"]) == (state, state == "in_force", "2026-06-30")
    before = counts(store)
    path = jsonl(
        tmp_path / "t.jsonl", [offence(1, subject(1), "2026-06-01"), {"source_id": "", "subject_id": "x"}]
    )
    proc = run("ingest", str(path), "-d", "TRAFFIC", "--json", db=db)
    if state == "in_force":
        assert proc.returncode == 0, proc.stderr
        out = json.loads(proc.stdout)
        assert (out["accepted"], out["rejected"], out["warnings"]) == (1, 1, [])
    else:
        assert proc.returncode == 2
        assert json.loads(proc.stdout)["error"] == "agreement_not_in_force"
        assert_one_line_error(proc, "TRAFFIC", "not in force", state.replace("_", " "), "nothing")
        assert counts(store) == before
        refused = [
            e for e in audit.entries(store) if e["action"] == "records.ingest" and e["outcome"] == "refused"
        ]
        assert len(refused) == 1 and state.replace("_", " ") in refused[0]["detail"]
    feeds = json.loads(run("feeds", "--json", db=db).stdout)
    [row] = [f for f in feeds["feeds"] if f["department"] == "TRAFFIC"]
    assert (row["agreement_state"], row["in_force"], row["submissions"]) == (
        state,
        state == "in_force",
        1 if state == "in_force" else 0,
    )


def test_submissions_and_feeds_in_text_and_json(tmp_path: Path, mini_catalog_text: str) -> None:
    db = tmp_path / "g.db"
    catalog = tmp_path / "c.yaml"
    catalog.write_text(with_agreement(mini_catalog_text, "{frequency_days: 7}"))
    assert run("catalog", "load", str(catalog), db=db).returncode == 0
    for k, day in enumerate(("2026-06-01", "2026-06-02", "2026-06-03")):
        rows = [offence(100 * k + i, subject(i + 1), "2026-05-01") for i in range(20)]
        path = jsonl(tmp_path / f"t{k}.jsonl", rows)
        assert run("ingest", str(path), "-d", "TRAFFIC", db=db, env={"GUIHUA_TODAY": day}).returncode == 0
    few = jsonl(
        tmp_path / "few.jsonl", [offence(999, subject(1), "2026-06-01"), offence(998, "123", "2026-06-01")]
    )
    text = run("ingest", str(few), "-d", "TRAFFIC", db=db, env={"GUIHUA_TODAY": "2026-06-04"})
    assert (
        text.returncode == 0
        and "warning volume_fell: traffic_offence: 1 rows against a usual 20" in text.stdout
    )

    listed = json.loads(run("submissions", "--department", "TRAFFIC", "--limit", "2", "--json", db=db).stdout)
    assert listed["count"] == 2
    [last, before] = listed["submissions"]
    assert (last["file_name"], last["received_on"], last["rejected_by_reason"]) == (
        "few.jsonl",
        "2026-06-04",
        {"invalid_subject_id": 1},
    )
    assert [w["kind"] for w in last["warnings"]] == ["volume_fell"] and before["warnings"] == []
    shown = run("submissions", db=db)
    assert (
        shown.returncode == 0
        and "few.jsonl" in shown.stdout
        and "rejected invalid_subject_id: 1" in shown.stdout
    )
    assert run("submissions", "-d", "NOPE", db=db).returncode == 2

    feed = json.loads(run("feeds", "--at", "2026-06-20", "--json", db=db).stdout)
    [traffic] = [f for f in feed["feeds"] if f["department"] == "TRAFFIC"]
    assert {
        k: traffic[k] for k in ("submissions", "last_submission_on", "accepted", "rejected", "overdue")
    } == {
        "submissions": 4,
        "last_submission_on": "2026-06-04",
        "accepted": 61,
        "rejected": 1,
        "overdue": True,  # nothing since 06-04, promised every 7 days
    }
    assert (traffic["silent"], traffic["reject_rate"], traffic["due_on"]) == (
        False,
        round(1 / 62, 4),
        "2026-06-11",
    )
    assert [w["kind"] for w in traffic["warnings"]] == ["volume_fell"]
    alert = json.loads(run("feeds", "--at", "2026-06-20", "--alert", "--json", db=db).stdout)
    opened = [(o["department"], o["kind"]) for o in alert["alerts"]["opened"]]
    assert opened == [("TRAFFIC", "overdue"), ("TRAFFIC", "failing")]  # and 1 of its last 2 rows rejected
    again = run("feeds", "--at", "2026-06-20", "--alert", db=db)
    assert again.returncode == 0 and "alerts: nothing new" in again.stdout
    agreements = run("agreements", db=db)
    assert agreements.returncode == 0 and "in force" in agreements.stdout and "7 d" in agreements.stdout
    notices = run("feed-notices", "-d", "TRAFFIC", db=db)
    assert "overdue" in notices.stdout and "quality" in notices.stdout
    assert_one_line_error(
        run("contacts", "set-department", "NOPE", "--email", "a@example.org", db=db), "unknown department"
    )
    assert_one_line_error(
        run("contacts", "set-department", "TRAFFIC", "--email", "nope", db=db), "name@example.org"
    )
    assert_one_line_error(
        run("notices", "deliver", "--ops-webhook", "http://127.0.0.1:9/x", "--operator-email", "bad", db=db),
        "--operator-email",
    )
