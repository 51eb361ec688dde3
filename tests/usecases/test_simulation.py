"""What-if simulation (spec section 9) on both stores: exactly what loading the proposal gives, nothing stored.

The city: the mini catalog's residents with rewards, penalties (one sent late), a listing open and
one resolved, a correction, a retraction, an objection that suspends its record, and protected
marital-status records. The proposal changes a rule's condition, a rule's points, a listing's
points, a perk's threshold, and adds a perk.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from guihua.core.catalog_parsing import parse_catalog
from guihua.core.errors import CatalogRefused, Forbidden, InvalidInput
from guihua.core.policy import Actor
from guihua.engine.eligibility import column, everyone_perks
from guihua.store import schema
from guihua.store.catalog_queries import active_catalog
from guihua.store.database import Store, open_store
from guihua.store.engine_queries import run_query
from guihua.usecases import (
    audit,
    catalogs,
    objections,
    population,
    records,
    scores,
    simulation,
    submissions,
)
from tests.conftest import TODAY
from tests.helpers import D, jsonl, load, loan, offence, record, subject, submit_as_they_happen, vol

# A transaction ended twice, or left open, shows as SQLAlchemy's warning: here it fails the test.
pytestmark = pytest.mark.filterwarnings("error::sqlalchemy.exc.SAWarning")

A, B, C, DEBTOR, PAID, F, G, H, LATE = (subject(i) for i in range(1, 10))
AT = D(TODAY)


def proposal_text(mini: str) -> str:
    """The mini scheme with five changes (each replaced text must be there exactly once)."""
    changes = [
        ("when: {hours: {gte: 10}}, points: 3", "when: {hours: {gte: 3}}, points: 3"),  # VOL-10H from 3 hours
        (
            "when: {offence: {eq: fail_to_yield}}, points: -3",
            "when: {offence: {eq: fail_to_yield}}, points: -5",
        ),
        ("points: -40", "points: -30"),  # LOAN-LIST
        ("min_score: 102", "min_score: 101"),  # library_long_loan
    ]
    for old, new in changes:
        assert mini.count(old) == 1, old
        mini = mini.replace(old, new)
    return mini + (
        "  - {code: transit, name: Transit discount, provider: SZMETRO, min_score: 98, clean_record_required: false,"
        ' benefit: "10% off"}\n'
    )


def build_city(store: Store, folder: Path, mini: str, monkeypatch: pytest.MonkeyPatch) -> None:
    load(
        store,
        mini,
        folder,
        "CIVIL",
        [
            vol(1, A, "2026-03-01", hours=12),
            vol(2, B, "2026-03-01", hours=2),
            vol(3, G, "2026-02-01", hours=12),
            record("m1", A, "marital_status", "2020-01-01", status="married"),
            record("m2", A, "marital_status", "2025-01-01", status="divorced"),
            record("m3", B, "marital_status", "2024-01-01", status="married"),
        ],
    )
    submit_as_they_happen(
        store,
        folder,
        "TRAFFIC",
        [
            offence(1, C, "2026-05-01"),
            offence(2, F, "2026-04-01", kind="speeding", paid=False),
            offence(3, F, "2026-04-02"),
            offence(4, H, "2026-01-05"),
        ],
    )
    late = jsonl(folder / "late.jsonl", [offence(5, LATE, "2026-01-01")])
    assert submissions.ingest_file(store, late, "TRAFFIC", as_of=D("2026-06-01")).rejected == 0
    submit_as_they_happen(
        store,
        folder,
        "BANK",
        [
            loan(1, DEBTOR, "2026-01-10", "C1", "list"),
            loan(2, PAID, "2025-05-01", "C2", "list"),
            loan(3, PAID, "2025-09-01", "C2", "resolve"),
        ],
    )
    corrected = jsonl(folder / "fix.jsonl", [vol(3, G, "2026-02-01", hours=3)])  # a correction: version 2
    assert submissions.ingest_file(store, corrected, "CIVIL", as_of=D("2026-03-05")).corrected == 1
    records.retract(store, "TRAFFIC", "t3")
    monkeypatch.setenv("GUIHUA_TODAY", "2026-02-01")
    objections.file(store, H, "TRAFFIC", "t4", "it was not me", actor=Actor("h", "resident", subject_id=H))
    monkeypatch.setenv("GUIHUA_TODAY", TODAY)  # undecided for 30 days: t4 is suspended today


@pytest.fixture
def city(store: Store, tmp_path: Path, mini_catalog_text: str, monkeypatch: pytest.MonkeyPatch) -> Store:
    build_city(store, tmp_path, mini_catalog_text, monkeypatch)
    return store


def everyone(store: Store) -> dict[str, tuple[int, bool, dict[str, bool]]]:
    return everyone_at(store, AT)


def simulated(sim: simulation.Simulation, side: str) -> dict[str, tuple[int, bool, dict[str, bool]]]:
    out = {}
    for r in sim.outcomes.to_pylist():
        perks = {code: bool(r[f"{side}_perk{j}"]) for j, code in enumerate(sim.perks)}
        out[r["subject_id"]] = (int(r[f"score_{side}"]), bool(r[f"defaulter_{side}"]), perks)
    return out


def only(perks: dict[str, bool], codes: list[str]) -> dict[str, bool]:
    return {c: perks.get(c, False) for c in codes}


# --------------------------------------------------------------------------- exactness


def test_a_simulation_equals_loading_the_proposal(city: Store, mini_catalog_text: str) -> None:
    before = everyone(city)
    text = proposal_text(mini_catalog_text)
    sim = simulation.simulate(city, text, at=AT)
    assert {s: (v[0], v[1], only(v[2], sim.perks)) for s, v in before.items()} == simulated(sim, "before")
    catalogs.load_catalog(city, text)
    after = everyone(city)
    assert after == simulated(sim, "after")
    scored = {r["subject_id"]: (r["score"], r["defaulter"]) for r in scores.all_scores(city, AT).to_pylist()}
    assert scored == {s: (v[0], v[1]) for s, v in after.items()}
    # by hand: G's corrected 3 hours now reach VOL-10H, C's and LATE's offences cost 5, DEBTOR 30
    assert {s: after[s][0] - before[s][0] for s in after if after[s][0] != before[s][0]} == {
        G: 2,
        C: -2,
        LATE: -2,
        DEBTOR: 10,
    }
    assert before[H][0] == 100 and before[LATE][0] == 97  # suspended by objection; late: from receipt


def test_only_the_metrics_whose_match_changes_are_matched_again(mini_catalog_text: str) -> None:
    """Words, citations, caps and perks never change a match; a rule's terms or order do."""
    mini = parse_catalog(mini_catalog_text)
    assert population.rematched_metrics(mini, parse_catalog(proposal_text(mini_catalog_text))) == {
        "volunteer_service",
        "traffic_offence",
        "loan_default",
    }
    words = mini_catalog_text.replace(
        'legal_basis: "Road Traffic Safety Law Art. 47"', 'legal_basis: "Art. 48"'
    )
    words = words.replace(
        "name: Volunteer service,", "name: Volunteering hours, translations: {zh-CN: {name: 志愿}},"
    )
    words = words.replace("max_loss_per_year: 6", "max_loss_per_year: 3").replace(
        "min_score: 102", "min_score: 90"
    )
    assert words != mini_catalog_text
    assert population.rematched_metrics(mini, parse_catalog(words)) == frozenset()
    for old, new, metric in [
        (
            "notice_days: 7, effective_from: 2019-01-01, legal",
            "notice_days: 8, effective_from: 2019-01-01, legal",
            "traffic_offence",
        ),
        (
            "fields: {case_id: string, action: string, amount: number}",
            "fields: {case_id: string, action: string, amount: int}",
            "loan_default",
        ),
        ("category: volunteering, kind: event", "category: traffic, kind: event", "volunteer_service"),
    ]:
        assert mini_catalog_text.count(old) == 1, old
        changed = parse_catalog(mini_catalog_text.replace(old, new))
        assert population.rematched_metrics(mini, changed) == {metric}, old
    vol_1h = mini_catalog_text.index("  - {id: VOL-1H")
    vol_10h = mini_catalog_text.index("  - {id: VOL-10H")
    line_10h = mini_catalog_text[vol_10h:vol_1h]
    swapped = mini_catalog_text.replace(line_10h, "", 1)
    end_1h = swapped.index("\n", swapped.index("  - {id: VOL-1H")) + 1
    swapped = swapped[:end_1h] + line_10h + swapped[end_1h:]  # VOL-1H now first: it matches 10 hours
    assert population.rematched_metrics(mini, parse_catalog(swapped)) == {"volunteer_service"}


def test_matching_only_the_changed_metrics_equals_matching_every_record(
    city: Store, mini_catalog_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The overlay (stored records, the changed metrics' matched again) is exactly a full re-match."""
    text = proposal_text(mini_catalog_text)
    narrowed = simulation.simulate(city, text, at=AT)
    assert narrowed.summary["changed"] > 0

    def every_metric(stored: Any, other: Any) -> frozenset[str]:
        return frozenset(stored.metric_by_code) | frozenset(other.metric_by_code)

    monkeypatch.setattr(population, "rematched_metrics", every_metric)
    full = simulation.simulate(city, text, at=AT)
    assert full.outcomes is not None and full.outcomes.equals(narrowed.outcomes)
    assert full.summary == narrowed.summary


def test_the_summary_counts_winners_losers_crossings_and_rules(city: Store, mini_catalog_text: str) -> None:
    s = simulation.simulate(city, proposal_text(mini_catalog_text), at=AT).summary
    assert (s["subjects"], s["gainers"], s["losers"]) == (9, 2, 2)
    assert sum(b["subjects"] for b in s["buckets"]) == 9
    buckets = {b["label"]: b["subjects"] for b in s["buckets"]}
    assert (
        buckets["lose 1 to 4"],
        buckets["gain 1 to 4"],
        buckets["gain 5 to 10"],
        buckets["no change"],
    ) == (2, 1, 1, 5)
    # B reaches the library perk's new 101, G too (103); the new transit perk (98): all but C, LATE (95), DEBTOR
    assert s["perks"]["library_long_loan"] == {
        "gained": 2,
        "lost": 0,
        "eligible_before": 1,
        "eligible_after": 3,
    }
    assert s["perks"]["transit"]["gained"] == 6 and s["perks"]["transit"]["eligible_before"] == 0
    assert (
        s["changed"] == 9
    )  # the score of four, a perk of the others (everyone but C, LATE, DEBTOR gains transit)
    assert s["crossings"] == {
        "falls_below_base": 0,
        "rises_to_base": 0,
        "becomes_defaulter": 0,
        "stops_defaulter": 0,
    }
    rules = {r["rule_id"]: r for r in s["rules"]}
    assert (rules["TRF-YIELD"]["points_before"], rules["TRF-YIELD"]["points_after"]) == (-6, -10)
    assert rules["TRF-YIELD"]["rule"] == "changed" and rules["TRF-OTHER"]["rule"] == "unchanged"
    assert (rules["LOAN-LIST"]["points_before"], rules["LOAN-LIST"]["points_after"]) == (-40, -30)
    assert rules["VOL-10H"]["records_after"] == 2 and rules["VOL-1H"]["records_after"] == 1
    assert s["catalog_changes"]["rules"]["changed"] == ["VOL-10H", "TRF-YIELD", "LOAN-LIST"]
    assert s["catalog_changes"]["perks"] == {
        "added": ["transit"],
        "removed": [],
        "changed": ["library_long_loan"],
    }
    categories = {c["category"]: c for c in s["categories"]}
    assert (categories["traffic"]["points_before"], categories["traffic"]["points_after"]) == (-8, -12)
    marital = {r["group"]: r for r in s["by_group"] if r["dimension"] == "marital_status"}
    assert (
        marital["divorced"]["subjects"] == 1 and marital["unknown"]["subjects"] == 7
    )  # A's latest is divorced
    assert all(r["small"] for r in s["by_group"])  # 9 residents: every cell is small
    assert {r["dimension"] for r in s["fairness"]["after"]} == {
        "district",
        "sex",
        "age_band",
        "marital_status",
    }


def test_the_changes_are_one_row_per_resident_who_changes(
    city: Store, mini_catalog_text: str, tmp_path: Path
) -> None:
    out = tmp_path / "changes.csv"
    sim = simulation.simulate(city, proposal_text(mini_catalog_text), at=AT, changes_out=out)
    rows = {r["subject_id"]: r for r in pacsv.read_csv(out).to_pylist()}
    assert len(rows) == sim.summary["changed"] == sim.changes.num_rows
    assert rows[B]["score_before"] == rows[B]["score_after"] == 101
    assert rows[B]["perks_gained"] == "library_long_loan;transit" and not rows[B]["perks_lost"]
    assert (rows[C]["score_before"], rows[C]["score_after"], rows[C]["change"]) == (97, 95, -2)
    assert rows[DEBTOR]["defaulter_before"] and rows[DEBTOR]["defaulter_after"]
    parquet = tmp_path / "changes.parquet"
    simulation.simulate(city, proposal_text(mini_catalog_text), at=AT, changes_out=parquet)
    assert pq.read_table(parquet).num_rows == len(rows)


def test_a_baseline_compares_two_proposals(city: Store, mini_catalog_text: str) -> None:
    text = proposal_text(mini_catalog_text)
    same = simulation.simulate(city, text, baseline_text=text, at=AT).summary
    assert same["changed"] == 0 and same["baseline"]["kind"] == "file"
    against_file = simulation.simulate(city, text, baseline_text=mini_catalog_text, at=AT)
    against_active = simulation.simulate(city, text, at=AT)
    assert against_file.outcomes.equals(against_active.outcomes)
    back = simulation.simulate(city, mini_catalog_text, baseline_text=text, at=AT).summary
    assert (back["gainers"], back["losers"]) == (2, 2)


def test_a_proposal_that_fails_validation_is_refused_with_every_problem(
    city: Store, mini_catalog_text: str
) -> None:
    bad = mini_catalog_text.replace("points: -40", "points: -80").replace(
        "min_score: 102", "min_score: 102, colour: red"
    )
    with pytest.raises(CatalogRefused) as refused:
        simulation.simulate(city, bad, at=AT)
    with pytest.raises(CatalogRefused) as loaded:
        parse_catalog(bad)
    expected = loaded.value.problems
    assert refused.value.problems == expected and len(expected) == 2
    with pytest.raises(CatalogRefused) as baseline:
        simulation.simulate(city, mini_catalog_text, baseline_text=bad, at=AT)
    assert all(p.startswith("--baseline: ") for p in baseline.value.problems)
    scoring = mini_catalog_text.replace(
        "perks:\n",
        '  - {id: MAR-1, metric: marital_status, points: 1, effective_from: 2018-01-01, legal_basis: "x"}\nperks:\n',
    )
    with pytest.raises(CatalogRefused, match="protected and may never be scored"):
        simulation.simulate(city, scoring, at=AT)  # protected metrics are for the audit only
    assert not [e for e in audit.entries(city) if e["action"] == "scores.simulate"]


def test_only_analysts_and_auditors_simulate_and_only_on_a_known_engine(
    city: Store, mini_catalog_text: str
) -> None:
    with pytest.raises(Forbidden):
        simulation.simulate(city, mini_catalog_text, actor=Actor("r", "resident", subject_id=A))
    with pytest.raises(InvalidInput, match="duckdb, sql, spark"):
        simulation.simulate(city, mini_catalog_text, engine="polars")
    assert (
        simulation.simulate(city, mini_catalog_text, actor=Actor("aud", "auditor"), at=AT).summary["changed"]
        == 0
    )


# --------------------------------------------------------------------------- nothing stored changes


def _table_rows(store: Store) -> dict[str, list[Any]]:
    with store.begin() as conn:
        return {
            t.name: sorted(map(repr, conn.execute(t.select()).all()))
            for t in schema.metadata.sorted_tables
            if t.name != "audit_log"
        }


def test_the_run_is_audited_and_is_the_only_thing_added(city: Store, mini_catalog_text: str) -> None:
    before, entries = _table_rows(city), len(audit.entries(city, limit=10_000))
    simulation.simulate(city, proposal_text(mini_catalog_text), at=AT)
    assert _table_rows(city) == before
    log = audit.entries(city, limit=10_000)
    assert len(log) == entries + 1
    entry = log[0]
    assert entry["action"] == "scores.simulate" and entry["subject_id"] is None
    digest = parse_catalog(proposal_text(mini_catalog_text)).digest
    assert digest[:12] in entry["detail"] and "9 residents, 9 change" in entry["detail"]
    assert not any(sid in entry["detail"] for sid in (A, B, C, DEBTOR, PAID, F, G, H, LATE))


def test_a_read_only_store_refuses_every_write(city: Store) -> None:
    reader = simulation.read_only_twin(city)
    try:
        assert reader.read_only
        with pytest.raises(Exception, match=r"(?i)read.?only"), reader.begin() as conn:
            conn.exec_driver_sql("DELETE FROM records")
    finally:
        reader.dispose()
    assert scores.all_scores(city, AT).num_rows == 9


def _bytes(path: Path) -> dict[str, bytes]:
    """The store's file and its write-ahead log (absent and empty are the same: no frames)."""
    wal = Path(f"{path}-wal")
    return {"db": path.read_bytes(), "wal": wal.read_bytes() if wal.exists() else b""}


def test_the_store_is_byte_for_byte_the_same_after_a_simulation(
    sqlite_store: Store, tmp_path: Path, mini_catalog_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_city(sqlite_store, tmp_path, mini_catalog_text, monkeypatch)
    path = Path(str(sqlite_store.engine.url.database))
    sqlite_store.dispose()  # the last connection closes: the log is checkpointed into the file
    before = _bytes(path)
    reader = open_store(str(path), read_only=True)
    for engine in ("duckdb", "sql"):  # sql lays the proposal's matches over the records in temp tables
        sim = simulation.compute(
            reader, parse_catalog(proposal_text(mini_catalog_text)), at=AT, engine=engine
        )
        assert sim.summary["changed"] == 9
    reader.dispose()
    assert _bytes(path) == before


def test_the_stores_own_sql_simulates_alike_and_writes_nothing(
    city: Store, mini_catalog_text: str, tmp_path: Path
) -> None:
    """``--engine sql``: the proposal's matches laid over the records in temporary tables only."""
    text = proposal_text(mini_catalog_text)
    duck = simulation.simulate(city, text, at=AT)
    before = _contents(city)
    sql = simulation.simulate(city, text, at=AT, engine="sql", changes_out=tmp_path / "c.csv")
    assert sql.outcomes is not None and sql.outcomes.equals(duck.outcomes)
    assert {k: v for k, v in sql.summary.items() if k != "engine"} == {
        k: v for k, v in duck.summary.items() if k != "engine"
    }
    assert sql.summary["engine"] == "sql" and sql.summary["changed"] == 9
    added = [row for row in _contents(city)["audit_log"] if row not in before["audit_log"]]
    assert len(added) == 1 and "on sql" in str(added[0])  # the run's audit entry and nothing else
    assert {t: rows for t, rows in _contents(city).items() if t != "audit_log"} == {
        t: rows for t, rows in before.items() if t != "audit_log"
    }
    with city.begin() as conn:  # the overlay's temporary view never outlives the simulation
        assert len(run_query(conn, everyone_perks, parse_catalog(mini_catalog_text), AT)) == len(
            before_ids(city)
        )


def _contents(store: Store) -> dict[str, list[Any]]:
    """Every row of every table of the store, in a stable order."""
    with store.begin() as conn:
        return {
            t.name: sorted(map(repr, conn.execute(t.select()).all())) for t in schema.metadata.sorted_tables
        }


def before_ids(store: Store) -> set[str]:
    return set(everyone(store))


def test_a_simulation_equals_loading_the_proposal_in_a_copy_of_a_city(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A synthetic city (default scheme) and the worked example's proposal, against a copy loaded with it."""
    from guihua.usecases import demo

    db = tmp_path / "city.db"
    demo.build_demo(400, 3, str(db))
    proposal = (Path(__file__).parents[2] / "examples" / "proposal-lighter-traffic.yaml").read_text()
    later = D(TODAY) + dt.timedelta(days=60)  # past the penalties' notice days
    store = open_store(str(db), create=False)
    sim = simulation.simulate(store, proposal, at=later)
    store.dispose()
    copy = tmp_path / "copy.db"
    with closing(sqlite3.connect(db)) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)  # the file and its write-ahead log: what a reader sees
    loaded = open_store(str(copy))
    catalogs.load_catalog(loaded, proposal)
    exported = scores.all_scores(loaded, later).to_pylist()
    after = simulated(sim, "after")
    assert {r["subject_id"]: (r["score"], r["defaulter"]) for r in exported} == {
        s: (v[0], v[1]) for s, v in after.items()
    }
    assert {s: v[2] for s, v in everyone_at(loaded, later).items()} == {s: v[2] for s, v in after.items()}
    assert sim.summary["subjects"] == 400 and sim.summary["records"] > 400


def everyone_at(store: Store, at: dt.date) -> dict[str, tuple[int, bool, dict[str, bool]]]:
    with store.begin() as conn:
        catalog = active_catalog(conn).catalog
        rows = run_query(conn, everyone_perks, catalog, at).to_pylist()
    return {
        r["subject_id"]: (
            int(r["score"]),
            bool(r["defaulter"]),
            {p.code: bool(r[column(i, "eligible")]) for i, p in enumerate(catalog.perks)},
        )
        for r in rows
    }


def test_a_simulation_on_spark_equals_one_on_duckdb(
    sqlite_store: Store, tmp_path: Path, mini_catalog_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.engine.conftest import need_spark

    need_spark()
    build_city(sqlite_store, tmp_path, mini_catalog_text, monkeypatch)
    text = proposal_text(mini_catalog_text)
    duck = simulation.simulate(sqlite_store, text, at=AT)
    spark = simulation.simulate(sqlite_store, text, at=AT, engine="spark")
    assert spark.outcomes.equals(duck.outcomes)
    assert {k: v for k, v in spark.summary.items() if k != "engine"} == {
        k: v for k, v in duck.summary.items() if k != "engine"
    }
    assert spark.summary["engine"] == "spark"
