"""``guihua simulate`` and ``guihua report fairness`` through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.csv as pacsv
import pytest

from guihua.store.database import open_store
from tests.conftest import DATA
from tests.helpers import assert_one_line_error, run
from tests.usecases.test_simulation import build_city, proposal_text


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The simulation tests' city in a SQLite store, built once for this module."""
    folder = tmp_path_factory.mktemp("city")
    path = folder / "g.db"
    store = open_store(str(path))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GUIHUA_TODAY", "2026-06-30")
        build_city(store, folder, (DATA / "mini.yaml").read_text(), mp)
    store.dispose()
    (folder / "proposal.yaml").write_text(proposal_text((DATA / "mini.yaml").read_text()))
    return path


def test_simulate_json_changes_and_report(city: Path, tmp_path: Path) -> None:
    proposal = city.parent / "proposal.yaml"
    changes, report = tmp_path / "changes.csv", tmp_path / "report.html"
    proc = run(
        "simulate",
        "--catalog",
        str(proposal),
        "--json",
        "--changes",
        str(changes),
        "--out",
        str(report),
        db=city,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert {"subjects", "changed", "perks", "buckets", "crossings", "rules", "categories", "by_group"} <= set(
        out
    )
    assert (out["subjects"], out["changed"], out["perks"]["transit"]["gained"]) == (9, 9, 6)
    assert {"gained", "lost"} <= set(out["perks"]["library_long_loan"])
    rows = pacsv.read_csv(changes).to_pylist()
    assert len(rows) == 9
    assert {"subject_id", "score_before", "score_after", "defaulter_before", "defaulter_after"} <= set(
        rows[0]
    )
    page = report.read_text(encoding="utf-8")
    assert (
        page.count("<svg") == 3
        and "<script" not in page
        and 'src="http' not in page
        and 'href="http' not in page
    )
    assert "What-if simulation" in page and "TRF-YIELD" in page


def test_simulate_text_names_the_change(city: Path) -> None:
    proc = run("simulate", "--catalog", str(city.parent / "proposal.yaml"), db=city)
    assert proc.returncode == 0, proc.stderr
    assert (
        "9 residents, 9 change" in proc.stdout and "rule TRF-YIELD (changed): -6 -> -10 points" in proc.stdout
    )


def test_a_bad_proposal_is_refused_with_every_problem(city: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = (DATA / "mini.yaml").read_text().replace("points: -40", "points: -80")
    bad.write_text(text.replace("min_score: 102", "min_score: 102, colour: red"))
    proc = run("simulate", "--catalog", str(bad), "--json", db=city)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    out = json.loads(proc.stdout)
    assert out["error"] == "catalog_refused" and len(out["problems"]) == 2
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("catalog refused: 2 problem(s)")
    assert [ln.removeprefix("  - ") for ln in lines[1:]] == out["problems"]
    load = run("catalog", "load", str(bad), "--json", db=city)  # the same refusal as catalog load's
    assert json.loads(load.stdout)["problems"] == out["problems"]


def test_simulate_refusals_are_one_line(city: Path, tmp_path: Path) -> None:
    proposal = str(city.parent / "proposal.yaml")
    assert_one_line_error(
        run("simulate", "--catalog", proposal, "--engine", "sqlite", db=city), "duckdb, sql, spark"
    )
    assert_one_line_error(
        run("simulate", "--catalog", proposal, "--engine", "sql", "--spark-master", "spark://x:1", db=city),
        "--spark-master goes with --engine spark",
    )
    assert_one_line_error(
        run("simulate", "--catalog", proposal, "--out", str(tmp_path / "r.pdf"), db=city), ".html"
    )
    assert_one_line_error(run("simulate", "--catalog", str(tmp_path / "none.yaml"), db=city), "cannot read")
    assert_one_line_error(run("simulate", "--catalog", proposal, db=tmp_path / "absent.db"), "no store")


def test_report_fairness_json_and_html(city: Path, tmp_path: Path) -> None:
    page = tmp_path / "fairness.html"
    proc = run("report", "fairness", "--json", "--out", str(page), db=city)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["subjects"] == 9 and out["dimensions"] == ["district", "sex", "age_band", "marital_status"]
    row = out["rows"][0]
    assert {"dimension", "group", "subjects", "mean_score", "below_base", "defaulters", "perks"} <= set(row)
    assert {"eligible", "rate", "ratio"} <= set(row["perks"]["library_long_loan"])
    assert "Fairness audit" in page.read_text(encoding="utf-8")
    public = json.loads(run("report", "fairness", "--json", "--public", db=city).stdout)
    assert all(r["suppressed"] for r in public["rows"])  # 9 residents: nothing may be published
