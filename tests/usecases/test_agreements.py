"""Department agreements in force (spec sections 1 and 3), on both stores, the CLI and the API.

A department may submit only while its agreement is in force (``status: active``
and ``valid_from <= today < valid_to``); otherwise the whole submission is
refused with a one-line error naming the agreement's state, nothing of it is
stored, and what is already stored keeps counting.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from guihua.core.errors import AgreementNotInForce, CatalogRefused
from guihua.core.policy import Actor
from guihua.http.service import create_app
from guihua.store.database import Store
from guihua.usecases import accounts, audit, catalogs, objections, records, submissions
from tests.helpers import D, assert_one_line_error, jsonl, load, offence, run, score_at, subject

A = subject(1)
ADMIN = Actor("test-admin", "admin")
TRAFFIC_AGREEMENT = "    metrics: [traffic_offence]\n"


def with_agreement(text: str, terms: str) -> str:
    """The mini catalog with TRAFFIC's agreement set to ``terms`` (YAML flow mapping)."""
    assert TRAFFIC_AGREEMENT in text
    return text.replace(TRAFFIC_AGREEMENT, f"{TRAFFIC_AGREEMENT}    agreement: {terms}\n", 1)


def counts(store: Store) -> tuple[int, int, int]:
    with store.begin() as conn:
        return tuple(  # type: ignore[return-value]
            int(conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one())
            for t in ("submissions", "records", "quarantine")
        )


@pytest.mark.parametrize(
    ("terms", "state"),
    [
        ("{status: suspended}", "suspended"),
        ("{status: ended, valid_from: 2018-01-01, valid_to: 2025-01-01}", "ended"),
        (
            "{status: active, valid_from: 2018-01-01, valid_to: 2026-06-30}",
            "expired",
        ),  # valid_to is exclusive
        ("{status: active, valid_from: 2026-07-01}", "not yet valid"),
    ],
)
def test_a_submission_outside_the_agreement_is_refused_whole(
    store: Store, tmp_path: Path, mini_catalog_text: str, terms: str, state: str
) -> None:
    load(store, mini_catalog_text, tmp_path, "TRAFFIC", [offence(1, A, "2026-01-05")])
    catalogs.load_catalog(store, with_agreement(mini_catalog_text, terms))
    before = counts(store)
    rows = [offence(2, A, "2026-06-01"), {"source_id": "", "subject_id": "x"}]  # one good, one bad row
    with pytest.raises(
        AgreementNotInForce, match=f"TRAFFIC's data-sharing agreement is not in force.*{state}"
    ):
        submissions.ingest_file(store, jsonl(tmp_path / "late.jsonl", rows), "TRAFFIC")
    assert counts(store) == before  # nothing of it: no submission, no record, no quarantined row
    assert score_at(store, A, "2026-06-30") == (97, False)  # what was stored keeps counting
    refused = [
        e for e in audit.entries(store) if e["action"] == "records.ingest" and e["outcome"] == "refused"
    ]
    assert len(refused) == 1 and state in refused[0]["detail"]


def test_in_force_from_valid_from_to_valid_to_and_other_departments_unaffected(
    store: Store, tmp_path: Path, mini_catalog_text: str
) -> None:
    text = with_agreement(mini_catalog_text, "{status: active, valid_from: 2026-06-30, valid_to: 2026-07-01}")
    catalogs.load_catalog(store, text)
    path = jsonl(tmp_path / "t.jsonl", [offence(1, A, "2026-06-29")])
    with pytest.raises(AgreementNotInForce, match="not yet valid"):
        submissions.ingest_file(store, path, "TRAFFIC", as_of=D("2026-06-29"))
    assert submissions.ingest_file(store, path, "TRAFFIC").accepted == 1  # today: its only day in force
    with pytest.raises(AgreementNotInForce, match="expired"):
        submissions.ingest_file(store, path, "TRAFFIC", as_of=D("2026-07-01"))  # valid_to is exclusive
    civil = [
        {
            "source_id": "v1",
            "subject_id": A,
            "metric": "volunteer_service",
            "occurred_at": "2026-06-01",
            "fields": {"hours": 12, "organisation": "x"},
        }
    ]
    assert submissions.ingest_file(store, jsonl(tmp_path / "c.jsonl", civil), "CIVIL").accepted == 1


def test_retraction_and_a_reviewers_correction_need_no_agreement(
    store: Store, tmp_path: Path, mini_catalog_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(
        store,
        mini_catalog_text,
        tmp_path,
        "TRAFFIC",
        [offence(1, A, "2026-01-05"), offence(2, A, "2026-01-06")],
    )
    catalogs.load_catalog(store, with_agreement(mini_catalog_text, "{status: suspended}"))
    records.retract(store, "TRAFFIC", "t2")  # withdrawing what was sent transfers no data
    o = objections.file(store, A, "TRAFFIC", "t1", "not me", actor=Actor("a", "resident"))
    decided = objections.decide(
        store, o.id, "correct", "wrong offence", actor=Actor("r", "reviewer"), changes={"offence": "other"}
    )
    assert decided.state == "corrected"  # due process is not a department sending data
    assert score_at(store, A, "2026-06-30") == (100, False)


def test_the_catalog_checks_agreement_terms(mini_catalog_text: str) -> None:
    from guihua.core.catalog_parsing import parse_catalog

    for terms, problem in (
        ("{status: paused}", "agreement.status"),
        (
            "{valid_from: 2026-01-01, valid_to: 2025-01-01}",
            "agreement.valid_to must be after agreement.valid_from",
        ),
        ("{frequency_days: 0}", "agreement.frequency_days"),
        ("{status: active, valid_form: 2026-01-01}", "unknown key"),
    ):
        with pytest.raises(CatalogRefused) as refused:
            parse_catalog(with_agreement(mini_catalog_text, terms))
        assert any(problem in p and "departments[1] (TRAFFIC)" in p for p in refused.value.problems), terms
    absent = parse_catalog(mini_catalog_text).department_by_code["TRAFFIC"].agreement
    assert (absent.status, absent.valid_from, absent.valid_to) == ("active", None, None)  # absent: open-ended


def test_cli_refusal_is_one_line_and_stores_nothing(tmp_path: Path, mini_catalog_text: str) -> None:
    db = tmp_path / "g.db"
    catalog = tmp_path / "c.yaml"
    catalog.write_text(with_agreement(mini_catalog_text, "{status: suspended}"))
    assert run("catalog", "load", str(catalog), db=db).returncode == 0
    path = jsonl(tmp_path / "t.jsonl", [offence(1, A, "2026-06-01")])
    proc = run("ingest", str(path), "--department", "TRAFFIC", db=db)
    assert proc.returncode == 2
    assert_one_line_error(
        proc, "TRAFFIC", "not in force", "suspended", "nothing of this submission was stored"
    )


def test_api_refusal_is_a_403_problem(store: Store, tmp_path: Path, mini_catalog_text: str) -> None:
    catalogs.load_catalog(store, with_agreement(mini_catalog_text, "{status: ended}"))
    token = accounts.create(store, ADMIN, "department", "trf", department="TRAFFIC")
    body = {"records": [offence(1, A, "2026-06-01")]}
    with TestClient(create_app(store)) as c:
        r = c.post("/api/v1/records", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "agreement_not_in_force" and "ended" in r.json()["detail"]
    assert counts(store)[1] == 0
