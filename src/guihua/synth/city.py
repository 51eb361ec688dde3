"""A synthetic city for the default scheme, shaped like Suzhou's August 2018 report.

Suzhou reported about one resident in eight above the base score, about 0.04%
below it (all of them on a defaulter list) and everyone else exactly at the
base. The generator draws residents and their records so that the default
scheme gives that shape at ``as_of``:

- everyone has fairness-audit data (marital status, education) and ordinary
  records that no rule scores (bills paid on time, short social-insurance runs);
- one in eight has positive records active at ``as_of``, and only they may also
  carry small penalties, never more than their gains;
- 0.04% have an open listing (loan default or unfulfilled judgment), some
  more a listing already resolved (a paid debt: back at the base);
- some have old penalties that have expired.

Everything is vectorised with NumPy and deterministic for (people, seed, as_of).
A city may have any size from one resident: a department without records in it
writes a file of no rows with the columns it has when it has rows.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from guihua.core.catalog import Catalog
from guihua.intake.chunks import BASE_COLUMNS
from guihua.synth.synthetic_ids import resident_ids

SHARE_POSITIVE = 0.125
SHARE_DEFAULTER = 0.0004
SHARE_RESOLVED = 0.001
SHARE_EXPIRED_PENALTY = 0.05
MIN_DEFAULTERS_CITY = 1000  # a district this large has at least one defaulter; a smaller one none
_ARROW = {
    "int": pa.int64(),
    "number": pa.float64(),
    "string": pa.string(),
    "bool": pa.bool_(),
    "date": pa.date32(),
}


@dataclass
class _Department:
    """One department's records, as batches of columns (one batch per metric and group)."""

    code: str
    batches: list[dict[str, np.ndarray]] = field(default_factory=list)
    # every column a batch of this department has, even an empty one: its file's schema
    columns: dict[str, None] = field(default_factory=lambda: dict.fromkeys(BASE_COLUMNS))

    def add(self, metric: str, subjects: np.ndarray, days: np.ndarray, **fields: np.ndarray) -> None:
        """Queue one batch of ``metric`` records (none if ``subjects`` is empty; its columns count still)."""
        self.columns.update(dict.fromkeys(fields))
        if len(subjects):
            metrics = np.full(len(subjects), metric, dtype=object)
            self.batches.append({"subject_id": subjects, "metric": metrics, "occurred_at": days, **fields})

    def table(self, types: dict[str, pa.DataType], part: int) -> pa.Table:
        """All batches as one Arrow table, numbered in batch order; fields a batch lacks are null.

        A department with no records this time still has every column (a valid file of no rows).
        """
        total = sum(len(b["subject_id"]) for b in self.batches)
        ids = [f"{self.code}-{part:03d}-{i:08d}" for i in range(1, total + 1)]
        data: dict[str, pa.Array] = {"source_id": pa.array(ids, pa.string())}
        for name in self.columns:
            if name == "source_id":
                continue
            values = np.concatenate(
                [
                    b[name].astype(object) if name in b else np.full(len(b["subject_id"]), None, dtype=object)
                    for b in self.batches
                ]
                or [np.array([], dtype=object)]
            )
            kind = pa.date32() if name == "occurred_at" else types.get(name, pa.string())
            data[name] = pa.array(values, kind, from_pandas=True)
        return pa.table(data)


class _City:
    """One district of residents and the records the departments hold on them."""

    def __init__(self, catalog: Catalog, ids: np.ndarray, rng: np.random.Generator, as_of: dt.date) -> None:
        self.catalog = catalog
        self.rng = rng
        self.as_of = np.datetime64(as_of)
        self.people = len(ids)
        self.ids = ids
        self.depts: dict[str, _Department] = {}

    def dept(self, metric: str) -> _Department:
        """The department the catalog says submits ``metric``."""
        code = next(d.code for d in self.catalog.departments if metric in d.metrics)
        return self.depts.setdefault(code, _Department(code))

    def days_ago(self, n: int, low: int, high: int) -> np.ndarray:
        """Dates between ``high`` and ``low`` days before as_of (as Python dates)."""
        back = self.rng.integers(low, high + 1, n).astype("timedelta64[D]")
        out: np.ndarray = (self.as_of - back).astype("datetime64[D]").astype(object)
        return out

    def pick(self, pool: np.ndarray, share: float) -> np.ndarray:
        """Each of ``pool`` independently with probability ``share``, in pool order."""
        out: np.ndarray = pool[self.rng.random(len(pool)) < share]
        return out

    def add(self, metric: str, who: np.ndarray, low: int, high: int, **fields: np.ndarray) -> None:
        """Records of ``metric`` for ``who``, on dates ``low`` to ``high`` days before as_of."""
        self.dept(metric).add(metric, who, self.days_ago(len(who), low, high), **fields)


def _fill(city: _City, bills: float) -> None:
    """Every record of one district.

    The parts draw from one random generator, so their order is part of the output for a seed:
    reorder them and the same seed gives another city.
    """
    _audit_data(city)
    _ordinary_activity(city, bills)
    groups = _draw_groups(city)
    positive = _positive_records(city, groups.positive)
    _small_penalties(city, positive)
    _expired_penalties(city, groups.rest)
    for who, settled in ((groups.defaulters, False), (groups.resolved, True)):
        _defaulter_cases(city, who, settled)


def _audit_data(city: _City) -> None:
    """Marital status and education for everyone: protected, held for the fairness audit, never scored."""
    rng, n, ids = city.rng, city.people, city.ids
    city.add(
        "marital_status",
        ids,
        30,
        3000,
        status=rng.choice(["single", "married", "divorced", "widowed"], n, p=[0.3, 0.6, 0.07, 0.03]),
    )
    city.add(
        "education_level",
        ids,
        30,
        3000,
        level=rng.choice(["primary", "secondary", "vocational", "bachelor", "master", "doctorate"], n),
    )


def _ordinary_activity(city: _City, bills: float) -> None:
    """Records no rule scores: short social-insurance runs, utility bills paid on time, library returns."""
    rng, ids = city.rng, city.ids
    short = city.pick(ids, 0.5)
    city.add(
        "social_insurance_payment",
        short,
        1,
        300,
        months_on_time=rng.integers(1, 6, len(short)),
        months_late=rng.integers(0, 3, len(short)),
    )
    _utility_bills(city, bills)
    readers = city.pick(ids, 0.2)
    city.add("library_return", readers, 1, 700, days_overdue=rng.integers(0, 30, len(readers)))


def _utility_bills(city: _City, bills: float) -> None:
    """About ``bills`` water, electricity or gas bills per resident (Poisson), all paid on time."""
    rng = city.rng
    per_person = rng.poisson(bills, city.people)
    payer = np.repeat(np.arange(city.people), per_person)
    kinds = rng.choice(["water_bill", "electricity_bill", "gas_bill"], len(payer))
    for metric in ("water_bill", "electricity_bill", "gas_bill"):
        who = city.ids[payer[kinds == metric]]
        city.add(
            metric, who, 1, 700, paid_on_time=np.ones(len(who), bool), days_late=np.zeros(len(who), np.int64)
        )


@dataclass
class _Groups:
    """The residents split by the shape of the report: each resident is in exactly one group."""

    positive: np.ndarray  # gains active at as_of (the eighth above the base)
    defaulters: np.ndarray  # an open listing at as_of (below the base)
    resolved: np.ndarray  # a listing settled before as_of (back at the base)
    rest: np.ndarray  # at the base; some with expired penalties


def _draw_groups(city: _City) -> _Groups:
    """Shuffle the residents and cut them into groups of the reported shares."""
    n, ids = city.people, city.ids
    order = city.rng.permutation(n)
    k_pos = round(n * SHARE_POSITIVE)
    k_def = max(1, round(n * SHARE_DEFAULTER)) if n >= MIN_DEFAULTERS_CITY else 0
    k_res = round(n * SHARE_RESOLVED)
    return _Groups(
        positive=ids[order[:k_pos]],
        defaulters=ids[order[k_pos : k_pos + k_def]],
        resolved=ids[order[k_pos + k_def : k_pos + k_def + k_res]],
        rest=ids[order[k_pos + k_def + k_res :]],
    )


@dataclass
class _Positive:
    """The positive group and the kind of good record each one got (si, vol, blood or tax)."""

    who: np.ndarray
    kind: np.ndarray

    def of(self, kind: str) -> np.ndarray:
        """The residents whose good record is of ``kind``."""
        out: np.ndarray = self.who[self.kind == kind]
        return out


def _positive_records(city: _City, positive: np.ndarray) -> _Positive:
    """One good record each (a full year of social insurance, volunteering, blood, tax), some a second."""
    rng = city.rng
    kind = rng.choice(["si", "vol", "blood", "tax"], len(positive), p=[0.4, 0.3, 0.1, 0.2])
    drawn = _Positive(positive, kind)
    si = drawn.of("si")
    city.add(
        "social_insurance_payment",
        si,
        1,
        300,
        months_on_time=np.full(len(si), 12),
        months_late=np.zeros(len(si), np.int64),
    )
    vol = drawn.of("vol")
    city.add(
        "volunteer_service",
        vol,
        1,
        300,
        hours=rng.choice([6.0, 12.5, 24.0, 40.0, 120.0], len(vol)),
        organisation=rng.choice(
            ["Suzhou Red Cross", "Gusu Community Volunteers", "SIP Youth League"], len(vol)
        ),
    )
    blood = drawn.of("blood")
    city.add("blood_donation", blood, 1, 600, volume_ml=rng.choice([200, 300, 400], len(blood)))
    tax = drawn.of("tax")
    city.add("tax_filing", tax, 1, 300, on_time=np.ones(len(tax), bool))
    _extra_volunteering(city, positive)
    return drawn


def _extra_volunteering(city: _City, positive: np.ndarray) -> None:
    """A second good record (volunteering) for about 30% of the positive group."""
    rng = city.rng
    extra = city.pick(positive, 0.3)
    city.add(
        "volunteer_service",
        extra,
        1,
        300,
        hours=rng.choice([6.0, 24.0], len(extra)),
        organisation=np.full(len(extra), "Suzhou Volunteers Federation"),
    )


def _small_penalties(city: _City, positive: _Positive) -> None:
    """Littering and traffic fines, only where gains outweigh them (a 2-point record can bear a 1-point fine).

    Tax filers get none, and failing to yield (the larger penalty) falls only on social-insurance payers.
    """
    rng = city.rng
    sinners = city.pick(positive.who[np.isin(positive.kind, ["si", "vol", "blood"])], 0.15)
    split = rng.random(len(sinners))
    litter = sinners[split < 0.5]
    city.add("littering_fine", litter, 20, 150, fine=np.full(len(litter), 50.0))
    yielders = sinners[(split >= 0.5) & np.isin(sinners, positive.of("si"))]
    city.add(
        "fail_to_yield_pedestrian",
        yielders,
        20,
        150,
        location=rng.choice(["Renmin Rd / Ganjiang Rd", "Xinghu St / Suzhou Ave"], len(yielders)),
        fine=np.full(len(yielders), 100.0),
    )


def _expired_penalties(city: _City, rest: np.ndarray) -> None:
    """Old littering fines that have expired by as_of: held, but no longer counting."""
    old = city.pick(rest, SHARE_EXPIRED_PENALTY)
    city.add("littering_fine", old, 400, 900, fine=np.full(len(old), 50.0))


def _defaulter_cases(city: _City, who: np.ndarray, settled: bool) -> None:
    """Defaulter-list cases for ``who``: loan defaults (about 60%) or unfulfilled judgments.

    ``settled``: each case is also resolved 30 to 180 days after listing (a paid debt, off the list).
    """
    loans = who[city.rng.random(len(who)) < 0.6]
    courts = who[~np.isin(who, loans)]
    for metric, group, prefix in (
        ("loan_default", loans, "LD"),
        ("unfulfilled_judgment", courts, "(2024)SU05ZHI"),
    ):
        _cases(city, metric, group, prefix, settled)


def _cases(city: _City, metric: str, group: np.ndarray, prefix: str, settled: bool) -> None:
    """One listing per resident of ``group`` under ``metric``, and its resolution if ``settled``."""
    rng = city.rng
    cases = np.array([f"{prefix}-{i:07d}" for i in rng.integers(0, 10**7, len(group))], dtype=object)
    amount = rng.choice([8000.0, 25000.0, 120000.0], len(group))
    listed = city.days_ago(len(group), 200, 900)
    _listing(city, metric, group, listed, cases, "list", amount)
    if settled:
        paid = listed + np.array(
            [dt.timedelta(days=int(d)) for d in rng.integers(30, 180, len(group))], dtype=object
        )
        _listing(city, metric, group, paid, cases, "resolve", amount)


def _listing(
    city: _City,
    metric: str,
    who: np.ndarray,
    days: np.ndarray,
    cases: np.ndarray,
    action: str,
    amount: np.ndarray,
) -> None:
    """Listing records (``action`` "list" or "resolve") on the given days, not drawn like other dates."""
    actions = np.full(len(who), action, dtype=object)
    city.dept(metric).add(metric, who, days, case_id=cases, action=actions, amount=amount)


def generate_city(
    catalog: Catalog,
    people: int,
    seed: int,
    out_dir: Path,
    as_of: dt.date,
    progress: Callable[[int], None] | None = None,
    bills_per_person: float = 1.5,
) -> list[dict[str, str]]:
    """Write one Parquet file per department (and district part) and ``manifest.json``.

    Residents are processed in districts of at most 200,000 so memory stays flat.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ids = resident_ids(rng, people, as_of)
    manifest: list[dict[str, str]] = []
    step = 200_000
    for part, start in enumerate(range(0, people, step)):
        city = _City(catalog, ids[start : start + step], rng, as_of)
        _fill(city, bills_per_person)
        _write(city, out_dir, manifest, part)
        if progress:
            progress(city.people)
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _write(city: _City, out_dir: Path, manifest: list[dict[str, str]], part: int) -> None:
    """One Parquet file per department of the district, typed as the catalog's fields are."""
    types: dict[str, pa.DataType] = {}
    for metric in city.catalog.metrics:
        for name, ftype in metric.fields.items():
            types.setdefault(name, _ARROW[ftype])
    for code in sorted(city.depts):
        name = f"{code}.parquet" if part == 0 else f"{code}-{part:03d}.parquet"
        pq.write_table(city.depts[code].table(types, part), out_dir / name)
        manifest.append({"file": name, "department": code})
