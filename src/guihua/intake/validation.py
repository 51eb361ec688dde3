"""Record validation (spec section 3), in columns.

One pass of Polars expressions over a chunk decides, for every row, the first
reject reason that applies (in the spec's order) and, for valid rows, the
typed field values and their canonical JSON. No per-row Python.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from guihua.core.catalog import LISTING_ACTIONS, Catalog
from guihua.core.id_columns import normalized, valid_subject_id
from guihua.core.reasons import MAX_SOURCE_ID, MAX_VALUE, Reason
from guihua.core.record_format import TYPE_WORDS
from guihua.intake.chunks import BASE_COLUMNS, LINE, NESTED, NOT_TEXT, TOO_LONG, RawChunk

REDACTED = "[redacted: prohibited attribute]"
MAX_KEPT = 20_000  # characters of a quarantined row's text kept (the rest is marked as cut)
_DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
_POLARS_TYPES: dict[str, pl.DataType] = {
    "int": pl.Int64(),
    "number": pl.Float64(),
    "string": pl.String(),
    "bool": pl.Boolean(),
    "date": pl.Date(),
}

# The validator's own columns: named so that no department field (a metric may well declare a
# field "reason" or "detail") is overwritten by them.
_REASON, _DETAIL = "__reason", "__detail"


Check = tuple[Reason, pl.Expr, pl.Expr]  # a reason, when it applies, what the department is told


@dataclass
class Validated:
    valid: pl.DataFrame  # LINE, base columns (typed), field columns, fields, case_id, action
    rejects: pl.DataFrame  # LINE, reason, detail, source_id, raw


def parse_value(text: pl.Expr, ftype: str) -> tuple[pl.Expr, pl.Expr]:
    """(parsed value, parses-ok) for text cells of a field type; CSV rules of spec section 3."""
    stripped = text.str.strip_chars()
    if ftype == "int":
        ok = stripped.str.contains(r"^[+-]?\d{1,18}(\.0*)?$")
        value = stripped.str.replace(r"\.0*$", "").cast(pl.Int64, strict=False)
        return value, ok & value.is_not_null()
    if ftype == "number":
        value = stripped.cast(pl.Float64, strict=False)
        return value, value.is_not_null() & value.is_finite()
    if ftype == "bool":
        low = stripped.str.to_lowercase()
        return low.is_in(["true", "1"]), low.is_in(["true", "false", "1", "0"])
    if ftype == "date":
        value = stripped.str.to_date("%Y-%m-%d", strict=False)
        return value, stripped.str.contains(_DATE_RE) & value.is_not_null()
    return text, ~text.str.contains("\x00", literal=True)


def _first(pairs: list[tuple[pl.Expr, str]]) -> pl.Expr:
    """Name of the first pair whose condition holds, else null."""
    if not pairs:
        return pl.lit(None, pl.String)
    return pl.coalesce([pl.when(cond).then(pl.lit(name)) for cond, name in pairs])


def _unreadable(fields: list[str]) -> pl.Expr:
    """Why a row cannot be read at all (spec section 3 limits), else null: the first cell that breaks one.

    A NUL character in any cell, a cell over :data:`MAX_VALUE` characters, a
    ``source_id`` over :data:`MAX_SOURCE_ID`. (Bytes that are not text never
    get here: the readers refuse them.)
    """
    pairs: list[tuple[pl.Expr, str]] = [
        (
            pl.col("source_id").str.len_chars() > MAX_SOURCE_ID,
            f"source_id is longer than {MAX_SOURCE_ID} characters",
        )
    ]
    for name in (*BASE_COLUMNS, *fields):
        cell = pl.col(name)
        pairs.append((cell == NOT_TEXT, f"{name} holds bytes that are not UTF-8 text"))
        pairs.append((cell == TOO_LONG, f"{name} is longer than {MAX_VALUE:,} characters"))
        nul = cell.str.contains("\x00", literal=True) & ~cell.is_in([NESTED, NOT_TEXT, TOO_LONG])
        pairs.append((nul, f"{name} holds a NUL character"))
        pairs.append((cell.str.len_chars() > MAX_VALUE, f"{name} is longer than {MAX_VALUE:,} characters"))
    return _first([(cond.fill_null(False), why) for cond, why in pairs])


def _in(metric: pl.Expr, codes: set[str] | list[str]) -> pl.Expr:
    return metric.is_in(sorted(codes)) if codes else pl.lit(False)


class ChunkValidator:
    """Validates chunks of one department's submission against one catalog."""

    def __init__(self, catalog: Catalog, department: str, today: dt.date) -> None:
        self.catalog = catalog
        self.department = catalog.department_by_code[department]
        self.today = today
        self.declaring: dict[str, set[str]] = defaultdict(set)  # field name -> metrics
        self.declaring_typed: dict[tuple[str, str], set[str]] = defaultdict(set)
        for m in catalog.metrics:
            for name, ftype in m.fields.items():
                self.declaring[name].add(m.code)
                self.declaring_typed[(name, ftype)].add(m.code)
        self.listing_metrics = {m.code for m in catalog.metrics if m.kind == "listing"}
        own = [catalog.metric_by_code[m] for m in self.department.metrics if m in catalog.metric_by_code]
        own_pairs = {(n, t) for m in own for n, t in m.fields.items()}
        # typed columns only for fields this department's metrics declare: its file holds nothing else
        self.field_columns = {p: c for p, c in catalog.field_columns.items() if p in own_pairs}

    def validate(self, chunk: RawChunk) -> Validated:
        fields = chunk.field_names
        reason, detail = self._reason(fields)
        # one lazy plan: Polars runs the independent columns in parallel, without interim frames
        df = (
            pl.DataFrame(chunk.table)
            .lazy()
            .with_columns(
                pl.col("source_id").str.strip_chars(),
                normalized(pl.col("subject_id")),
                pl.col("metric").str.strip_chars(),
                pl.col("occurred_at").str.strip_chars(),
            )
            .with_columns(
                valid_subject_id(pl.col("subject_id"), self.today).alias("__id_ok"),
                pl.col("occurred_at").str.to_date("%Y-%m-%d", strict=False).alias("__occurred"),
            )
            .with_columns(reason.alias(_REASON))
            .collect()
        )
        valid = df.filter(pl.col(_REASON).is_null())
        # messages only for the few rejected rows: formatting one for every row cost as much as the reasons
        rejected = df.filter(pl.col(_REASON).is_not_null()).with_columns(detail.alias(_DETAIL))
        return Validated(self._typed(valid, fields), self._rejects(rejected, chunk, fields))

    # -- reasons ----------------------------------------------------------------------

    def _reason(self, fields: list[str]) -> tuple[pl.Expr, pl.Expr]:
        """(first reason, its detail) per row: the checks in the spec's order, the first that holds wins."""
        reason: pl.Expr = pl.lit(None, pl.String)
        detail: pl.Expr = pl.lit(None, pl.String)
        for code, cond, message in reversed([*self._row_checks(fields), *self._field_checks(fields)]):
            reason = pl.when(cond.fill_null(True)).then(pl.lit(code.value)).otherwise(reason)
            detail = pl.when(cond.fill_null(True)).then(message).otherwise(detail)
        return reason, detail

    def _row_checks(self, fields: list[str]) -> list[Check]:
        """unreadable to metric_not_permitted: what a row is, before its fields."""
        metric, occurred = pl.col("metric"), pl.col("__occurred")
        unreadable = _unreadable(fields)
        date_bad = ~pl.col("occurred_at").str.contains(_DATE_RE).fill_null(False) | occurred.is_null()
        return [
            (Reason.UNREADABLE, unreadable.is_not_null(), unreadable),
            (
                Reason.MISSING_SOURCE_ID,
                pl.col("source_id").is_null() | (pl.col("source_id") == ""),
                pl.lit("source_id is empty"),
            ),
            (
                Reason.INVALID_SUBJECT_ID,
                ~pl.col("__id_ok"),
                pl.format(
                    "subject_id {} is not a valid 18-character resident identity number",
                    pl.col("subject_id").fill_null("(empty)"),
                ),
            ),
            (
                Reason.INVALID_DATE,
                date_bad,
                pl.format(
                    "occurred_at {} is not a date YYYY-MM-DD", pl.col("occurred_at").fill_null("(empty)")
                ),
            ),
            (
                Reason.FUTURE_DATE,
                occurred > pl.lit(self.today),
                pl.format(
                    "occurred_at {} is after today ({})", pl.col("occurred_at"), pl.lit(str(self.today))
                ),
            ),
            (
                Reason.UNKNOWN_METRIC,
                ~_in(metric, set(self.catalog.metric_by_code)).fill_null(False) | metric.is_null(),
                pl.format("metric {} is not in the catalog", metric.fill_null("(empty)")),
            ),
            (
                Reason.METRIC_NOT_PERMITTED,
                ~_in(metric, set(self.department.metrics)),
                pl.format(
                    "metric {} is not in the data-sharing agreement of {}",
                    metric,
                    pl.lit(self.department.code),
                ),
            ),
        ]

    def _field_checks(self, fields: list[str]) -> list[Check]:
        """prohibited_attribute to invalid_field: the row's fields against its metric's declaration."""
        metric = pl.col("metric")
        present = {f: pl.col(f).is_not_null() for f in fields}
        prohibited = [f for f in fields if self.catalog.is_prohibited(f)]
        prohibited_hit = _first([(present[f], f) for f in prohibited])
        unknown_hit = _first(
            [
                (present[f] & ~_in(metric, self.declaring.get(f, set())), f)
                for f in fields
                if f not in prohibited
            ]
        )
        missing_hit, invalid_hit = self._missing(present), self._invalid(present)
        return [
            (
                Reason.PROHIBITED_ATTRIBUTE,
                prohibited_hit.is_not_null(),
                pl.format("field {} is a prohibited attribute and is never collected", prohibited_hit),
            ),
            (
                Reason.UNKNOWN_FIELD,
                unknown_hit.is_not_null(),
                pl.format("field {} is not declared for metric {}", unknown_hit, metric),
            ),
            (
                Reason.MISSING_FIELD,
                missing_hit.is_not_null(),
                pl.format("field {} is required for metric {}", missing_hit, metric),
            ),
            (Reason.INVALID_FIELD, invalid_hit.is_not_null(), pl.format("field {}", invalid_hit)),
        ]

    def _missing(self, present: dict[str, pl.Expr]) -> pl.Expr:
        """The first declared field a row of the department's own metrics lacks, with its type."""
        own = set(self.department.metrics)  # other metrics stopped at metric_not_permitted
        return _first(
            [
                (
                    _in(pl.col("metric"), ms & own) & (~present[f] if f in present else pl.lit(True)),
                    f"{f} ({t})",
                )
                for (f, t), ms in sorted(self.declaring_typed.items())
                if ms & own
            ]
        )

    def _invalid(self, present: dict[str, pl.Expr]) -> pl.Expr:
        """The first field whose value does not parse as its declared type, and what was expected."""
        own = set(self.department.metrics)
        pairs = []
        for (name, ftype), ms in sorted(self.declaring_typed.items()):
            if name in present and ms & own:
                _, ok = parse_value(pl.col(name), ftype)
                pairs.append(
                    (_in(pl.col("metric"), ms) & present[name] & ~ok, f"{name} is not {TYPE_WORDS[ftype]}")
                )
        if "action" in present:
            bad_action = ~pl.col("action").str.strip_chars().is_in(list(LISTING_ACTIONS))
            pairs.append(
                (
                    _in(pl.col("metric"), self.listing_metrics) & bad_action,
                    "action is neither list nor resolve",
                )
            )
        return _first(pairs)

    # -- valid rows -------------------------------------------------------------------

    def _typed(self, df: pl.DataFrame, fields: list[str]) -> pl.DataFrame:
        metric = pl.col("metric")
        typed = []
        for (name, ftype), column in self.field_columns.items():
            ms = self.declaring_typed[(name, ftype)]
            if name in fields:
                value, _ = parse_value(pl.col(name), ftype)
                typed.append(pl.when(_in(metric, ms)).then(value).otherwise(None).alias(column))
            else:
                typed.append(pl.lit(None, _POLARS_TYPES[ftype]).alias(column))
        df = df.with_columns(typed)
        canonical = []
        present_metrics = set(df.get_column("metric").unique().to_list())
        for m in self.catalog.metrics:
            if m.code not in present_metrics:
                continue
            names = sorted(m.fields)
            cols = [pl.col(self.catalog.field_columns[(n, m.fields[n])]).alias(n) for n in names]
            encoded = pl.struct(cols).struct.json_encode() if cols else pl.lit("{}")
            canonical.append(pl.when(metric == m.code).then(encoded))
        fields_json = pl.coalesce(canonical) if canonical else pl.lit("{}")
        listing = _in(metric, self.listing_metrics)
        case_col = self.field_columns.get(("case_id", "string"))
        action_col = self.field_columns.get(("action", "string"))
        case_id = pl.when(listing).then(pl.col(case_col)) if case_col else pl.lit(None, pl.String)
        action = (
            pl.when(listing).then(pl.col(action_col).str.strip_chars())
            if action_col
            else pl.lit(None, pl.String)
        )
        return df.select(
            LINE,
            *[c for c in BASE_COLUMNS if c != "occurred_at"],
            pl.col("__occurred").alias("occurred_at"),
            *self.field_columns.values(),
            fields_json.alias("fields"),
            case_id.alias("case_id"),
            action.alias("action"),
        )

    # -- rejected rows ----------------------------------------------------------------

    def _rejects(self, df: pl.DataFrame, chunk: RawChunk, fields: list[str]) -> pl.DataFrame:
        prohibited = {f for f in fields if self.catalog.is_prohibited(f)}
        if chunk.raw_lines is not None:
            # the rejected rows' places among the chunk's lines, found in C++ (not a dict of every line)
            places = pc.index_in(
                pa.array(df.get_column(LINE).to_list(), pa.int64()), value_set=chunk.table.column(LINE)
            )
            raw = [_redact_json(chunk.raw_lines[i], self.catalog) for i in places.to_pylist()]
            raw_col = pl.Series("raw", raw, pl.String)
        else:
            original = [
                (pl.lit(REDACTED) if c in prohibited else pl.col(c).fill_null("")).alias(c)
                for c in chunk.table.column_names
                if c != LINE
            ]
            raw_col = df.select(pl.struct(original).struct.json_encode().alias("raw")).to_series()
        readable_key = (pl.col("source_id").str.len_chars() <= MAX_SOURCE_ID) & ~pl.col(
            "source_id"
        ).str.contains("\x00", literal=True)
        out = df.select(
            LINE,
            pl.col(_REASON).alias("reason"),
            pl.col(_DETAIL).alias("detail"),
            pl.when(readable_key).then(pl.col("source_id")).alias("source_id"),
        ).with_columns(raw_col.alias("raw"))
        if chunk.unreadable:
            extra = pl.DataFrame(
                {
                    LINE: [u.line for u in chunk.unreadable],
                    "reason": [Reason.UNREADABLE.value] * len(chunk.unreadable),
                    "detail": [u.detail for u in chunk.unreadable],
                    "source_id": [None] * len(chunk.unreadable),
                    "raw": [u.raw for u in chunk.unreadable],
                },
                schema=out.schema,
            )
            out = pl.concat([out, extra])
        return out.with_columns(_storable(pl.col("raw")), _storable(pl.col("detail")))


def _storable(text: pl.Expr) -> pl.Expr:
    """Text any store keeps: NUL characters written as ``\\u0000``, cut (and marked) past :data:`MAX_KEPT`."""
    clean = text.str.replace_all("\x00", "\\u0000", literal=True)
    cut = clean.str.slice(0, MAX_KEPT) + pl.lit(" [cut: the row is longer than this]")
    return pl.when(clean.str.len_chars() > MAX_KEPT).then(cut).otherwise(clean).alias(text.meta.output_name())


def _redact_json(line: str, catalog: Catalog) -> str:
    """Keep a rejected JSON line as sent, minus the values of prohibited attributes."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return line
    if not isinstance(obj, dict):
        return line
    changed = False
    for holder in (obj, obj.get("fields")):
        if isinstance(holder, dict):
            for key in holder:
                if catalog.is_prohibited(str(key)):
                    holder[key] = REDACTED
                    changed = True
    return json.dumps(obj, ensure_ascii=False) if changed else line
