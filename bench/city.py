"""`make bench-city`: a synthetic Suzhou through the `guihua` command, as a user meets it (issue 13).

Every phase is a `guihua` process (its start included) on a city made by `guihua synth`:
ingest (`guihua ingest-manifest`, which also keeps the records' columnar copy beside the store),
`guihua export scores --engine duckdb`, `guihua simulate` with the worked example's proposal,
and `guihua export scores --engine spark` (local mode) on the smaller cities. Each is set
against a floor measured in the same run on the same records: DuckDB (a `python` process)
summing each subject's points over the records in Parquet (the columnar copy Guihua's own
engine reads) and writing the sums to Parquet. Peak memory is each process's own maximum
resident set (`wait4`). Sizes default to 100k, 1M, 3M and 13M residents; export time must
grow no worse than linearly with the records.

Usage: python bench/city.py [--people 100000,1000000,3000000,13000000] [--spark-up-to 1000000]
       [--keep] [--reuse] [--out bench/out/city]
Appends (or replaces) the "City" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GUIHUA = ROOT / ".venv" / "bin" / "guihua"
PYTHON = ROOT / ".venv" / "bin" / "python"
RESULTS = ROOT / "bench" / "RESULTS.md"
AS_OF = "2026-06-30"  # the synthetic records happen up to this day
# Ingest stamps each record received today, and a penalty counts only from receipt plus its notice
# days (spec: never before the resident could be told): the city is scored this many days after
# it was built, so that its penalties count as well as its rewards.
SCORED_AFTER_DAYS = 45
PROPOSAL = ROOT / "examples" / "proposal-lighter-traffic.yaml"
SECTION = "\n## City (bench/city.py)"

FLOOR = """
import sys, duckdb
records, out = sys.argv[1], sys.argv[2]
duckdb.connect().execute(
    f"COPY (SELECT subject_id, sum(coalesce(points, 0)) AS points FROM read_parquet('{records}/*.parquet') "
    "WHERE is_current GROUP BY subject_id) TO '" + out + "' (FORMAT parquet)"
)
"""


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str]) -> dict[str, Any]:
    """Like :func:`timed`, with this process's own peak: the child is waited for with wait4."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd[:4]))} failed ({proc.returncode}): {err.strip()[-800:]}")
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "stdout": out}


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def guihua(*args: str) -> list[str]:
    return [str(GUIHUA), *args]


def build(people: int, folder: Path, reuse: bool) -> dict[str, Any]:
    """Synthesise and ingest a city, or with ``reuse`` take the one an earlier ``--keep`` run built.

    A 13M city takes over an hour to build; reusing it lets a later change to the engine be
    measured on the same store (its synth and ingest figures are the ones measured then).
    """
    built = folder / "built.json"
    if reuse and built.exists():
        log(f"{people:,}: reusing the city built earlier in {folder}")
        found = dict(json.loads(built.read_text(encoding="utf-8")))
        return found | {"at": scoring_day(found)}
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    city, db = folder / "city", folder / "city.db"
    log(f"{people:,}: guihua synth ...")
    synth = run(guihua("synth", "--people", str(people), "--out", str(city), "--as-of", AS_OF, "--json"))
    log(f"{people:,}: synth {synth['seconds']:.0f} s; guihua ingest-manifest ...")
    ingest = run(guihua("ingest-manifest", str(city / "manifest.json"), "--db", str(db), "--json"))
    records = int(json.loads(ingest["stdout"])["accepted"])
    log(f"{people:,}: ingest {ingest['seconds']:.0f} s, {records:,} records")
    out = {"people": people, "records": records, "synth": synth, "ingest": ingest, "built": now()}
    out["at"] = scoring_day(out)
    built.write_text(json.dumps(out), encoding="utf-8")
    return out


def scoring_day(built: dict[str, Any]) -> str:
    """:data:`SCORED_AFTER_DAYS` after the day the city was ingested (its records' receipt)."""
    if "at" in built:
        return str(built["at"])
    day = dt.date.fromisoformat(str(built["built"])[:10])
    return (day + dt.timedelta(days=SCORED_AFTER_DAYS)).isoformat()


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def one_city(
    people: int, folder: Path, spark: bool, simulate: bool, save: Any, reuse: bool = False
) -> dict[str, Any]:
    """Every phase on a city of ``people``; ``save(out)`` after each, so a run cut short keeps them."""
    out: dict[str, Any] = build(people, folder, reuse)
    db = folder / "city.db"
    mirror = Path(str(db) + ".columnar")
    floor_cmd = [str(PYTHON), "-c", FLOOR, str(mirror / "records"), str(folder / "floor.parquet")]
    out |= {"store_bytes": size_of(db), "copy_bytes": size_of(mirror), "floor": run(floor_cmd)}
    log(f"{people:,}: floor {out['floor']['seconds']:.1f} s")

    def phase(key: str, *args: str) -> None:
        """One `guihua` command on this city at its scoring day, timed, and the figures saved."""
        log(f"{people:,}: {key} ...")
        out[key] = run(guihua(*args, "--at", out["at"], "--db", str(db), "--json"))
        log(f"{people:,}: {key} {out[key]['seconds']:.2f} s")
        save(out)

    phase("export", "export", "scores", "--engine", "duckdb", "--out", str(folder / "scores.parquet"))
    out["floor2"] = run(floor_cmd)
    log(f"{people:,}: floor again {out['floor2']['seconds']:.1f} s")
    phase("feeds", "feeds")
    if spark:
        phase("spark", "export", "scores", "--engine", "spark", "--out", str(folder / "spark.parquet"))
    if simulate:
        changes = str(folder / "changes.parquet")
        phase("simulate", "simulate", "--catalog", str(PROPOSAL), "--changes", changes)
    return out


def rows(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| residents | records | phase | wall | floor (best of 2) | ratio | peak RSS |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        floor = min(r["floor"]["seconds"], r.get("floor2", r["floor"])["seconds"])
        head = f"| {r['people']:,} | {r['records']:,} "
        lines.append(
            head + f"| synth | {r['synth']['seconds']:.0f} s |  |  | {r['synth']['peak_mb']:,.0f} MB |"
        )
        lines.append(
            head + f"| ingest (store {r['store_bytes'] / 2**30:.2f} GiB, columnar copy "
            f"{r['copy_bytes'] / 2**30:.2f} GiB) | {r['ingest']['seconds']:.0f} s "
            f"({r['records'] / r['ingest']['seconds']:,.0f} rec/s) | {floor:.2f} s | "
            f"{r['ingest']['seconds'] / floor:.0f}x | {r['ingest']['peak_mb']:,.0f} MB |"
        )
        if "feeds" in r:
            lines.append(
                head + f"| `guihua feeds --json` (target < 1 s) | {r['feeds']['seconds']:.2f} s |  |  "
                f"| {r['feeds']['peak_mb']:,.0f} MB |"
            )
        for key, what in (
            ("export", "export --engine duckdb"),
            ("simulate", "simulate"),
            ("spark", "export --engine spark"),
        ):
            if key in r:
                lines.append(
                    head + f"| {what} | {r[key]['seconds']:.1f} s | {floor:.2f} s | "
                    f"**{r[key]['seconds'] / floor:.2f}x** | {r[key]['peak_mb']:,.0f} MB |"
                )
    return lines


def growth(results: list[dict[str, Any]]) -> list[str]:
    if len(results) < 2:
        return []
    base = results[0]
    out = ["", "Export growth against the smallest city (linear = 1.00):", ""]
    for r in results[1:]:
        scale = r["records"] / base["records"]
        ratio = (r["export"]["seconds"] / base["export"]["seconds"]) / scale
        out.append(
            f"- {r['people']:,} residents: {scale:.1f}x the records, export time per record {ratio:.2f}x"
        )
    return out


def write(results: list[dict[str, Any]], argv: list[str], started: str, section: str = SECTION) -> None:
    previous = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    if section + "\n" in previous:
        start = previous.index(section + "\n")
        rest = previous[start + len(section) :]
        nxt = rest.find("\n## ")
        previous = previous[:start] + (rest[nxt:] if nxt >= 0 else "")
    load = os.getloadavg()
    body = [
        section.strip(),
        "",
        f"- date: {started}; command: `.venv/bin/python bench/city.py {' '.join(argv)}`".rstrip(),
        f"- load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 cores)",
        "- every phase a `guihua` process, start included; floor: DuckDB summing each subject's points over "
        "the columnar copy's Parquet, a `python` process (best of one run before and one after)",
        *(
            f"- {r['people']:,} residents: records up to {AS_OF}, ingested {r['built']}, scored at {r['at']} "
            f"({SCORED_AFTER_DAYS} days after receipt, so that penalties count)"
            for r in results
            if "built" in r
        ),
        "",
        *rows(results),
        *growth(results),
    ]
    RESULTS.write_text(previous.rstrip() + "\n\n" + "\n".join(body) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--people", default="100000,1000000,3000000,13000000")
    parser.add_argument(
        "--spark-up-to", type=int, default=1_000_000, help="run Spark on cities up to this size"
    )
    parser.add_argument("--simulate-from", type=int, default=0, help="simulate on cities at least this size")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "city")
    parser.add_argument("--keep", action="store_true", help="keep each city's folder (store, copy, CSV)")
    parser.add_argument(
        "--reuse", action="store_true", help="measure on a city an earlier --keep run built, if there is one"
    )
    parser.add_argument("--section", default="", help="a heading of its own (another run's section stays)")
    args = parser.parse_args()
    started = now()
    results: list[dict[str, Any]] = []
    for people in [int(p) for p in args.people.split(",")]:
        folder = args.out / f"p{people}"

        def save(out: dict[str, Any]) -> None:
            write(
                [*results, out],
                sys.argv[1:],
                started,
                SECTION + (f": {args.section}" if args.section else ""),
            )  # a long run cut short keeps what it measured

        results.append(
            one_city(
                people, folder, people <= args.spark_up_to, people >= args.simulate_from, save, args.reuse
            )
        )
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print("\n".join(rows(results) + growth(results)))


if __name__ == "__main__":
    main()
