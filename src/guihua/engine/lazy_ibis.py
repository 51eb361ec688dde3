"""Ibis, imported on first use: a lookup reuses compiled SQL and needs no Ibis.

Compiling an expression needs Ibis (a quarter of a second to import); running one
compiled before (:mod:`guihua.engine.sqlcache`) does not, and every short command
is such a run. Engine modules write ``from guihua.engine.lazy_ibis import ibis``
and use it as the module it stands for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ibis as ibis
else:

    class _Ibis:
        def __getattr__(self, name: str) -> Any:
            import ibis as real

            return getattr(real, name)

    ibis = _Ibis()
