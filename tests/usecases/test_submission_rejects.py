"""Quarantine by submission (issue 12, item 5), on both stores.

Each ingest is a submission that says what was sent (SHA-256, size, file name) and by whom;
a rejected row is kept once and belongs to every submission that refused it; ``open`` rows are
those whose key has not been accepted since; written back as CSV, they can be fixed and resent.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from guihua.core.errors import InvalidInput, NotFound
from guihua.store import schema
from guihua.store.database import Store
from guihua.usecases import audit, catalogs, records, submissions
from tests.helpers import jsonl, record, subject

A, B = subject(1), subject(2)
HEADER = ["source_id", "subject_id", "metric", "occurred_at", "hours", "organisation"]
GOOD = ["v1", A, "volunteer_service", "2026-03-01", "12", "Red Cross"]
BAD_ID = ["v2", "123", "volunteer_service", "2026-03-01", "2", "红十字会, 苏州"]
BAD_HOURS = ["v3", B, "volunteer_service", "2026-03-01", "twelve", "x"]
NO_KEY = ["", B, "volunteer_service", "2026-03-01", "3", "x"]


@pytest.fixture
def civil(store: Store, mini_catalog_text: str) -> Store:
    catalogs.load_catalog(store, mini_catalog_text)
    return store


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def submission_row(store: Store, submission_id: int) -> dict[str, object]:
    with store.begin() as conn:
        row = conn.execute(select(schema.submissions).where(schema.submissions.c.id == submission_id)).one()
    return dict(row._mapping)


def keys(rows: list[dict[str, object]]) -> list[str]:
    return sorted(str(r["source_id"]) for r in rows)


def test_a_file_sent_twice_is_two_submissions_with_one_digest_and_its_rejects_once(
    civil: Store, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "civil.csv", [GOOD, BAD_ID, BAD_HOURS])
    first = submissions.ingest_file(civil, path, "CIVIL")
    again = submissions.ingest_file(civil, path, "CIVIL")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert first.sha256 == again.sha256 == digest
    assert first.as_dict()["sha256"] == digest and first.as_dict()["size_bytes"] == path.stat().st_size
    for result in (first, again):
        row = submission_row(civil, result.submission_id)
        assert (row["sha256"], row["size_bytes"], row["file_name"]) == (
            digest,
            path.stat().st_size,
            "civil.csv",
        )
        assert row["origin"] == str(path)  # the full text given stays
        assert row["sent_by"] == audit.cli_actor().account
        assert isinstance(row["duration_ms"], int) and row["duration_ms"] >= 0
        assert row["rejected"] == 2  # a submission counts what it refused, even rows quarantined before
    assert (again.accepted, again.duplicates, again.rejected) == (0, 1, 2)

    everything = records.list_rejects(civil, "CIVIL")
    assert keys(everything) == ["v2", "v3"]  # not doubled
    assert all(r["submission_id"] == first.submission_id for r in everything)
    assert all(r["submissions"] == [first.submission_id, again.submission_id] for r in everything)
    for sid in (first.submission_id, again.submission_id):
        assert keys(records.list_rejects(civil, submission=sid)) == ["v2", "v3"]


def test_submission_shows_only_what_it_refused(civil: Store, tmp_path: Path) -> None:
    one = submissions.ingest_file(civil, write_csv(tmp_path / "a.csv", [BAD_ID]), "CIVIL")
    two = submissions.ingest_file(civil, write_csv(tmp_path / "b.csv", [GOOD, BAD_HOURS]), "CIVIL")
    three = submissions.ingest_file(civil, write_csv(tmp_path / "c.csv", [GOOD]), "CIVIL")
    assert keys(records.list_rejects(civil, submission=one.submission_id)) == ["v2"]
    assert keys(records.list_rejects(civil, "CIVIL", submission=two.submission_id)) == ["v3"]
    assert records.list_rejects(civil, submission=three.submission_id) == []
    with pytest.raises(NotFound, match="no submission 99"):
        records.list_rejects(civil, submission=99)
    with pytest.raises(NotFound, match="from TRAFFIC"):  # a department sees only its own submissions
        records.list_rejects(civil, "TRAFFIC", submission=one.submission_id)
    with pytest.raises(InvalidInput):
        records.list_rejects(civil, submission=0)


def test_open_drops_a_row_once_a_corrected_version_of_its_key_is_accepted(
    civil: Store, tmp_path: Path
) -> None:
    sent = submissions.ingest_file(
        civil, write_csv(tmp_path / "a.csv", [GOOD, BAD_ID, BAD_HOURS, NO_KEY]), "CIVIL"
    )
    assert sent.rejected == 3
    assert keys(records.list_rejects(civil, open_only=True)) == ["None", "v2", "v3"]
    # v1 was accepted before: a later refusal of v1 is open (its key was not accepted *since*)
    late = [*GOOD[:4], "many", "Red Cross"]
    submissions.ingest_file(civil, write_csv(tmp_path / "b.csv", [late]), "CIVIL")
    assert keys(records.list_rejects(civil, open_only=True)) == ["None", "v1", "v2", "v3"]

    fixed = [*BAD_HOURS[:4], "12", "x"]
    fixing = submissions.ingest_file(civil, write_csv(tmp_path / "c.csv", [fixed]), "CIVIL")
    assert fixing.accepted == 1
    assert keys(records.list_rejects(civil, "CIVIL", open_only=True)) == [
        "None",
        "v1",
        "v2",
    ]  # no source id: open
    closed = {r["source_id"]: r["open"] for r in records.list_rejects(civil)}
    assert closed == {"v1": True, "v2": True, "v3": False, None: True}
    assert keys(records.list_rejects(civil, submission=sent.submission_id, open_only=True)) == ["None", "v2"]

    # the first file sent again refuses v3's old row once more: it joins that submission, but the key
    # was accepted after the row was first refused, so it is not open again
    resent = submissions.ingest_file(civil, tmp_path / "a.csv", "CIVIL")
    assert "v3" in keys(records.list_rejects(civil, submission=resent.submission_id))
    assert "v3" not in keys(records.list_rejects(civil, open_only=True))

    # a correction of v1 accepted closes its later refusal too; a retraction does not reopen it
    submissions.ingest_file(civil, write_csv(tmp_path / "d.csv", [[*GOOD[:4], "13", "Red Cross"]]), "CIVIL")
    records.retract(civil, "CIVIL", "v1")
    assert keys(records.list_rejects(civil, open_only=True)) == ["None", "v2"]


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _resend(path: Path, header: list[str], rows: list[dict[str, str]], drop: list[str]) -> Path:
    kept = [c for c in header if c not in drop]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, kept, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def test_written_rejects_are_the_departments_csv_to_fix_and_resend(civil: Store, tmp_path: Path) -> None:
    sent = submissions.ingest_file(civil, write_csv(tmp_path / "a.csv", [GOOD, BAD_ID, BAD_HOURS]), "CIVIL")
    out = records.write_rejects(civil, tmp_path / "fix.csv", submission=sent.submission_id)
    assert (out.rows, out.note_columns) == (2, ["line", "reason", "detail"])
    header, rows = _read(tmp_path / "fix.csv")
    assert header == [*HEADER, "line", "reason", "detail"]
    assert [(r["source_id"], r["line"], r["reason"]) for r in rows] == [
        ("v2", "3", "invalid_subject_id"),
        ("v3", "4", "invalid_field"),
    ]
    assert rows[0]["organisation"] == "红十字会, 苏州"  # as the department sent it
    rows[0]["subject_id"], rows[1]["hours"] = subject(3), "12"
    again = submissions.ingest_file(
        civil, _resend(tmp_path / "fixed.csv", header, rows, out.note_columns), "CIVIL"
    )
    assert (again.accepted, again.rejected) == (2, 0)
    assert records.list_rejects(civil, open_only=True) == []


def test_note_columns_left_in_are_undeclared_fields(civil: Store, tmp_path: Path) -> None:
    """Spec section 3: a non-empty cell in a column no metric declares is refused, so the clerk deletes them."""
    submissions.ingest_file(civil, write_csv(tmp_path / "a.csv", [BAD_HOURS]), "CIVIL")
    records.write_rejects(civil, tmp_path / "fix.csv")
    header, rows = _read(tmp_path / "fix.csv")
    rows[0]["hours"] = "12"
    result = submissions.ingest_file(civil, _resend(tmp_path / "fixed.csv", header, rows, []), "CIVIL")
    assert (result.accepted, result.rejected_by_reason) == (0, {"unknown_field": 1})


def test_json_lines_rejects_come_back_as_columns_and_unreadable_rows_as_text(
    civil: Store, tmp_path: Path
) -> None:
    path = jsonl(
        tmp_path / "civil.jsonl",
        [
            record("j1", "123", "volunteer_service", "2026-03-01", hours=12.5, organisation="x"),
            record("j2", A, "volunteer_service", "2026-03-01", hours="many", organisation="y"),
        ],
    )
    with path.open("a", encoding="utf-8") as fh:
        fh.write("{not json\n")
    submissions.ingest_file(civil, path, "CIVIL")
    out = records.write_rejects(civil, tmp_path / "fix.csv", "CIVIL")
    header, rows = _read(tmp_path / "fix.csv")
    assert out.note_columns == ["line", "reason", "detail", "raw"]
    assert header == [*HEADER, "line", "reason", "detail", "raw"]
    assert [(r["source_id"], r["hours"], r["reason"], r["raw"]) for r in rows] == [
        ("j1", "12.5", "invalid_subject_id", ""),
        ("j2", "many", "invalid_field", ""),
        ("", "", "unreadable", "{not json"),  # could not be split into cells: to be typed again
    ]
    rows[0]["subject_id"], rows[1]["hours"] = subject(4), "3"
    result = submissions.ingest_file(
        civil, _resend(tmp_path / "f.csv", header, rows[:2], out.note_columns), "CIVIL"
    )
    assert (result.accepted, result.rejected) == (2, 0)
    assert [r["reason"] for r in records.list_rejects(civil, open_only=True)] == ["unreadable"]


def test_a_note_column_never_takes_a_departments_column_name(civil: Store, tmp_path: Path) -> None:
    header = [*HEADER, "line"]  # the department sent a column called line
    submissions.ingest_file(civil, write_csv(tmp_path / "a.csv", [[*BAD_HOURS, "7"]], header), "CIVIL")
    out = records.write_rejects(civil, tmp_path / "fix.csv")
    got, rows = _read(tmp_path / "fix.csv")
    assert out.note_columns == ["reject_line", "reason", "detail"]
    assert got == [*header, "reject_line", "reason", "detail"]
    assert (rows[0]["line"], rows[0]["reject_line"], rows[0]["reason"]) == ("7", "2", "unknown_field")


def test_writing_refuses_what_cannot_be_resent(civil: Store, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"use a \.csv file name"):
        records.write_rejects(civil, tmp_path / "fix.xlsx")
    with pytest.raises(InvalidInput, match="does not exist"):
        records.write_rejects(civil, tmp_path / "nowhere" / "fix.csv")
    submissions.ingest_file(civil, write_csv(tmp_path / "a.csv", [BAD_ID]), "CIVIL")
    traffic = ["t1", "123", "traffic_offence", "2026-03-01"]
    submissions.ingest_file(
        civil,
        write_csv(tmp_path / "t.csv", [traffic], ["source_id", "subject_id", "metric", "occurred_at"]),
        "TRAFFIC",
    )
    with pytest.raises(InvalidInput, match="2 departments"):
        records.write_rejects(civil, tmp_path / "fix.csv")
    assert records.write_rejects(civil, tmp_path / "fix.csv", "TRAFFIC").rows == 1
    assert json.loads(json.dumps(records.list_rejects(civil)))  # plain JSON values
