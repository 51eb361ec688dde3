"""Apache Spark through PySpark: one session per process, and the engine's compiled SQL run on it.

Nothing here knows a rule. The query is the engine's Ibis expression compiled once for Spark SQL
(:func:`guihua.engine.compiled.compiled_sql`, dialect ``pyspark``, the date a ``:at`` parameter,
as for every other backend); this module starts the session, names the Parquet files (or Arrow
tables) after the engine's tables, and runs the text.

PySpark is the optional extra ``guihua[spark]`` and is imported only here, on first use: the
rest of the command line never pays for it. A session is local (``local[2]``) unless a master
URL is given (``spark://HOST:PORT``); its settings are :data:`DEFAULTS`, each overridable with
``GUIHUA_SPARK_CONF`` (``key=value`` pairs separated by spaces).
"""

from __future__ import annotations

import atexit
import datetime as dt
import os
import shutil
import socket
import warnings
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa

from guihua.core.errors import EngineUnavailable
from guihua.engine.tables import OBJECTIONS_SCHEMA, RECORDS_SCHEMA, Overlay

LOCAL = "local[2]"
INSTALL_HINT = "install the extra: uv sync --extra spark (or pip install 'guihua[spark]')"
DEFAULTS: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",  # adaptive execution coalesces further; a province wants more
    "spark.driver.memory": "2g",
    "spark.sql.session.timeZone": "UTC",  # days are days: no zone may shift a date
    "spark.driver.maxResultSize": "2g",  # the scores come back to the driver (13 M rows: ~0.4 GB)
}
_SPARK_TYPES = {
    "int64": "bigint",
    "int32": "int",
    "string": "string",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp",
}

_session: Any = None
_master: str | None = None


def session(master: str | None = None) -> Any:
    """The process's Spark session on ``master`` (default :data:`LOCAL`), started on first use.

    Asking for another master stops the session there is and starts one on the new master.
    """
    global _session, _master
    want = master or LOCAL
    if _session is not None and _master == want:
        return _session
    if _session is not None:
        stop()
    builder = _builder(want)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning)  # "does not yet fully support pandas"
            started = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start, or the master refused us
        reason = " ".join(str(exc).split())[:300]
        raise EngineUnavailable(f"Spark did not start on {want}: {reason}") from None
    started.sparkContext.setLogLevel("ERROR")
    _session, _master = started, want
    atexit.register(stop)
    return started


def stop() -> None:
    """Stop the process's session, if any (an application on a cluster ends cleanly)."""
    global _session, _master
    if _session is not None:
        _session.stop()
    _session, _master = None, None


def run_sql(
    sql: str,
    records: Path | pa.Table | Overlay,
    objections: Path | pa.Table,
    at: dt.date,
    master: str | None = None,
) -> pa.Table:
    """Compiled engine SQL (Spark dialect, ``:at`` its one parameter) over the engine's tables."""
    spark = session(master)
    _view(spark, "records", records, RECORDS_SCHEMA)
    _view(spark, "objections", objections, OBJECTIONS_SCHEMA)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)
        try:
            return spark.sql(sql, args={"at": at}).toArrow()
        except Exception as exc:
            if "Cannot call methods on a stopped SparkContext" in str(exc):
                stop()
                raise EngineUnavailable(
                    f"the Spark application on {master or LOCAL} was stopped (did the master or a worker go?)"
                ) from None
            raise


def _view(spark: Any, name: str, source: Path | pa.Table | Overlay, schema: dict[str, str]) -> None:
    """A temporary view named like the engine's table: every column typed, absent ones null."""
    from pyspark.sql import functions as F

    if isinstance(source, Overlay):
        stored = spark.read.parquet(str(source.stored))
        frame = stored.filter(~F.col("metric").isin(sorted(source.metrics))).unionByName(
            spark.read.parquet(str(source.rematched)), allowMissingColumns=True
        )
    elif isinstance(source, pa.Table) and source.num_rows == 0:
        # Spark infers no types from an empty Arrow table: an empty frame of the engine's types
        frame = spark.createDataFrame([], ", ".join(f"`{c}` {_SPARK_TYPES[t]}" for c, t in schema.items()))
    elif isinstance(source, pa.Table):
        frame = spark.createDataFrame(source)
    else:
        frame = spark.read.parquet(str(source))
    present = set(frame.columns)
    columns = [
        (F.col(f"`{c}`") if c in present else F.lit(None)).cast(_SPARK_TYPES[t]).alias(c)
        for c, t in schema.items()
    ]
    frame.select(*columns).createOrReplaceTempView(name)


# --------------------------------------------------------------------------- starting a session


def _builder(master: str) -> Any:
    """A session builder for ``master`` with :data:`DEFAULTS` and quiet logging, or a one-line error."""
    _check_java()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning)
            from pyspark.sql import SparkSession
    except ImportError:
        raise EngineUnavailable(
            f"--engine spark needs PySpark, which is not installed: {INSTALL_HINT}"
        ) from None
    _check_master(master)
    if _is_this_machine(master):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # else Spark warns and picks another address
    conf = {**DEFAULTS, "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{_log_config()}"}
    conf.update(_overrides(os.environ.get("GUIHUA_SPARK_CONF", "")))
    builder = SparkSession.builder.master(master).appName("guihua")
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder


def _check_java() -> None:
    home = os.environ.get("JAVA_HOME")
    java = Path(home) / "bin" / "java" if home else None
    if (java is None or not java.exists()) and shutil.which("java") is None:
        raise EngineUnavailable(
            "--engine spark needs Java 17 or later, and no java is on PATH (nor JAVA_HOME): "
            "install one (apt-get install openjdk-17-jre-headless)"
        )


def _check_master(master: str) -> None:
    """A ``spark://`` master must answer at once (Spark itself would retry for a minute, then give up)."""
    if not master.startswith("spark://"):
        return
    for address in master.removeprefix("spark://").split(","):
        host, _, port = address.partition(":")
        try:
            with socket.create_connection((host, int(port or 7077)), timeout=5):
                return
        except (OSError, ValueError):
            continue
    raise EngineUnavailable(f"no Spark master answers at {master}: start one, or check --spark-master")


def _is_this_machine(master: str) -> bool:
    if master.startswith("local"):
        return True
    host = urlparse(master.split(",")[0]).hostname
    return host in ("127.0.0.1", "localhost")


def _log_config() -> str:
    return str(files("guihua.engine").joinpath("spark-log4j2.properties"))


def _overrides(text: str) -> dict[str, str]:
    pairs = {}
    for item in text.split():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise EngineUnavailable(f"GUIHUA_SPARK_CONF: {item!r} is not key=value")
        pairs[key] = value
    return pairs
