"""Rows that cannot be read at all (spec section 3, ``unreadable``), and files in other encodings.

A cell holding a NUL character or text that is not valid Unicode, a
``source_id`` over 200 characters or a cell over 4,000 characters makes its
row ``unreadable``; one such row never keeps the rest of a submission from
being stored, on either store. A file that is not UTF-8 is refused whole with
an error saying which encodings are read; GB 18030 / GBK with ``--encoding``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from guihua.core.errors import GuihuaError
from guihua.core.policy import Actor
from guihua.core.reasons import MAX_SOURCE_ID, MAX_VALUE
from guihua.http.service import create_app
from guihua.intake import parquet_reader
from guihua.intake.validation import MAX_KEPT
from guihua.store.database import Store
from guihua.usecases import accounts, catalogs, records, scores, submissions
from tests.helpers import D, assert_one_line_error, run, subject
from tests.intake.test_rejects import HEADER, write_csv

A = subject(1)
ORG = "苏州市红十字会"  # a Chinese organisation name: 3 bytes a character in UTF-8


@pytest.fixture
def civil(store: Store, mini_catalog_text: str) -> Store:
    catalogs.load_catalog(store, mini_catalog_text)
    return store


def row(source_id: str = "k1", organisation: str = "x", hours: str = "12") -> list[str]:
    return [source_id, A, "volunteer_service", "2025-03-01", hours, organisation]


def by_line(store: Store) -> dict[int, dict[str, object]]:
    return {int(r["line"]): r for r in records.list_rejects(store)}  # type: ignore[arg-type]


def test_limits_and_nul_make_a_row_unreadable_and_the_rest_is_stored(civil: Store, tmp_path: Path) -> None:
    rows = [
        row("ok-1"),
        row("n" * (MAX_SOURCE_ID + 1)),  # line 3
        row("ok-2", organisation="y" * (MAX_VALUE + 1)),  # line 4
        row("ok-3", organisation="a\x00b"),  # line 5
        row("ok-4", organisation="y" * MAX_VALUE),  # exactly at the limit: fine
        row("ok-5", organisation=ORG * (MAX_VALUE // len(ORG))),  # 4,000 characters, 12,000 bytes: fine
        row("n" * MAX_SOURCE_ID),  # exactly 200: fine
    ]
    result = submissions.ingest_file(civil, write_csv(tmp_path / "f.csv", rows), "CIVIL")
    assert (result.accepted, result.rejected, result.rejected_by_reason) == (4, 3, {"unreadable": 3})
    bad = by_line(civil)
    assert sorted(bad) == [3, 4, 5] and {r["reason"] for r in bad.values()} == {"unreadable"}
    assert "source_id is longer than 200 characters" in str(bad[3]["detail"])
    assert bad[3]["source_id"] is None  # too long to be a key: not kept as one
    assert "organisation is longer than 4,000 characters" in str(bad[4]["detail"])
    assert "organisation holds a NUL character" in str(bad[5]["detail"]) and bad[5]["source_id"] == "ok-3"
    assert "\\u0000" in str(bad[5]["raw"]) and "\x00" not in str(bad[5]["raw"])  # storable on PostgreSQL too
    assert scores.subject_score(civil, A, D("2025-04-01")).score == 105  # the 4 good rows (gain cap 5)


def test_a_kept_raw_row_is_cut_with_a_marker(civil: Store, tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    huge = {"source_id": "k", "subject_id": A, "metric": "volunteer_service", "occurred_at": "2025-03-01"}
    huge["fields"] = {"hours": 1, "organisation": "z" * (MAX_KEPT + 10)}  # type: ignore[assignment]
    path.write_text(json.dumps(huge) + "\n")
    submissions.ingest_file(civil, path, "CIVIL")
    (kept,) = records.list_rejects(civil)
    assert kept["reason"] == "unreadable"
    assert str(kept["raw"]).endswith("[cut: the row is longer than this]")
    assert len(str(kept["raw"])) < MAX_KEPT + 100


def test_json_lines_that_cannot_be_read(civil: Store, tmp_path: Path) -> None:
    good = {"source_id": "g", "subject_id": A, "metric": "volunteer_service", "occurred_at": "2025-03-01"}
    lines = [
        json.dumps({**good, "fields": {"hours": 12, "organisation": "x \\ud83d\\ude00"}}).replace(
            "\\\\", "\\"
        ),
        '{"source_id": "s", "subject_id": "' + A + '", "metric": "volunteer_service", '
        '"occurred_at": "2025-03-01", "fields": {"hours": 12, "organisation": "\\ud800"}}',
        '{"source_id": "big", "fields": {"hours": ' + "9" * 5000 + "}}",
        "[1, 2, 3]",
        '{"source_id": "f", "fields": [1]}',
    ]
    path = tmp_path / "f.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = submissions.ingest_file(civil, path, "CIVIL")
    assert (result.accepted, result.rejected_by_reason) == (1, {"unreadable": 4})
    bad = by_line(civil)
    assert "not valid Unicode" in str(bad[2]["detail"])
    assert "4300" in str(bad[3]["detail"]) or "digits" in str(bad[3]["detail"])
    assert "not a JSON object" in str(bad[4]["detail"])


def test_an_api_body_with_a_lone_surrogate_is_quarantined_not_an_error(civil: Store) -> None:
    token = accounts.create(civil, Actor("t", "admin"), "department", "civ", department="CIVIL")
    good = {"source_id": "g", "subject_id": A, "metric": "volunteer_service", "occurred_at": "2025-03-01"}
    body = (
        '{"records": ['
        + json.dumps({**good, "fields": {"hours": 12, "organisation": "x"}})
        + ', {"source_id": "s", "subject_id": "'
        + A
        + '", "metric": "volunteer_service", '
        '"occurred_at": "2025-03-01", "fields": {"hours": 12, "organisation": "\\ud800"}}]}'
    )
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with TestClient(create_app(civil)) as c:
        r = c.post("/api/v1/records", content=body.encode(), headers=headers)
    assert r.status_code == 200, r.text
    assert [(o["outcome"], o.get("reason")) for o in r.json()["outcomes"]] == [
        ("accepted", None),
        ("rejected", "unreadable"),
    ]


def gb18030_csv(path: Path) -> Path:
    text = ",".join(HEADER) + "\n" + ",".join(row("g1", organisation=ORG)) + "\n"
    path.write_bytes(text.encode("gb18030"))
    return path


def test_a_gb18030_file_is_read_with_its_encoding(civil: Store, tmp_path: Path) -> None:
    path = gb18030_csv(tmp_path / "gbk.csv")
    for name in ("gb18030", "GBK", "gb2312"):
        result = submissions.ingest_file(civil, path, "CIVIL", encoding=name)
        assert result.rejected == 0 and result.accepted + result.duplicates == 1, name
    item = scores.explain(civil, A, D("2025-04-01")).items[0]
    assert item.fields["organisation"] == ORG
    jsonl_gbk = tmp_path / "gbk.jsonl"
    body = {"source_id": "g2", "subject_id": A, "metric": "volunteer_service", "occurred_at": "2025-03-02"}
    body["fields"] = {"hours": 2, "organisation": ORG}  # type: ignore[assignment]
    jsonl_gbk.write_bytes((json.dumps(body, ensure_ascii=False) + "\n").encode("gbk"))
    assert submissions.ingest_file(civil, jsonl_gbk, "CIVIL", encoding="gbk").accepted == 1


def test_a_file_that_is_not_utf8_is_refused_whole_saying_what_is_read(civil: Store, tmp_path: Path) -> None:
    path = gb18030_csv(tmp_path / "gbk.csv")
    with pytest.raises(GuihuaError, match=r"not UTF-8 text.*--encoding gb18030"):
        submissions.ingest_file(civil, path, "CIVIL")
    with pytest.raises(GuihuaError, match="unknown encoding 'latin-9'"):
        submissions.ingest_file(civil, path, "CIVIL", encoding="latin-9")
    broken = tmp_path / "broken.csv"
    broken.write_bytes(",".join(HEADER).encode() + b"\n\x81\x30\xff\xff\n")
    with pytest.raises(
        GuihuaError, match=r"broken\.csv: not GB18030 text"
    ):  # the file's own name, not a copy's
        submissions.ingest_file(civil, broken, "CIVIL", encoding="gb18030")
    table = pa.table({c: ["x"] for c in HEADER})
    pq.write_table(table, tmp_path / "f.parquet")
    with pytest.raises(GuihuaError, match="Parquet text is always UTF-8"):
        submissions.ingest_file(civil, tmp_path / "f.parquet", "CIVIL", encoding="gb18030")
    with civil.begin() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM records").scalar_one() == 0


def test_cli_encoding_option(tmp_path: Path, mini_catalog_text: str) -> None:
    db = tmp_path / "g.db"
    (tmp_path / "c.yaml").write_text(mini_catalog_text)
    assert run("catalog", "load", str(tmp_path / "c.yaml"), db=db).returncode == 0
    path = gb18030_csv(tmp_path / "gbk.csv")
    assert_one_line_error(run("ingest", str(path), "-d", "CIVIL", db=db), "not UTF-8", "--encoding gb18030")
    ok = run("ingest", str(path), "-d", "CIVIL", "--encoding", "gb18030", "--json", db=db)
    assert ok.returncode == 0 and json.loads(ok.stdout)["accepted"] == 1


def _volunteer_parquet(path: Path, organisation: pa.Array | list[str]) -> Path:
    n = len(organisation)
    table = pa.table(
        {
            "source_id": [f"{path.stem}-{i}" for i in range(n)],
            "subject_id": [A] * n,
            "metric": ["volunteer_service"] * n,
            "occurred_at": ["2025-03-01"] * n,
            "hours": ["1"] * n,
            "organisation": organisation,
        }
    )
    pq.write_table(table, path, compression="zstd")
    return path


def test_a_parquet_file_holding_huge_cells_is_read_in_bounded_memory(
    civil: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """34 KB of Parquet once held a gigabyte of text and took 7.9 GB of memory to read."""
    path = _volunteer_parquet(tmp_path / "big.parquet", ["a" * (64 << 20)] * 4)
    assert path.stat().st_size < 100_000
    result = submissions.ingest_file(civil, path, "CIVIL")  # each value checked once, before it is repeated
    assert (result.accepted, result.rejected_by_reason) == (0, {"unreadable": 4})
    assert all(
        "organisation is longer than 4,000 characters" in str(r["detail"])
        for r in records.list_rejects(civil)
    )
    plain = tmp_path / "plain.parquet"  # without a dictionary in the file: one 64 MiB value at a time
    pq.write_table(pq.read_table(path), plain, compression="zstd", use_dictionary=False)
    assert submissions.ingest_file(civil, plain, "CIVIL").rejected_by_reason == {"unreadable": 4}
    monkeypatch.setattr(parquet_reader, "MAX_CHUNK_BYTES", 128 << 20)  # beyond it: refused from the footer
    with pytest.raises(GuihuaError, match=r"column 'organisation' of row group 0 holds 256 MiB for 4 rows"):
        submissions.ingest_file(civil, plain, "CIVIL")


def test_one_long_cell_or_bytes_that_are_not_text_make_only_their_row_unreadable(
    civil: Store, tmp_path: Path
) -> None:
    long_one = _volunteer_parquet(tmp_path / "one.parquet", ["x"] * 99 + ["y" * (MAX_VALUE + 1)])
    result = submissions.ingest_file(civil, long_one, "CIVIL")
    assert (result.accepted, result.rejected_by_reason) == (99, {"unreadable": 1})
    binary = _volunteer_parquet(
        tmp_path / "bin.parquet", pa.array([b"ok", b"\xff\xfe not text"], pa.binary())
    )
    result = submissions.ingest_file(civil, binary, "CIVIL")
    assert (result.accepted, result.rejected_by_reason) == (1, {"unreadable": 1})
    (bad,) = [r for r in records.list_rejects(civil) if r["submission_id"] == result.submission_id]
    assert "organisation holds bytes that are not UTF-8 text" in str(bad["detail"])


def test_too_many_columns_are_refused_in_every_format(civil: Store, tmp_path: Path) -> None:
    names = HEADER + [f"f{i}" for i in range(1200)]
    pq.write_table(pa.table({n: ["x"] for n in names}), tmp_path / "wide.parquet")
    with pytest.raises(GuihuaError, match="1,206 columns"):
        submissions.ingest_file(civil, tmp_path / "wide.parquet", "CIVIL")
    (tmp_path / "wide.csv").write_text(",".join(names) + "\n")
    with pytest.raises(GuihuaError, match="1,206 columns"):
        submissions.ingest_file(civil, tmp_path / "wide.csv", "CIVIL")
    good = {"source_id": "g", "subject_id": A, "metric": "volunteer_service", "occurred_at": "2025-03-01"}
    wide = {**good, "source_id": "w", "fields": {f"f{i}": 1 for i in range(1200)}}
    path = tmp_path / "wide.jsonl"
    path.write_text(
        json.dumps(wide) + "\n" + json.dumps({**good, "fields": {"hours": 1, "organisation": "x"}}) + "\n"
    )
    result = submissions.ingest_file(civil, path, "CIVIL")
    assert (result.accepted, result.rejected_by_reason) == (1, {"unreadable": 1})
