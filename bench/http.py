"""HTTP benchmark: a real load generator (wrk) on loopback against `guihua serve` with one worker.

Eligibility checks and score lookups (each writing its audit entry) are reported as
requests per second and p50/p99 latency, with their ratio to a bare FastAPI endpoint
returning a constant JSON, served the same way and measured in the same run.
Targets (issue 3): >= 40% of the bare throughput, p99 under 25 ms.

Usage: python bench/http.py [--seconds 10] [--connections 8]; appends to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE / "out" / "http"
TODAY = "2026-06-30"
BARE = (
    "from fastapi import FastAPI\napp = FastAPI()\n\n"
    "@app.get('/bare')\ndef bare() -> dict:\n    return {'ok': True, 'n': 1}\n"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(port: int, timeout: float = 30) -> None:
    end = time.time() + timeout
    while time.time() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start")


def guihua(*args: str) -> str:
    env = {**os.environ, "GUIHUA_TODAY": TODAY}
    cmd = [sys.executable, "-c", "from guihua.cli.app import main; main()", *args]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout


def wrk(url: str, seconds: int, connections: int, token: str | None, script: Path | None) -> dict[str, float]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    if script:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = {p: _ms(re.search(rf"\s{p}%\s+([\d.]+\w+)", out).group(1)) for p in ("50", "99")}  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50": lat["50"],
        "p99": lat["99"],
        "non2xx": float(errors.group(1)) if errors else 0.0,
    }


def _ms(text: str) -> float:
    value, unit = float(re.match(r"[\d.]+", text).group()), re.sub(r"[\d.]", "", text)  # type: ignore[union-attr]
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def lua(ids: list[str], template: str) -> Path:
    path = OUT / f"{abs(hash(template))}.lua"
    path.write_text(
        "local ids = {" + ",".join(f'"{i}"' for i in ids) + "}\nlocal n = 0\n"
        "request = function()\n  n = n + 1\n  local id = ids[(n % #ids) + 1]\n"
        f'  return wrk.format("GET", string.format("{template}", id))\nend\n'
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--people", type=int, default=20_000)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk (Debian), then run again")
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    db = str(OUT / "http.db")
    guihua("synth", "--people", str(args.people), "--seed", "1", "--as-of", TODAY, "--out", str(OUT / "city"))
    guihua("ingest-manifest", str(OUT / "city" / "manifest.json"), "--db", db)
    token_lib = guihua(
        "accounts", "create", "--role", "provider", "--name", "lib", "--provider", "SZLIB", "--db", db
    ).split()[-1]
    token_aud = guihua("accounts", "create", "--role", "auditor", "--name", "aud", "--db", db).split()[-1]
    export = OUT / "scores.csv"
    guihua("export", "scores", "--out", str(export), "--db", db)
    ids = [line.split(",")[0].strip('"') for line in export.read_text().splitlines()[1:1001]]
    (OUT / "bare.py").write_text(BARE)

    results: dict[str, dict[str, float]] = {}
    servers = {
        "bare": [
            sys.executable,
            "-m",
            "uvicorn",
            "--app-dir",
            str(OUT),
            "bare:app",
            "--log-level",
            "warning",
        ],
        # neither side writes an access line per request (the bare app runs at --log-level warning)
        "guihua": [
            sys.executable,
            "-c",
            "from guihua.cli.app import main; main()",
            "serve",
            "--no-access-log",
            "--db",
            db,
        ],
    }
    for name, cmd in servers.items():
        port = free_port()
        proc = subprocess.Popen(
            [*cmd, "--port", str(port)],
            env={**os.environ, "GUIHUA_TODAY": TODAY},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_up(port)
            base = f"http://127.0.0.1:{port}"
            if name == "bare":
                wrk(f"{base}/bare", 2, args.connections, None, None)  # warm-up
                results["bare"] = wrk(f"{base}/bare", args.seconds, args.connections, None, None)
            else:
                elig = lua(ids, "/api/v1/perks/library_long_loan/eligibility/%s")
                score = lua(ids, "/api/v1/subjects/%s/score?purpose=bench")
                wrk(base, 2, args.connections, token_lib, elig)  # warm-up (compiles and caches the SQL)
                results["eligibility"] = wrk(base, args.seconds, args.connections, token_lib, elig)
                results["score"] = wrk(base, args.seconds, args.connections, token_aud, score)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    report(results, args)


def report(results: dict[str, dict[str, float]], args: argparse.Namespace) -> None:
    bare = results["bare"]["rps"]
    lines = [
        "",
        "## HTTP (one uvicorn worker, wrk on loopback)",
        "",
        f"`python bench/http.py --seconds {args.seconds} --connections {args.connections}`, "
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; every request writes its audit entry; "
        "no access log line on either side.",
        "",
        "| endpoint | requests/s | p50 | p99 | ratio to bare | targets (>= 40%, p99 < 25 ms) |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        ratio = r["rps"] / bare
        ok = name == "bare" or (ratio >= 0.4 and r["p99"] < 25)
        verdict = "" if name == "bare" else ("PASS" if ok else "FAIL")
        bad = f" ({int(r['non2xx'])} non-2xx)" if r["non2xx"] else ""
        figures = f"{r['rps']:,.0f} | {r['p50']:.1f} ms | {r['p99']:.1f} ms | {ratio:.0%}"
        lines.append(f"| {name}{bad} | {figures} | {verdict} |")
    text = "\n".join(lines) + "\n"
    results_md = HERE / "RESULTS.md"
    previous = results_md.read_text() if results_md.exists() else "# Benchmark results\n"
    if "## HTTP" in previous:
        previous = previous[: previous.index("\n## HTTP")] + "\n"
    results_md.write_text(previous.rstrip("\n") + "\n" + text)
    print(text)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
