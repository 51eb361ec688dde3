"""Reject reasons (spec section 3): each reason, their order, quarantine, formats, idempotency."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from guihua.store.database import Store
from guihua.usecases import catalogs, records, scores, submissions
from tests.helpers import jsonl, record, subject

A = subject(1)
HEADER = ["source_id", "subject_id", "metric", "occurred_at", "hours", "organisation"]


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def reasons(store: Store, path: Path, dept: str = "CIVIL") -> list[str | None]:
    """The reason of each row, in file order (None: accepted)."""
    result = submissions.ingest_file(store, path, dept)
    rejected = {
        r["line"]: r["reason"]
        for r in records.list_rejects(store, dept)
        if r["submission_id"] == result.submission_id
    }
    first = 2 if path.suffix == ".csv" else 1  # a CSV's line 1 is its header; Parquet rows count from 1
    total = result.accepted + result.duplicates + result.corrected + result.rejected
    lines = sorted(set(rejected) | set(range(first, first + total)))
    return [rejected.get(n) for n in lines]


@pytest.fixture
def civil(store: Store, mini_catalog_text: str) -> Store:
    catalogs.load_catalog(store, mini_catalog_text)
    return store


CASES = [
    ("missing_source_id", ["", A, "volunteer_service", "2025-01-01", "12", "x"]),
    (
        "invalid_subject_id",
        ["s", A[:-1] + ("0" if A[-1] != "0" else "1"), "volunteer_service", "2025-01-01", "12", "x"],
    ),
    ("invalid_subject_id", ["s", "", "volunteer_service", "2025-01-01", "12", "x"]),
    ("invalid_date", ["s", A, "volunteer_service", "2025-02-30", "12", "x"]),
    ("invalid_date", ["s", A, "volunteer_service", "2025-1-5", "12", "x"]),
    ("invalid_date", ["s", A, "volunteer_service", "", "12", "x"]),
    ("future_date", ["s", A, "volunteer_service", "2026-07-01", "12", "x"]),  # today is 2026-06-30
    ("unknown_metric", ["s", A, "charity", "2025-01-01", "12", "x"]),
    ("metric_not_permitted", ["s", A, "traffic_offence", "2025-01-01", "", ""]),
    ("missing_field", ["s", A, "volunteer_service", "2025-01-01", "12", ""]),  # empty cell = absent
    ("invalid_field", ["s", A, "volunteer_service", "2025-01-01", "twelve", "x"]),
    ("invalid_field", ["s", A, "volunteer_service", "2025-01-01", "inf", "x"]),
]


@pytest.mark.parametrize("reason,row", CASES)
def test_each_reason_in_csv(civil: Store, tmp_path: Path, reason: str, row: list[str]) -> None:
    assert reasons(civil, write_csv(tmp_path / "f.csv", [row])) == [reason]


def test_prohibited_and_unknown_fields_in_csv(civil: Store, tmp_path: Path) -> None:
    header = [*HEADER, "religion", "fine"]
    rows = [
        ["p1", A, "volunteer_service", "2025-01-01", "12", "x", "buddhist", ""],  # prohibited
        ["p2", A, "volunteer_service", "2025-01-01", "12", "x", "", "100"],  # fine: not a volunteering field
        ["p3", A, "volunteer_service", "2025-01-01", "12", "x", "buddhist", "100"],  # prohibited first
        ["p4", A, "volunteer_service", "2025-01-01", "", "x", "", "100"],  # unknown before missing
        ["p5", A, "volunteer_service", "2025-01-01", "12", "x", "", ""],  # empty cells are absent: fine
    ]
    got = reasons(civil, write_csv(tmp_path / "f.csv", rows, header))
    assert got == ["prohibited_attribute", "unknown_field", "prohibited_attribute", "unknown_field", None]


def test_the_first_reason_in_spec_order_wins(civil: Store, tmp_path: Path) -> None:
    rows = [
        ["", "bad-id", "nope", "2099-01-01", "x", ""],  # everything wrong: missing_source_id
        ["s1", "bad-id", "nope", "2099-01-01", "x", ""],
        ["s2", A, "nope", "2099-13-01", "x", ""],
        ["s3", A, "nope", "2099-01-01", "x", ""],
        ["s4", A, "traffic_offence", "2025-01-01", "x", ""],
        ["s5", A, "volunteer_service", "2025-01-01", "x", ""],  # missing before invalid
    ]
    assert reasons(civil, write_csv(tmp_path / "f.csv", rows)) == [
        "missing_source_id",
        "invalid_subject_id",
        "invalid_date",
        "future_date",
        "metric_not_permitted",
        "missing_field",
    ]


def test_listing_action_and_bool_parsing(store: Store, tmp_path: Path, mini_catalog_text: str) -> None:
    catalogs.load_catalog(store, mini_catalog_text)
    header = ["source_id", "subject_id", "metric", "occurred_at", "case_id", "action", "amount"]
    rows = [
        ["l1", A, "loan_default", "2025-01-01", "C1", "list", "10"],
        ["l2", A, "loan_default", "2025-01-01", "C1", "settle", "10"],
    ]
    assert reasons(store, write_csv(tmp_path / "l.csv", rows, header), "BANK") == [None, "invalid_field"]
    header = ["source_id", "subject_id", "metric", "occurred_at", "offence", "fine", "paid", "when_paid"]
    rows = [
        [f"t{i}", A, "traffic_offence", "2025-01-01", "speeding", "100", v, "2025-01-02"]
        for i, v in enumerate(["true", "FALSE", "1", "0", "True", "yes", "2"])
    ]
    assert (
        reasons(store, write_csv(tmp_path / "t.csv", rows, header), "TRAFFIC")
        == [None] * 5 + ["invalid_field"] * 2
    )


def test_json_lines_reasons_and_malformed_lines(civil: Store, tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    good = record("j1", A.lower(), "volunteer_service", "2025-01-01", hours=12, organisation="x")
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps([1, 2]),
        json.dumps(
            record("j2", A, "volunteer_service", "2025-01-01", hours=12, organisation="x", blood_type="O")
        ),
        json.dumps(record("j3", A, "volunteer_service", "2025-01-01", hours="12", organisation="x", extra=1)),
        json.dumps(record("j4", A, "volunteer_service", "2025-01-01", hours=True, organisation="x")),
        json.dumps(record("j5", A, "volunteer_service", "2025-01-01", hours={"n": 1}, organisation="x")),
        json.dumps(record("j6", A, "volunteer_service", "2025-01-01", organisation="x")),
    ]
    path.write_text("\n".join(lines) + "\n")
    result = submissions.ingest_file(civil, path, "CIVIL")
    got = {r["line"]: (r["reason"], r["raw"]) for r in records.list_rejects(civil)}
    assert result.accepted == 1 and result.rejected == 7
    assert {n: reason for n, (reason, _) in got.items()} == {
        2: "unreadable",
        3: "unreadable",
        4: "prohibited_attribute",
        5: "unknown_field",
        6: "invalid_field",
        7: "invalid_field",
        8: "missing_field",
    }
    assert got[2][1] == "{not json"  # kept as sent, so it can be fixed and resubmitted
    assert "O" not in json.loads(got[4][1])["fields"].values()  # the prohibited value is not kept
    assert scores.explain(civil, A, dt.date(2025, 2, 1)).items[0].source_id == "j1"  # id stored upper-cased


def test_parquet_typed_columns(civil: Store, tmp_path: Path) -> None:
    table = pa.table(
        {
            "source_id": ["q1", "q2", "q3"],
            "subject_id": [A, A, "123"],
            "metric": ["volunteer_service"] * 3,
            "occurred_at": pa.array(
                [dt.date(2025, 1, 1), dt.date(2025, 1, 2), dt.date(2025, 1, 3)], pa.date32()
            ),
            "hours": [12.0, None, 3.0],
            "organisation": ["x", "y", "z"],
        }
    )
    pq.write_table(table, tmp_path / "f.parquet")
    assert reasons(civil, tmp_path / "f.parquet") == [None, "missing_field", "invalid_subject_id"]


def test_nothing_prohibited_is_stored_anywhere(civil: Store, tmp_path: Path) -> None:
    header = [*HEADER, "blood_type"]
    write_csv(
        tmp_path / "f.csv", [["b1", A, "volunteer_service", "2025-01-01", "12", "x", "AB-negative"]], header
    )
    submissions.ingest_file(civil, tmp_path / "f.csv", "CIVIL")
    with civil.begin() as conn:
        dump = [
            str(row)
            for t in ("records", "quarantine", "submissions")
            for row in conn.exec_driver_sql(f"SELECT * FROM {t}")
        ]
    assert dump and not any("AB-negative" in row for row in dump)


def test_ragged_csv_rows_are_quarantined_with_their_line(civil: Store, tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text(
        ",".join(HEADER) + "\n"
        f"r1,{A},volunteer_service,2025-01-01,12,x\n"
        "r2,too,few\n"
        f"r3,{A},volunteer_service,2025-01-01,12,x\n"
    )
    result = submissions.ingest_file(civil, path, "CIVIL")
    assert (result.accepted, result.rejected) == (2, 1)
    (row,) = records.list_rejects(civil)
    assert (row["line"], row["reason"], row["raw"]) == (3, "unreadable", "r2,too,few")


def test_duplicates_corrections_and_rejected_resubmissions(civil: Store, tmp_path: Path) -> None:
    first = write_csv(tmp_path / "a.csv", [["k1", A, "volunteer_service", "2025-03-01", "12", "x"]])
    assert submissions.ingest_file(civil, first, "CIVIL").accepted == 1
    same = write_csv(tmp_path / "b.csv", [["k1", A.lower(), "volunteer_service", "2025-03-01", "12.0", "x"]])
    r = submissions.ingest_file(civil, same, "CIVIL")
    assert (r.accepted, r.duplicates, r.corrected) == (0, 1, 0)  # same content once parsed
    bad = write_csv(tmp_path / "c.csv", [["k1", A, "volunteer_service", "2025-03-01", "lots", "x"]])
    assert submissions.ingest_file(civil, bad, "CIVIL").rejected == 1
    assert scores.subject_score(civil, A, dt.date(2025, 4, 1)).score == 103  # a rejected row changed nothing
    fix = write_csv(tmp_path / "d.csv", [["k1", A, "volunteer_service", "2025-03-01", "2", "x"]])
    assert submissions.ingest_file(civil, fix, "CIVIL").corrected == 1
    assert scores.subject_score(civil, A, dt.date(2025, 4, 1)).score == 101
    with civil.begin() as conn:
        versions = conn.exec_driver_sql("SELECT version, is_current FROM records ORDER BY version").fetchall()
    assert [tuple(v) for v in versions] == [(1, False), (2, True)]  # history stays


def test_within_one_file_the_last_occurrence_of_a_key_counts(civil: Store, tmp_path: Path) -> None:
    rows = [
        ["k1", A, "volunteer_service", "2025-03-01", "12", "x"],
        ["k1", A, "volunteer_service", "2025-03-01", "12", "x"],
        ["k1", A, "volunteer_service", "2025-03-01", "2", "x"],
        [
            "k1",
            A,
            "volunteer_service",
            "2025-03-01",
            "not hours",
            "x",
        ],  # invalid: not an occurrence that counts
    ]
    path = write_csv(tmp_path / "f.csv", rows)
    r = submissions.ingest_file(civil, path, "CIVIL")
    assert (r.accepted, r.duplicates, r.corrected, r.superseded, r.rejected) == (1, 0, 0, 2, 1)
    assert scores.subject_score(civil, A, dt.date(2025, 4, 1)).score == 101
    again = submissions.ingest_file(civil, path, "CIVIL")  # sending it again changes nothing
    assert (again.accepted, again.duplicates, again.corrected, again.superseded) == (0, 1, 0, 2)
    with civil.begin() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM records").scalar_one() == 1


def test_retraction(civil: Store, tmp_path: Path) -> None:
    submissions.ingest_file(
        civil,
        jsonl(
            tmp_path / "f.jsonl",
            [record("r1", A, "volunteer_service", "2025-03-01", hours=12, organisation="x")],
        ),
        "CIVIL",
    )
    assert scores.subject_score(civil, A, dt.date(2025, 4, 1)).score == 103
    records.retract(civil, "CIVIL", "r1")
    assert scores.subject_score(civil, A, dt.date(2025, 4, 1)).score == 100
    from guihua.core.errors import GuihuaError

    with pytest.raises(GuihuaError, match="already retracted"):
        records.retract(civil, "CIVIL", "r1")
    with pytest.raises(GuihuaError, match="no record"):
        records.retract(civil, "CIVIL", "'; DROP TABLE records; --")


def test_quoted_line_breaks_are_read_and_an_open_quote_is_a_clear_error(civil: Store, tmp_path: Path) -> None:
    path = tmp_path / "multi.csv"
    path.write_text(
        ",".join(HEADER)
        + f'\nm1,{A},volunteer_service,2025-01-01,12,"Red\nCross"\nm2,{A},volunteer_service,2025-01-01,1,x\n'
    )
    result = submissions.ingest_file(civil, path, "CIVIL")
    assert (result.accepted, result.rejected) == (2, 0)
    assert scores.explain(civil, A, dt.date(2025, 2, 1)).items[0].fields["organisation"] == "Red\nCross"
    broken = tmp_path / "open.csv"
    lines = [",".join(HEADER), f'o1,{A},volunteer_service,2025-01-01,12,"unclosed']
    lines += [f"o{i},{A},volunteer_service,2025-01-01,12,{'x' * 60}" for i in range(2, 5000)]
    broken.write_text("\n".join(lines) + "\n")
    from guihua.core.errors import GuihuaError

    with pytest.raises(GuihuaError, match="quote"):
        submissions.ingest_file(civil, broken, "CIVIL")
    with civil.begin() as conn:  # nothing of the broken file was stored
        assert conn.exec_driver_sql("SELECT count(*) FROM records").scalar() == 2


def test_odd_field_names_are_unknown_fields_not_crashes(civil: Store, tmp_path: Path) -> None:
    rows = [
        record("e1", A, "volunteer_service", "2025-01-01", hours=12, organisation="x", **{"": 1}),
        record("e2", A, "volunteer_service", "2025-01-01", hours=12, organisation="x", __id_ok=True),
        record("e3", A, "volunteer_service", "2025-01-01", hours=12, organisation="x", __line=3),
    ]
    result = submissions.ingest_file(civil, jsonl(tmp_path / "odd.jsonl", rows), "CIVIL")
    assert result.rejected_by_reason == {"unknown_field": 3}
    path = tmp_path / "odd.csv"
    path.write_text(",".join([*HEADER, ""]) + f"\nx,{A},volunteer_service,2025-01-01,1,x,\n")
    from guihua.core.errors import GuihuaError

    with pytest.raises(GuihuaError, match="empty or reserved"):
        submissions.ingest_file(civil, path, "CIVIL")
