"""The Spark engine's fixtures: one local session for the whole test run, or a clear skip.

Under CI=true the Spark tests must run: PySpark or Java missing fails them. Elsewhere they skip,
saying what is missing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest


def spark_missing() -> str | None:
    """Why the Spark engine cannot run here (None: it can)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "PySpark is not installed (uv sync --extra spark)"
    home = os.environ.get("JAVA_HOME")
    if not (home and os.path.exists(os.path.join(home, "bin", "java"))) and shutil.which("java") is None:
        return "no java on PATH (Spark needs Java 17+)"
    return None


def need_spark() -> None:
    reason = spark_missing()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the Spark tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def spark_local() -> Iterator[Any]:
    """The process's local Spark session (local[2]), started once and stopped at the end."""
    need_spark()
    from guihua.engine import spark

    session = spark.session()
    yield session
    spark.stop()
