"""The Spark engine on a real standalone cluster: a master and two workers on 127.0.0.1.

The test starts them from the PySpark installation's own launcher (``bin/spark-class``: the pip
package has no ``sbin/start-master.sh``), runs ``guihua export scores --engine spark
--spark-master spark://127.0.0.1:PORT`` through the real command line, checks that the
executors ran on the workers and that the scores equal the DuckDB engine's, and always stops
the cluster. The records' Parquet copy is in a local folder, which both workers read: they are
on this machine (a real cluster needs shared storage, docs/engine.md).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from guihua.store.database import open_store
from guihua.usecases import catalogs, objections, submissions
from tests.conftest import DATA, TODAY
from tests.engine.conftest import need_spark
from tests.helpers import jsonl, loan, offence, subject, vol

WORKERS = 2
START_TIMEOUT = 90  # seconds for the master and each worker to be up (a loaded 2-core machine)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


class Cluster:
    """A standalone master and its workers, each a process group of its own (stopped by id)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"spark://127.0.0.1:{self.port}"
        self.processes: list[subprocess.Popen[bytes]] = []
        home = spark_home()
        self.env = {
            **os.environ,
            "SPARK_HOME": str(home),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_DAEMON_MEMORY": "256m",
            "SPARK_LOG_DIR": str(folder / "logs"),
            "SPARK_WORKER_DIR": str(folder / "work"),
        }
        self.spark_class = str(home / "bin" / "spark-class")

    def _start(self, name: str, *args: str) -> Path:
        log = self.folder / f"{name}.log"
        with log.open("wb") as out:
            self.processes.append(
                subprocess.Popen(
                    [self.spark_class, *args],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=self.env,
                    start_new_session=True,  # its own process group: stopped with every child
                )
            )
        return log

    def start(self) -> None:
        master = self._start(
            "master",
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--webui-port",
            str(free_port()),
        )
        self._wait(lambda: self._answers(), "the master to listen", master)
        for i in range(WORKERS):
            work = self.folder / "work" / f"worker{i}"
            work.mkdir(parents=True)
            self._start(
                f"worker{i}",
                "org.apache.spark.deploy.worker.Worker",
                self.url,
                "--host",
                "127.0.0.1",
                "--cores",
                "1",
                "--memory",
                "1g",
                "--webui-port",
                str(free_port()),
                "--work-dir",
                str(work),
            )
        self._wait(lambda: master.read_text().count("Registering worker") >= WORKERS, "the workers", master)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def _wait(self, ready: object, what: str, log: Path) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if ready():  # type: ignore[operator]
                return
            if any(p.poll() is not None for p in self.processes):
                break
            time.sleep(0.5)
        pytest.fail(f"waiting for {what} of the Spark cluster failed:\n{log.read_text()[-3000:]}")

    def stop(self) -> None:
        for p in reversed(self.processes):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.processes:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)

    def executors(self) -> list[Path]:
        """The executor folders the workers made (work/workerN/app-.../N)."""
        return sorted(p for p in (self.folder / "work").glob("worker*/app-*/*") if p.is_dir())


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    need_spark()
    c = Cluster(tmp_path_factory.mktemp("spark-cluster"))
    try:
        c.start()
        yield c
    finally:
        c.stop()


def guihua(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "GUIHUA_TODAY": TODAY, **(env or {})}
    full.pop("GUIHUA_DB", None)
    cmd = [sys.executable, "-c", "from guihua.cli.app import main; main()", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=full, timeout=600)


def a_small_city(tmp_path: Path) -> Path:
    """A SQLite store with listings, a resolution, caps, a late record and an objection."""
    db = tmp_path / "city.db"
    store = open_store(str(db))
    catalogs.load_catalog(store, (DATA / "mini.yaml").read_text())
    people = [subject(i) for i in range(1, 9)]
    rows = [vol(i, sid, "2026-01-10") for i, sid in enumerate(people)]
    rows += [vol(100 + i, sid, "2026-03-01", hours=3) for i, sid in enumerate(people[:4])]
    traffic = [offence(i, sid, "2026-02-01") for i, sid in enumerate(people[2:7])]
    loans = [loan(1, people[0], "2026-01-05", "C1", "list"), loan(2, people[1], "2026-01-05", "C2", "list")]
    loans += [loan(3, people[1], "2026-04-01", "C2", "resolve")]
    for dept, part, day in (
        ("CIVIL", rows, "2026-03-02"),
        ("TRAFFIC", traffic, "2026-05-01"),
        ("BANK", loans, "2026-04-02"),
    ):
        submissions.ingest_file(
            store, jsonl(tmp_path / f"{dept}.jsonl", part), dept, as_of=dt.date.fromisoformat(day)
        )
    objections.file(store, people[3], "TRAFFIC", "t1", "that was not me")
    store.dispose()
    return db


def test_export_on_a_standalone_cluster_equals_duckdb(cluster: Cluster, tmp_path: Path) -> None:
    db = a_small_city(tmp_path)
    work = tmp_path / "shared"  # "shared storage": the workers run on this machine
    work.mkdir()
    on_duckdb = guihua(
        "export", "scores", "--db", str(db), "--out", str(tmp_path / "duckdb.parquet"), "--json"
    )
    assert on_duckdb.returncode == 0, on_duckdb.stderr
    small = {"GUIHUA_SPARK_CONF": "spark.executor.memory=512m spark.driver.memory=512m spark.cores.max=2"}
    args = ["export", "scores", "--db", str(db), "--engine", "spark", "--spark-master", cluster.url]
    started = time.monotonic()
    on_spark = guihua(
        *args, "--work-dir", str(work), "--out", str(tmp_path / "spark.parquet"), "--json", env=small
    )
    seconds = time.monotonic() - started
    assert on_spark.returncode == 0, on_spark.stderr
    assert '"engine": "spark"' in on_spark.stdout
    expected = pq.read_table(tmp_path / "duckdb.parquet")
    got = pq.read_table(tmp_path / "spark.parquet")
    assert expected.num_rows == 8
    assert got.schema == expected.schema
    assert got.to_pylist() == expected.to_pylist()
    assert len(cluster.executors()) >= 1, "no executor ran on the workers"
    assert list(work.iterdir()) == []  # the run's copy is gone
    noise = [line for line in on_spark.stderr.splitlines() if line.strip()]
    assert len(noise) <= 1, on_spark.stderr  # at most the JVM's "Using incubator modules" line
    print(f"export on the cluster: {seconds:.1f} s, {len(cluster.executors())} executor(s)")


def test_a_master_that_does_not_answer_is_one_line(tmp_path: Path) -> None:
    need_spark()
    db = a_small_city(tmp_path)
    url = f"spark://127.0.0.1:{free_port()}"
    proc = guihua(
        "export",
        "scores",
        "--db",
        str(db),
        "--engine",
        "spark",
        "--spark-master",
        url,
        "--out",
        str(tmp_path / "s.parquet"),
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: no Spark master answers at {url}: start one, or check --spark-master"
    ]


def test_without_pyspark_or_java_the_spark_engine_says_what_to_install(tmp_path: Path) -> None:
    db = a_small_city(tmp_path)
    out = str(tmp_path / "s.parquet")
    hidden = "import sys; sys.modules['pyspark'] = None; from guihua.cli.app import main; main()"
    env = {**os.environ, "GUIHUA_TODAY": TODAY}
    args = ["export", "scores", "--db", str(db), "--engine", "spark", "--out", out]
    proc = subprocess.run(
        [sys.executable, "-c", hidden, *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: --engine spark needs PySpark, which is not installed: "
        "install the extra: uv sync --extra spark (or pip install 'guihua[spark]')"
    ]
    no_java = {**env, "PATH": str(tmp_path / "nothing")}
    no_java.pop("JAVA_HOME", None)
    proc = subprocess.run(
        [sys.executable, "-c", "from guihua.cli.app import main; main()", *args],
        capture_output=True,
        text=True,
        env=no_java,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: --engine spark needs Java 17 or later")
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "s.parquet").exists()


def test_spark_master_goes_with_the_spark_engine(tmp_path: Path) -> None:
    db = a_small_city(tmp_path)
    proc = guihua(
        "export",
        "scores",
        "--db",
        str(db),
        "--spark-master",
        "spark://127.0.0.1:7077",
        "--out",
        str(tmp_path / "s.parquet"),
    )
    assert proc.returncode == 2
    assert "--spark-master goes with --engine spark" in proc.stderr
