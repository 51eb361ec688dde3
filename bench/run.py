"""`make bench`: Guihua's benchmarks, each reported as a ratio to a floor measured in the same run.

The machine is shared and noisy, so absolute seconds mean little; ratios to a
floor measured minutes apart on the same data are what the targets are about:

- ingest 300,000 CSV records <= 3x (pyarrow read + plain SQLite executemany, one transaction);
- export all scores <= 10x (a DuckDB group-by over the same files, written to Parquet).

Also reported: ingest and export throughput for a city of 1,000,000 residents
with about 10,000,000 records, with peak memory (each phase in a child process),
and single-subject score latency. Results go to bench/RESULTS.md.

Usage: python bench/run.py [--quick] [--repeat N] [--people N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

HERE = Path(__file__).parent
OUT = HERE / "out"
AS_OF = dt.date(2026, 6, 30)
os.environ["GUIHUA_TODAY"] = AS_OF.isoformat()


def best(fn: Callable[[], object], repeat: int) -> float:
    """Best wall time of ``repeat`` runs (the least disturbed by other load)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def fresh(path: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def make_city(folder: Path, people: int, bills: float) -> list[dict[str, str]]:
    from guihua.catalogs import load_default_catalog
    from guihua.synth.city import generate_city

    shutil.rmtree(folder, ignore_errors=True)
    return generate_city(load_default_catalog(), people, 1, folder, AS_OF, bills_per_person=bills)


def as_csv(folder: Path, manifest: list[dict[str, str]]) -> list[tuple[Path, str]]:
    """The same records as CSV, one file per department file."""
    files = []
    for entry in manifest:
        table = pq.read_table(folder / entry["file"])
        path = folder / (Path(entry["file"]).stem + ".csv")
        pacsv.write_csv(table, path)
        files.append((path, entry["department"]))
    return files


# --------------------------------------------------------------------------- floors


def floor_ingest(files: list[tuple[Path, str]], db: Path) -> None:
    """Read each CSV with pyarrow; insert its rows into one plain table with executemany, one transaction."""
    con = sqlite3.connect(fresh(db))
    for i, (path, _) in enumerate(files):
        table = pacsv.read_csv(path)
        cols = [c.to_pylist() for c in table.columns]
        con.execute(f"CREATE TABLE t{i} ({', '.join(f'c{j}' for j in range(len(cols)))})")
        marks = ", ".join("?" for _ in cols)
        con.executemany(f"INSERT INTO t{i} VALUES ({marks})", list(zip(*cols, strict=True)))
    con.commit()
    con.close()


def floor_export(files: list[tuple[Path, str]], out: Path) -> None:
    paths = [str(p) for p, _ in files]
    duckdb.sql(
        f"COPY (SELECT subject_id, count(*) AS n FROM read_csv({paths}, union_by_name=true, "
        f"all_varchar=true) GROUP BY subject_id) TO '{out}' (FORMAT parquet)"
    )


# --------------------------------------------------------------------------- guihua


def guihua_ingest(files: list[tuple[Path, str]], db: Path) -> int:
    from guihua.store.database import open_store
    from guihua.usecases import ingest

    store = open_store(str(fresh(db)))
    total = 0
    for path, dept in files:
        total += ingest.ingest_file(store, path, dept).accepted
    store.dispose()
    return total


def guihua_export(db: Path, out: Path) -> int:
    from guihua.store.database import open_store
    from guihua.usecases import scores

    store = open_store(str(db))
    n = scores.export_scores(store, out, AS_OF)
    store.dispose()
    return n


def lookups(db: Path, count: int = 50) -> tuple[float, float]:
    """p50 and p99 (ms) of single-subject score lookups."""
    from guihua.store.database import open_store
    from guihua.usecases import scores

    store = open_store(str(db))
    ids = scores.all_scores(store, AS_OF).column("subject_id").to_pylist()[:count]
    scores.subject_score(store, ids[0], AS_OF)  # warm the compiled query
    times = []
    for sid in ids:
        start = time.perf_counter()
        scores.subject_score(store, sid, AS_OF)
        times.append((time.perf_counter() - start) * 1000)
    store.dispose()
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


# --------------------------------------------------------------------------- scale (child processes)


def run_child(phase: str, args: list[str]) -> None:
    folder, db = Path(args[0]), Path(args[1])
    if phase == "synth":
        manifest = make_city(folder, int(args[2]), float(args[3]))
        rows = sum(pq.ParquetFile(folder / e["file"]).metadata.num_rows for e in manifest)
        print(json.dumps({"records": rows, "files": len(manifest)}))
    elif phase == "ingest":
        from guihua.store.database import open_store
        from guihua.usecases import ingest

        manifest = json.loads((folder / "manifest.json").read_text())
        store = open_store(str(fresh(db)))
        accepted = sum(
            ingest.ingest_file(store, folder / e["file"], e["department"]).accepted for e in manifest
        )
        print(json.dumps({"accepted": accepted}))
    elif phase == "export":
        print(json.dumps({"subjects": guihua_export(db, folder / "scores.parquet")}))


def peak_of(phase: str, args: list[str]) -> tuple[float, float, dict[str, object]]:
    """Each phase in its own child so its peak memory is its own (ru_maxrss is a high-water mark)."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import resource, subprocess, sys, time, json\n"
            "t = time.perf_counter()\n"
            f"p = subprocess.run([sys.executable, {str(__file__)!r}, '--child', {phase!r}, *{args!r}],"
            " capture_output=True, text=True, check=True)\n"
            "s = time.perf_counter() - t\n"
            "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
            "print(json.dumps([s, rss, json.loads(p.stdout.strip().splitlines()[-1])]))",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    seconds, rss, out = json.loads(proc.stdout)
    return float(seconds), float(rss), out


# --------------------------------------------------------------------------- report


def machine() -> str:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import ibis
    import polars

    return (
        f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, DuckDB {duckdb.__version__}, Polars {polars.__version__}, "
        f"pyarrow {pa.__version__}, Ibis {ibis.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 10-million-record scale run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--people", type=int, default=1_000_000, help="residents in the scale run")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child[0], args.child[1:])
        return
    OUT.mkdir(exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    rows: list[tuple[str, str, str, str, str]] = []

    print("synthesising a city of 100,000 residents ...", flush=True)
    folder = OUT / "city"
    manifest = make_city(folder, 100_000, 9.0)  # ~300,000 water bills: one department's file
    files = as_csv(folder, manifest)
    water = [f for f in files if f[1] == "WATER"]
    n_records = pq.ParquetFile(folder / "WATER.parquet").metadata.num_rows
    csv_mb = water[0][0].stat().st_size / 2**20

    guihua_ingest(water, OUT / "warm.db")  # first run warms the compiled-SQL cache and the page cache
    floor = best(lambda: floor_ingest(water, OUT / "floor.db"), args.repeat)
    ours = best(lambda: guihua_ingest(water, OUT / "guihua.db"), args.repeat)
    ratio = ours / floor
    print(
        f"ingest {n_records:,} CSV records: {ours:.2f} s, floor {floor:.2f} s, ratio {ratio:.2f}", flush=True
    )
    rows.append(
        (
            f"ingest one CSV file of {n_records:,} records ({csv_mb:.0f} MB)",
            f"{ours:.2f} s ({n_records / ours:,.0f} rec/s)",
            f"{floor:.2f} s",
            f"{ratio:.2f}x",
            f"<= 3x: {'PASS' if ratio <= 3 else 'FAIL'}",
        )
    )

    all_records = guihua_ingest(files, OUT / "city.db")
    efloor = best(lambda: floor_export(files, OUT / "duck.parquet"), args.repeat)
    eours = best(lambda: guihua_export(OUT / "city.db", OUT / "scores.parquet"), args.repeat)
    eratio = eours / efloor
    print(f"export scores: {eours:.2f} s, floor {efloor:.2f} s, ratio {eratio:.2f}", flush=True)
    rows.append(
        (
            f"export all scores to Parquet (100,000 residents, {all_records:,} records, {len(files)} files)",
            f"{eours:.2f} s",
            f"{efloor:.2f} s",
            f"{eratio:.2f}x",
            f"<= 10x: {'PASS' if eratio <= 10 else 'FAIL'}",
        )
    )
    p50, p99 = lookups(OUT / "city.db")
    rows.append(
        (
            f"single-subject score lookup (SQLite, {all_records:,} records)",
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms",
            "",
            "",
            "",
        )
    )

    scale_rows: list[tuple[str, str, str]] = []
    if not args.quick:
        city = OUT / "city-scale"
        db = OUT / "scale.db"
        print(f"scale run: synthesising {args.people:,} residents ...", flush=True)
        s_sec, s_rss, s_out = peak_of("synth", [str(city), str(db), str(args.people), "7.5"])
        records = int(s_out["records"])  # type: ignore[call-overload]
        scale_rows.append(
            (
                f"synthesise {args.people:,} residents, {records:,} records",
                f"{s_sec:.0f} s",
                f"{s_rss:,.0f} MB",
            )
        )
        print(f"  {records:,} records in {s_sec:.0f} s; ingesting ...", flush=True)
        i_sec, i_rss, _ = peak_of("ingest", [str(city), str(db)])
        scale_rows.append(
            (
                f"ingest {records:,} records (Parquet, SQLite)",
                f"{i_sec:.0f} s ({records / i_sec:,.0f} rec/s)",
                f"{i_rss:,.0f} MB",
            )
        )
        print(f"  ingest {i_sec:.0f} s; exporting ...", flush=True)
        e_sec, e_rss, e_out = peak_of("export", [str(city), str(db)])
        subjects = int(e_out["subjects"])  # type: ignore[call-overload]
        scale_rows.append(
            (
                f"export {subjects:,} scores",
                f"{e_sec:.0f} s ({records / e_sec:,.0f} rec/s)",
                f"{e_rss:,.0f} MB",
            )
        )
        sp50, sp99 = lookups(db)
        scale_rows.append(("single-subject score lookup", f"p50 {sp50:.1f} ms, p99 {sp99:.1f} ms", ""))
        shutil.rmtree(city, ignore_errors=True)
        fresh(db)

    write_results(started, rows, scale_rows, args)
    shutil.rmtree(folder, ignore_errors=True)
    for name in ("floor.db", "guihua.db", "warm.db", "city.db"):
        fresh(OUT / name)


def write_results(
    started: dt.datetime, rows: list[tuple[str, ...]], scale: list[tuple[str, ...]], args: argparse.Namespace
) -> None:
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python bench/run.py`); every run replaces this file.",
        "Floors are measured in the same run on the same files; the best of "
        f"{args.repeat} runs is kept for each figure (the least disturbed by the machine's other load).",
        "",
        f"- date: {started:%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine()}",
        f"- command: `{' '.join(['python', 'bench/run.py', *sys.argv[1:]])}`",
        "",
        "| measurement | Guihua | floor | ratio | target |",
        "|---|---|---|---|---|",
        *[f"| {' | '.join(r)} |" for r in rows],
        "",
        "Ingest floor: pyarrow `read_csv` of the same CSV file, its rows inserted into one plain SQLite "
        "table with `executemany`, one transaction. Export floor: DuckDB `GROUP BY subject_id` over the "
        "same CSV files as the store holds, written to Parquet.",
    ]
    previous = (HERE / "RESULTS.md").read_text() if (HERE / "RESULTS.md").exists() else ""
    if not scale and "## Scale" in previous:  # a --quick run keeps the last full run's scale figures
        kept = previous[previous.index("## Scale") :].rstrip().splitlines()
        if not kept[0].endswith("(from an earlier full run)"):
            kept[0] += " (from an earlier full run)"
        lines += ["", *kept]
    if scale:
        lines += [
            "",
            "## Scale: one store, one small machine",
            "",
            "| phase | time (throughput) | peak memory (RSS) |",
            "|---|---|---|",
            *[f"| {' | '.join(r)} |" for r in scale],
        ]
    (HERE / "RESULTS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print((HERE / "RESULTS.md").read_text())


if __name__ == "__main__":
    main()
