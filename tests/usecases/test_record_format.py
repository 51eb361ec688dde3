"""What a department must send: formats, templates that pass as they stand, reasons that name the type.

The template is checked against the validator itself (every metric of the default scheme, CSV
and JSON Lines, sent by each department allowed to send it), so the format a department is
shown and the format it is held to cannot drift apart.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guihua.core.record_format import BASE_COLUMNS, record_formats
from guihua.schemes import default_catalog_text, load_default_catalog
from guihua.store.database import Store
from guihua.usecases import catalogs, records, submissions
from tests.helpers import assert_one_line_error, run, subject

DEFAULT = load_default_catalog()
SENT = [(f.code, d) for f in record_formats(DEFAULT) for d in f.departments]


def test_every_metric_has_its_columns_types_and_senders() -> None:
    formats = {f.code: f for f in record_formats(DEFAULT)}
    assert set(formats) == {m.code for m in DEFAULT.metrics}
    fine = formats["traffic_offence"]
    assert fine.departments == ("TRAFFIC",)
    assert tuple(fine.header[:4]) == BASE_COLUMNS
    assert {c.name: c.type for c in fine.columns[4:]} == {
        "offence": "string",
        "fine": "number",
        "paid": "bool",
    }
    listing = formats["loan_default"]
    assert (
        listing.kind == "listing"
        and "list or resolve" in listing.columns[4].meaning + listing.columns[5].meaning
    )


@pytest.mark.parametrize("form", ["csv", "jsonl"])
def test_each_template_is_accepted_as_it_stands(store: Store, tmp_path: Path, form: str) -> None:
    catalogs.load_catalog(store, default_catalog_text())
    for metric, department in SENT:
        path = tmp_path / f"{metric}-{department}.{form}"
        path.write_text(catalogs.template(store, metric, form), encoding="utf-8")
        result = submissions.ingest_file(store, path, department)
        assert (result.accepted, result.rejected) == (1, 0), (metric, records.list_rejects(store, department))


def test_reasons_name_the_field_and_its_type(sqlite_store: Store, tmp_path: Path) -> None:
    catalogs.load_catalog(sqlite_store, default_catalog_text())
    path = tmp_path / "t.csv"
    path.write_text(
        "source_id,subject_id,metric,occurred_at,offence,fine,paid\n"
        f"a,{subject(1)},traffic_offence,2025-01-01,speeding,lots,true\n"
        f"b,{subject(1)},traffic_offence,2025-01-01,speeding,100,\n"
        f"c,{subject(1)},traffic_offence,2025-01-01,speeding,100,maybe\n",
        encoding="utf-8",
    )
    submissions.ingest_file(sqlite_store, path, "TRAFFIC")
    details = {r["source_id"]: (r["reason"], r["detail"]) for r in records.list_rejects(sqlite_store)}
    assert details["a"] == ("invalid_field", "field fine is not a number")
    assert details["b"][0] == "missing_field" and "paid (bool)" in details["b"][1]
    assert details["c"] == ("invalid_field", "field paid is not true or false (or 1 or 0)")


def test_the_cli_shows_templates_and_exports_the_catalog(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    assert run("init", db=db).returncode == 0
    shown = json.loads(run("catalog", "show", "--json", db=db).stdout)
    formats = {f["code"]: f for f in shown["record_formats"]}
    assert formats["volunteer_service"]["departments"] == ["VOLUNTEER"]
    assert {"name": "hours", "type": "number"}.items() <= formats["volunteer_service"]["columns"][4].items()
    text = run("catalog", "show", db=db).stdout
    assert "hours: number, organisation: string" in text

    csv = run("catalog", "template", "traffic_offence", db=db)
    assert csv.stdout.splitlines()[0] == "source_id,subject_id,metric,occurred_at,offence,fine,paid"
    line = json.loads(run("catalog", "template", "traffic_offence", "--format", "jsonl", db=db).stdout)
    assert line["fine"] == 200.0 and line["paid"] is True
    assert_one_line_error(run("catalog", "template", "nope", db=db), "no metric 'nope'", "traffic_offence")
    assert_one_line_error(run("catalog", "template", "water_bill", "--format", "xml", db=db), "csv or jsonl")

    out = tmp_path / "active.yaml"
    done = run("catalog", "export", "--out", str(out), "--json", db=db)
    assert json.loads(done.stdout) == {"version": 1, "out": str(out)}
    assert out.read_text(encoding="utf-8") == default_catalog_text()
    again = run("catalog", "load", str(out), "--json", db=db)
    assert json.loads(again.stdout)["unchanged"] is True
    assert_one_line_error(run("catalog", "export", "--out", str(tmp_path / "c.json"), db=db), ".yaml")
    assert_one_line_error(
        run("catalog", "export", "--out", str(out), "--version", "9", db=db), "no catalog version 9"
    )
