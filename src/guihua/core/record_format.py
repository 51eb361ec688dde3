"""What a department must send: each metric's columns, their types, who may send it, an example.

One definition of the record format, read from the catalog, serves `guihua catalog show`,
`guihua catalog template`, the API's catalog and the words of the validator's reasons
(``invalid_field`` says "fine is not a number" with the phrase :data:`TYPE_WORDS` gives), so
what a department is told to send and what it is refused for never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from guihua.core.catalog import LISTING_ACTIONS, Catalog, FieldType, Metric
from guihua.core.ids import check_digit

BASE_COLUMNS: tuple[str, ...] = ("source_id", "subject_id", "metric", "occurred_at")

TYPE_WORDS: dict[str, str] = {
    "int": "a whole number",
    "number": "a number",
    "string": "text",
    "bool": "true or false (or 1 or 0)",
    "date": "a date YYYY-MM-DD",
}

_BASE_MEANING = {
    "source_id": "the department's own key for the record (sending it again changes nothing)",
    "subject_id": "the resident's 18-character citizen id",
    "metric": "the metric's code",
    "occurred_at": "the day it happened, YYYY-MM-DD",
}

# A citizen id with a correct check digit (born 1985-03-12 in Suzhou's Gusu district): an
# example row validates as it stands, so a department can try the template before filling it.
_EXAMPLE_ID = "32050819850312123" + check_digit("32050819850312123")
_EXAMPLE_VALUE: dict[str, str] = {
    "int": "1",
    "number": "200.00",
    "string": "example",
    "bool": "true",
    "date": "2026-01-15",
}


@dataclass(frozen=True)
class Column:
    """One column of a department's file: its name, its type and what it means."""

    name: str
    type: str
    meaning: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "type": self.type, "meaning": self.meaning}


@dataclass(frozen=True)
class MetricFormat:
    """Everything a department needs to send one metric, and nothing it may not send."""

    code: str
    name: str
    kind: str
    category: str | None
    protected: bool
    departments: tuple[str, ...]
    columns: tuple[Column, ...] = field(default=())

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]

    def example(self) -> dict[str, str]:
        """A row that passes validation as it stands (a made-up resident, a past day)."""
        row = {
            "source_id": f"{self.departments[0] if self.departments else 'DEPT'}-{self.code}-0001",
            "subject_id": _EXAMPLE_ID,
            "metric": self.code,
            "occurred_at": "2026-01-15",
        }
        for c in self.columns[len(BASE_COLUMNS) :]:
            row[c.name] = _example_value(c)
        return row

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "category": self.category,
            "protected": self.protected,
            "departments": list(self.departments),
            "columns": [c.as_dict() for c in self.columns],
            "example": self.example(),
        }


def record_formats(catalog: Catalog) -> list[MetricFormat]:
    """Every metric's format, in catalog order."""
    return [_format(catalog, m) for m in catalog.metrics]


def record_format(catalog: Catalog, metric: str) -> MetricFormat | None:
    """One metric's format, or None when the catalog has no such metric."""
    found = catalog.metric_by_code.get(metric)
    return _format(catalog, found) if found else None


def _format(catalog: Catalog, metric: Metric) -> MetricFormat:
    senders = tuple(d.code for d in catalog.departments if metric.code in d.metrics)
    base = tuple(
        Column(n, "date" if n == "occurred_at" else "string", _BASE_MEANING[n]) for n in BASE_COLUMNS
    )
    own = tuple(Column(n, t, _field_meaning(metric, n, t)) for n, t in metric.fields.items())
    return MetricFormat(
        metric.code, metric.name, metric.kind, metric.category, metric.protected, senders, base + own
    )


def _field_meaning(metric: Metric, name: str, ftype: FieldType) -> str:
    if metric.kind == "listing" and name == "action":
        return " or ".join(LISTING_ACTIONS) + ": put on the list, or taken off it"
    if metric.kind == "listing" and name == "case_id":
        return "the case the listing belongs to (its list and resolve rows share it)"
    return TYPE_WORDS[ftype]


def _example_value(column: Column) -> str:
    if column.name == "action":
        return LISTING_ACTIONS[0]
    if column.name == "case_id":
        return "CASE-0001"
    return _EXAMPLE_VALUE[column.type]
