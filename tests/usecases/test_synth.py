"""The default scheme and the synthetic city: valid, deterministic, shaped like Suzhou's 2018 report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
from stdnum.cn import ric

from guihua.core.ids import is_valid_subject_id
from guihua.schemes import load_default_catalog
from guihua.store.database import open_store
from guihua.synth.city import generate_city
from guihua.usecases import records, scores, submissions

AS_OF = dt.date(2026, 6, 30)


def test_default_catalog_has_what_the_pilot_needs() -> None:
    c = load_default_catalog()
    assert (c.scheme.base, c.scheme.min, c.scheme.max) == (100, 0, 200)
    assert len(c.departments) >= 18 and len(c.metrics) >= 22
    assert {m.code for m in c.metrics if m.protected} == {"marital_status", "education_level"}
    assert {m.code for m in c.metrics if m.kind == "listing"} >= {"loan_default", "unfulfilled_judgment"}
    assert c.rule_by_id["TRF-YIELD"].points == -3
    assert all(r.legal_basis and not c.metric_by_code[r.metric].protected for r in c.rules)
    loan = c.perk_by_code["civilization_loan"]
    assert (loan.min_score, loan.clean_record_required) == (100, True)
    assert {"library_long_loan", "transit_discount", "priority_hospital"} <= set(c.perk_by_code)


def _city(folder: Path, people: int, seed: int = 1) -> list[dict[str, str]]:
    return generate_city(load_default_catalog(), people, seed, folder, AS_OF)


def test_city_is_deterministic_and_valid(tmp_path: Path) -> None:
    a, b = _city(tmp_path / "a", 3000), _city(tmp_path / "b", 3000)
    assert a == b
    assert (tmp_path / "a" / "manifest.json").read_bytes() == (tmp_path / "b" / "manifest.json").read_bytes()
    catalog = load_default_catalog()
    for entry in a:
        ta, tb = pq.read_table(tmp_path / "a" / entry["file"]), pq.read_table(tmp_path / "b" / entry["file"])
        assert ta.equals(tb)
        df = pl.from_arrow(ta)
        assert isinstance(df, pl.DataFrame)
        assert df.get_column("source_id").n_unique() == df.height
        assert df.get_column("occurred_at").max() <= AS_OF
        permitted = set(catalog.department_by_code[entry["department"]].metrics)
        assert set(df.get_column("metric").unique().to_list()) <= permitted
    civil = pl.read_parquet(tmp_path / "a" / "CIVIL.parquet").filter(pl.col("metric") == "marital_status")
    ids = civil.get_column("subject_id").to_list()
    assert len(ids) == len(set(ids)) == 3000
    assert all(is_valid_subject_id(i, AS_OF) for i in ids)
    assert all(ric.calc_check_digit(i) == i[17] for i in ids)  # stdnum: whole number in


def test_city_scores_like_suzhou_in_august_2018(tmp_path: Path) -> None:
    manifest = _city(tmp_path / "city", 10_000, seed=7)
    store = open_store(str(tmp_path / "g.db"))
    for entry in manifest:
        result = submissions.ingest_file(
            store, tmp_path / "city" / entry["file"], entry["department"], as_of=AS_OF
        )
        assert result.rejected == 0, records.list_rejects(store)
    d = scores.distribution(store, AS_OF)
    assert d.subjects == 10_000
    assert 0.10 <= d.above / d.subjects <= 0.15  # about one in eight
    assert 1 <= d.below <= 10  # about 0.04%
    assert d.below == d.below_and_defaulter  # everyone below base is a defaulter
    assert d.defaulters == d.below
