"""Every file a department can send, through the real command line, on SQLite and PostgreSQL.

The findings of issue 11 one by one: a bare-CR CSV is read (it was silently
dropped), a NUL or an over-long source id makes one row unreadable (it failed
the whole file on PostgreSQL), a file with a key twice sent twice changes
nothing, a Parquet file of huge cells is read in bounded memory, and a
resident's PDF report with long values renders.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from guihua.store.database import Store
from tests.helpers import run, subject

A = subject(1)
HEADER = "source_id,subject_id,metric,occurred_at,hours,organisation"


def db_arg(store: Store) -> str:
    url = store.engine.url
    return (
        str(url.database) if url.get_backend_name() == "sqlite" else url.render_as_string(hide_password=False)
    )


@pytest.fixture
def db(store: Store, tmp_path: Path, mini_catalog_text: str) -> str:
    (tmp_path / "c.yaml").write_text(mini_catalog_text)
    target = db_arg(store)
    assert run("catalog", "load", str(tmp_path / "c.yaml"), "--db", target).returncode == 0
    return target


def ingest(db: str, path: Path) -> dict[str, object]:
    proc = run("ingest", str(path), "-d", "CIVIL", "--json", "--db", db)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def count(store: Store, table: str) -> int:
    with store.begin() as conn:
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())


def test_a_bare_cr_csv_is_read(store: Store, db: str, tmp_path: Path) -> None:
    rows = [HEADER] + [f"v{i},{A},volunteer_service,2025-03-01,2,x" for i in range(100)]
    path = tmp_path / "cr.csv"
    path.write_text("\r".join(rows) + "\r", newline="")
    assert ingest(db, path)["accepted"] == 100


def test_one_bad_cell_never_sinks_the_file(store: Store, db: str, tmp_path: Path) -> None:
    rows = [
        HEADER,
        f"ok1,{A},volunteer_service,2025-03-01,2,x",
        f"{'n' * 250},{A},volunteer_service,2025-03-01,2,x",
    ]
    rows += [f"nul,{A},volunteer_service,2025-03-01,2,a\x00b", f"ok2,{A},volunteer_service,2025-03-01,2,y"]
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(rows) + "\n")
    got = ingest(db, path)
    assert (got["accepted"], got["rejected_by_reason"]) == (2, {"unreadable": 2})
    assert count(store, "records") == 2 and count(store, "quarantine") == 2


def test_a_key_twice_sent_twice_changes_nothing(store: Store, db: str, tmp_path: Path) -> None:
    rows = [HEADER, f"K-1,{A},volunteer_service,2025-03-01,12,x", f"K-1,{A},volunteer_service,2025-03-01,2,x"]
    path = tmp_path / "twice.csv"
    path.write_text("\n".join(rows) + "\n")
    first = ingest(db, path)
    assert (first["accepted"], first["superseded"]) == (1, 1)
    before = (count(store, "records"), count(store, "notices"))
    for _ in range(2):
        again = ingest(db, path)
        assert (again["accepted"], again["corrected"], again["duplicates"], again["superseded"]) == (
            0,
            0,
            1,
            1,
        )
    assert (count(store, "records"), count(store, "notices")) == before == (1, 0)


def test_a_parquet_file_of_huge_cells_is_read_in_bounded_memory(
    store: Store, db: str, tmp_path: Path
) -> None:
    n = 4
    table = pa.table(
        {
            "source_id": [f"p{i}" for i in range(n)],
            "subject_id": [A] * n,
            "metric": ["volunteer_service"] * n,
            "occurred_at": ["2025-03-01"] * n,
            "hours": ["1"] * n,
            "organisation": ["a" * (64 << 20)] * n,  # 256 MiB of text in a few kilobytes of file
        }
    )
    pq.write_table(table, tmp_path / "big.parquet", compression="zstd")
    del table
    proc = run("ingest", str(tmp_path / "big.parquet"), "-d", "CIVIL", "--json", "--db", db)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["rejected_by_reason"] == {"unreadable": 4}


def test_the_pdf_report_renders_long_values(store: Store, db: str, tmp_path: Path) -> None:
    rows = [
        HEADER,
        f"L1,{A},volunteer_service,2025-03-01,2,{'x' * 3000}",
        f"L2,{A},volunteer_service,2025-03-02,2,{'桂' * 3999}",
    ]
    path = tmp_path / "long.csv"
    path.write_text("\n".join(rows) + "\n")
    assert ingest(db, path)["accepted"] == 2
    out = tmp_path / "r.pdf"
    proc = run("report", "subject", A, "--out", str(out), "--db", db)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes().startswith(b"%PDF")
