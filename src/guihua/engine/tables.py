"""What the engine reads: the store's records and objections, as unbound Ibis tables.

Every rule of the engine is a function of a :class:`Tables` (and the catalog and
a date) returning an Ibis expression. Whoever runs it binds the tables: the
store's own SQL (:mod:`guihua.engine.compiled`), DuckDB over Arrow batches
(:mod:`guihua.engine.batch`), later Spark.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from guihua.engine.lazy_ibis import ibis

if TYPE_CHECKING:
    import ibis.expr.types as ir


@dataclass(frozen=True)
class Overlay:
    """The records as stored, except those of ``metrics``, which are ``rematched``'s instead.

    How a what-if simulation gives the engine a proposal's matches without rewriting a city's
    records: only the current records of the metrics whose match the proposal changes
    (:func:`guihua.engine.match.match_terms`) are matched again and written to ``rematched``;
    every batch engine reads ``stored`` without them, plus ``rematched``. Both are Parquet (a
    file, or a folder of files) with the columns of :data:`RECORDS_SCHEMA`.
    """

    stored: Path
    rematched: Path
    metrics: frozenset[str]


# The columns of the store's ``records`` table that the rules read. The last
# eight are derived at matching time from the record and the catalog alone.
RECORDS_SCHEMA: dict[str, str] = {
    "id": "int64",
    "department": "string",
    "source_id": "string",
    "version": "int32",
    "is_current": "boolean",
    "retracted_at": "timestamp",
    "retracted_on": "date",
    "subject_id": "string",
    "metric": "string",
    "occurred_at": "date",
    "received_on": "date",
    "fields": "string",
    "submission_id": "int64",
    "rule_id": "string",
    "points": "int32",
    "category": "string",
    "start_date": "date",
    "end_date": "date",
    "start_year": "int32",
    "case_id": "string",
    "action": "string",
}

OBJECTIONS_SCHEMA: dict[str, str] = {
    "id": "int64",
    "subject_id": "string",
    "department": "string",
    "source_id": "string",
    "record_version": "int32",
    "filed_on": "date",
    "suspends_on": "date",
    "decision": "string",
    "decided_on": "date",
    # carried through for whoever lists objections; no rule reads them
    "reason": "string",
    "filed_by": "string",
    "decided_by": "string",
    "decision_reason": "string",
}


@dataclass(frozen=True)
class Tables:
    """The engine's inputs for one query.

    ``records`` may be narrowed to one subject (a lookup) by whoever builds the
    query; ``objections`` are never narrowed that way, because what an
    objection withholds is a record's key, whoever filed it. ``subject`` is the
    subject asked about, for the few queries that narrow objections themselves
    (a resident's own objections). ``scope`` narrows the records a query
    *reports on* (the rows one submission stored) while the rules still see
    every record (a resolution stored earlier resolves a case listed now).
    """

    records: ir.Table
    objections: ir.Table
    subject: ir.StringValue | None = None
    scope: ir.Table | None = None

    @property
    def reported(self) -> ir.Table:
        """The records a query reports on: the scope when one is set, else all records."""
        return self.scope if self.scope is not None else self.records


def records_table(name: str = "records") -> ir.Table:
    return ibis.table(RECORDS_SCHEMA, name=name)


def objections_table(name: str = "objections") -> ir.Table:
    return ibis.table(OBJECTIONS_SCHEMA, name=name)


def store_tables() -> Tables:
    """The store's own tables, unbound and whole."""
    return Tables(records_table(), objections_table())
