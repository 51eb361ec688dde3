"""A disk cache of compiled engine SQL.

Compiling an Ibis expression takes ~0.3-0.5 s, which every short command
(``guihua score``) would pay. The SQL depends only on the engine's code, the
catalog and the dialect, so it is cached under a key made of all three
(``GUIHUA_CACHE_DIR``, default ``$XDG_CACHE_HOME/guihua`` or ``~/.cache/guihua``).
A missing or unwritable cache only costs time.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from functools import cache
from importlib.metadata import version
from pathlib import Path

_MEMORY: dict[str, str] = {}


@cache
def _engine_fingerprint() -> str:
    """Changes whenever the engine's code or Ibis changes, so stale SQL is never reused."""
    digest = hashlib.sha256(version("ibis-framework").encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _folder() -> Path:
    base = os.environ.get("GUIHUA_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "guihua"
    )
    return Path(base) / "sql"


def cached_sql(key_parts: tuple[str, ...], compile_sql: Callable[[], str]) -> str:
    """The SQL for ``key_parts``, compiled at most once per machine."""
    key = hashlib.sha256("\x1f".join((_engine_fingerprint(), *key_parts)).encode()).hexdigest()
    sql = _MEMORY.get(key)
    if sql is not None:
        return sql
    path = _folder() / f"{key}.sql"
    try:
        sql = path.read_text(encoding="utf-8")
    except OSError:
        sql = compile_sql()
        _write(path, sql)
    _MEMORY[key] = sql
    return sql


def _write(path: Path, sql: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8") as fh:
            fh.write(sql)
        os.replace(fh.name, path)
    except OSError:
        pass
