"""The ingest floors: what a department file costs to load with pyarrow and plain ``sqlite3``.

``bench/run.py`` calls :func:`ingest_csv` in its own process (the 300,000-row TRAFFIC file) and
runs this file as a child process for the figures that include a command's start-up, so that the
floor starts Python too and imports only what it uses (pyarrow and sqlite3)::

    python bench/floor_ingest.py csv|jsonl FILE DB

``csv``: ``pyarrow.csv.read_csv``; ``jsonl``: ``pyarrow.json.read_json``, its ``fields`` struct
flattened into one column per field (the CSV's shape). Then, alike: a fresh SQLite file, one
untyped column per column, one ``executemany`` in one transaction (dates as ISO text).
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa


def as_rows(table: pa.Table | pa.RecordBatch) -> Any:
    cols = []
    for col in table.columns:  # dates as ISO text, as any SQLite loader stores them
        cols.append((col.cast(pa.string()) if pa.types.is_temporal(col.type) else col).to_pylist())
    return zip(*cols, strict=True)


def store(table: pa.Table, db: Path) -> int:
    """One plain table, one column per table column; ``executemany``; one transaction."""
    con = sqlite3.connect(db)
    columns = ", ".join(f'"{n}"' for n in table.column_names)
    con.execute(f"CREATE TABLE records ({columns})")
    marks = ", ".join("?" for _ in table.column_names)
    with con:
        con.executemany(f"INSERT INTO records VALUES ({marks})", as_rows(table))
    con.close()
    return table.num_rows


def ingest_csv(path: Path, db: Path) -> int:
    import pyarrow.csv as pacsv

    return store(pacsv.read_csv(path), db)


def ingest_jsonl(path: Path, db: Path) -> int:
    import pyarrow.json as pajson

    table = pajson.read_json(path)
    if "fields" in table.column_names:  # {"fields": {...}} -> one column per field, as in the CSV
        names = [n.removeprefix("fields.") for n in table.flatten().column_names]
        table = table.flatten().rename_columns(names)
    return store(table, db)


def main() -> None:
    kind, path, db = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    n = {"csv": ingest_csv, "jsonl": ingest_jsonl}[kind](path, db)
    print(n)


if __name__ == "__main__":
    main()
