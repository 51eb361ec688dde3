"""Engine queries compiled once to parametrised SQL, for the store to run.

Compiling an Ibis expression costs 0.1-0.5 s; a lookup must not pay that. A
query is compiled with sentinel values (a date, a subject, a submission) whose
literals are then replaced by named placeholders (``:at``, ``:subject``...),
so the text is the same for every call, cached on disk
(:mod:`guihua.engine.sqlcache`) and prepared once by the driver. The text is
in SQLAlchemy's ``text()`` form (other colons escaped), so SQLAlchemy does
every driver difference: placeholder style, ``%`` escaping, value types.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from guihua.core.catalog import Catalog
from guihua.engine.lazy_ibis import ibis
from guihua.engine.sqlcache import cached_sql
from guihua.engine.tables import Tables, objections_table, records_table

if TYPE_CHECKING:
    import ibis.expr.types as ir

Query = Callable[[Tables, Catalog, dt.date], "ir.Table"]

_SENTINEL_DAY = dt.date(1899, 12, 31)
_SENTINEL_SUBJECT = "000000000000000000"
_SENTINEL_SUBMISSION = 8_765_432_109_876_543
_SENTINEL_AFTER = 7_654_321_098_765_432
_SUBJECT_RE = re.compile(r"^[0-9X]{18}$")


@dataclass(frozen=True)
class Shape:
    """What a compiled query is narrowed to: one subject's records, one submission's rows, or neither."""

    subject: bool = False
    scope: bool = False  # the rows of one submission: ``submission_id = :submission AND id > :after``


def tables(shape: Shape) -> Tables:
    """The store's tables, narrowed by sentinels that become placeholders."""
    records, objections = records_table(), objections_table()
    subject = ibis.literal(_SENTINEL_SUBJECT) if shape.subject else None
    if subject is not None:
        records = records.filter(records.subject_id == subject)
    scope = None
    if shape.scope:
        scope = records.filter(
            (records.submission_id == _SENTINEL_SUBMISSION) & (records.id > _SENTINEL_AFTER)
        )
    return Tables(records, objections, subject, scope)


def compiled_sql(query: Query, catalog: Catalog, dialect: str, shape: Shape = Shape()) -> str:
    """The SQL of ``query`` for ``dialect`` with placeholders :at (and :subject, :submission, :after)."""

    def compile_template() -> str:
        sql = str(ibis.to_sql(query(tables(shape), catalog, _SENTINEL_DAY), dialect=dialect))
        sql = sql.replace(":", "\\:")  # a colon in a literal is not a placeholder
        sql = sql.replace(_literal_sql(_SENTINEL_DAY, dialect), _date_placeholder("at", dialect))
        sql = sql.replace(f"'{_SENTINEL_SUBJECT}'", ":subject")
        sql = sql.replace(str(_SENTINEL_SUBMISSION), ":submission")
        return sql.replace(str(_SENTINEL_AFTER), ":after")

    key = ("text", query.__module__, query.__qualname__, catalog.digest, dialect, repr(shape))
    return cached_sql(key, compile_template)


def parameters(
    at: dt.date, subject: str | None = None, submission: int | None = None, after: int | None = None
) -> dict[str, Any]:
    """The values for a compiled query's placeholders (a subject must have been validated)."""
    params: dict[str, Any] = {"at": at}
    if subject is not None:
        if not _SUBJECT_RE.match(subject):
            raise ValueError("subject ids must be validated before querying")
        params["subject"] = subject
    if submission is not None:
        params["submission"] = submission
        params["after"] = after or 0
    return params


def _date_placeholder(name: str, dialect: str) -> str:
    # SQLite keeps dates as ISO text and compares them as text; a CAST there would make a number.
    return f":{name}" if dialect == "sqlite" else f"CAST(:{name} AS DATE)"


@cache
def _literal_sql(day: dt.date, dialect: str) -> str:
    """How Ibis writes a date literal in ``dialect`` (read off a probe, not assumed)."""
    probe = ibis.table({"d": "date"}, name="probe")
    sql = str(ibis.to_sql(probe.filter(probe.d <= day), dialect=dialect)).replace(":", "\\:")
    return sql.rsplit("<=", 1)[1].strip()


def one_off_sql(expr: ir.Table, dialect: str) -> str:
    """An expression compiled as it is, literals and all, for a rare query (a purge) in text() form."""
    return str(ibis.to_sql(expr, dialect=dialect)).replace(":", "\\:")
