"""Catalog refusals (spec sections 1-2): one test per reason, every problem listed with its place."""

from __future__ import annotations

import pytest
import yaml

from guihua.core.catalog_parsing import parse_catalog
from guihua.core.errors import CatalogRefused
from guihua.core.prohibited import is_prohibited
from guihua.store.database import Store
from guihua.usecases import catalogs
from tests.conftest import DATA

MINI = yaml.safe_load((DATA / "mini.yaml").read_text())


def refused(doc: dict) -> list[str]:
    with pytest.raises(CatalogRefused) as info:
        parse_catalog(yaml.safe_dump(doc, sort_keys=False))
    return info.value.problems


def mini() -> dict:
    return yaml.safe_load((DATA / "mini.yaml").read_text())


def test_the_mini_catalog_is_valid() -> None:
    c = parse_catalog((DATA / "mini.yaml").read_text())
    assert [r.id for r in c.rules][:2] == ["VOL-10H", "VOL-1H"]


@pytest.mark.parametrize(
    "section,key",
    [
        ("categories", "code"),
        ("departments", "code"),
        ("metrics", "code"),
        ("rules", "id"),
        ("perks", "code"),
    ],
)
def test_duplicated_code(section: str, key: str) -> None:
    doc = mini()
    doc[section].append(dict(doc[section][0]))
    problems = refused(doc)
    assert any(f"{section}: code {doc[section][0][key]!r} is duplicated" in p for p in problems)


def test_dangling_references() -> None:
    doc = mini()
    doc["departments"][0]["metrics"].append("no_such_metric")
    doc["metrics"][0]["category"] = "no_such_category"
    doc["rules"][0]["metric"] = "ghost"
    problems = refused(doc)
    assert "departments[0] (CIVIL): metric 'no_such_metric' is not defined in metrics" in problems
    assert (
        "metrics[0] (volunteer_service): category 'no_such_category' is not defined in categories" in problems
    )
    assert "rules[0] (VOL-10H): metric 'ghost' is not defined in metrics" in problems


@pytest.mark.parametrize(
    "points,message",
    [
        (-80, "points -80 exceeds max_points_per_record 50"),
        (51, "points 51 exceeds max_points_per_record 50"),
        (0, "points must not be 0"),
    ],
)
def test_points_out_of_proportion_or_zero(points: int, message: str) -> None:
    doc = mini()
    doc["rules"][2]["points"] = points
    assert f"rules[2] (TRF-YIELD): {message}" in refused(doc)


def test_points_at_the_cap_are_allowed() -> None:
    doc = mini()
    doc["rules"][2]["points"] = -50
    parse_catalog(yaml.safe_dump(doc))


@pytest.mark.parametrize("value", [None, "", "   "])
def test_legal_basis_is_required_on_rules_and_departments(value: object) -> None:
    doc = mini()
    doc["rules"][0]["legal_basis"] = value
    doc["departments"][1]["legal_basis"] = value
    problems = refused(doc)
    assert any(p.startswith("rules[0] (VOL-10H)") and "legal_basis" in p for p in problems)
    assert any(p.startswith("departments[1]") and "legal_basis" in p for p in problems)


def test_a_rule_may_not_score_a_protected_metric() -> None:
    doc = mini()
    doc["rules"].append(
        {
            **doc["rules"][0],
            "id": "MARRIED",
            "metric": "marital_status",
            "when": {"status": {"eq": "married"}},
        }
    )
    assert "rules[5] (MARRIED): metric 'marital_status' is protected and may never be scored" in refused(doc)


@pytest.mark.parametrize(
    "name",
    [
        "religion",
        "religion_code",
        "Blood-Type",
        "fingerprint_hash",
        "dna",
        "my_sexual_orientation_flag",
        "face id",
        "Political_Opinion_2020",
        "health",
    ],
)
def test_prohibited_field_names(name: str) -> None:
    doc = mini()
    doc["metrics"][0]["fields"][name] = "string"
    assert f"metrics[0] (volunteer_service): field {name!r} is a prohibited attribute" in refused(doc)


def test_prohibited_metric_name() -> None:
    doc = mini()
    doc["metrics"].append(
        {"code": "genetic_screening", "category": "volunteering", "fields": {"result": "string"}}
    )
    assert "metrics[4] (genetic_screening): metric name is a prohibited attribute" in refused(doc)


def test_tokenisation_does_not_overreach() -> None:
    for harmless in ("interface", "facebook_handle", "healthy_lunch_volunteer", "iris_garden"):
        # 'iris' is a whole token in iris_garden: prohibited; the others share letters only
        assert is_prohibited(harmless) == (harmless == "iris_garden")


def test_a_catalog_can_add_prohibited_terms_but_never_remove_them() -> None:
    doc = mini()
    doc["prohibited_attributes"] = ["hukou"]
    doc["metrics"][0]["fields"]["hukou_city"] = "string"
    assert "metrics[0] (volunteer_service): field 'hukou_city' is a prohibited attribute" in refused(doc)
    doc = mini()
    doc["prohibited_attributes"] = ["-religion", "religion"]
    doc["metrics"][0]["fields"]["religion"] = "string"
    assert any("'religion' is a prohibited attribute" in p for p in refused(doc))


@pytest.mark.parametrize("missing", ["case_id", "action"])
def test_listing_metric_needs_string_case_id_and_action(missing: str) -> None:
    doc = mini()
    del doc["metrics"][3]["fields"][missing]
    doc["rules"][4]["when"] = {"amount": {"gt": 0}}
    assert f"metrics[3] (loan_default): a listing metric needs a string field {missing!r}" in refused(doc)
    doc = mini()
    doc["metrics"][3]["fields"][missing] = "int"
    doc["rules"][4]["when"] = {"amount": {"gt": 0}}
    assert f"metrics[3] (loan_default): a listing metric needs a string field {missing!r}" in refused(doc)


def test_when_names_an_undeclared_field_or_an_unknown_operator() -> None:
    doc = mini()
    doc["rules"][0]["when"] = {"minutes": {"gte": 10}}
    doc["rules"][1]["when"] = {"hours": {"about": 10}}
    problems = refused(doc)
    assert (
        "rules[0] (VOL-10H): when names field 'minutes', which volunteer_service does not declare" in problems
    )
    assert "rules[1] (VOL-1H): when.hours uses unknown operator 'about'" in problems


def test_when_values_are_written_in_the_field_type() -> None:
    doc = mini()
    doc["rules"][0]["when"] = {"hours": {"gte": "ten"}}
    doc["rules"][3]["when"] = {"offence": {"in": "speeding"}}
    problems = refused(doc)
    assert "rules[0] (VOL-10H): when.hours.gte value 'ten' is not a number" in problems
    assert "rules[3] (TRF-OTHER): when.offence.in takes a list" in problems


def test_every_problem_is_listed_at_once() -> None:
    doc = mini()
    doc["rules"][2]["points"] = -80
    doc["metrics"][0]["fields"]["blood_type"] = "string"
    doc["departments"][0]["metrics"].append("nothing")
    doc["rules"][0]["valid_day"] = 365  # a typo is not silently ignored
    problems = refused(doc)
    assert len(problems) >= 4
    assert "rules[2] (TRF-YIELD): points -80 exceeds max_points_per_record 50" in problems
    assert "rules[0] (VOL-10H).valid_day: unknown key (is it misspelt?)" in problems


def test_broken_yaml_and_wrong_shapes_are_refused_cleanly() -> None:
    for text in ("scheme: [", "- just a list", "", "scheme: {name: x}"):
        with pytest.raises(CatalogRefused) as info:
            parse_catalog(text)
        assert info.value.problems
    with pytest.raises(CatalogRefused, match="given twice"):
        parse_catalog((DATA / "mini.yaml").read_text() + "\nscheme: {name: again}\n")


def test_a_refused_catalog_changes_nothing_in_the_store(store: Store, mini_catalog_text: str) -> None:
    catalogs.load_catalog(store, mini_catalog_text)
    doc = mini()
    doc["rules"][0]["points"] = 99
    with pytest.raises(CatalogRefused):
        catalogs.load_catalog(store, yaml.safe_dump(doc))
    assert [v[0] for v in catalogs.catalog_versions(store)] == [1]
    again = catalogs.load_catalog(store, mini_catalog_text)
    assert again.unchanged and again.version == 1


# --------------------------------------------------------------------------- words residents read


def test_words_and_translations_are_optional_and_checked() -> None:
    """A catalog without words still loads; words given are checked like every other key."""
    doc = mini()
    rule = doc["rules"][2]  # TRF-YIELD
    rule["name"] = "Not yielding to pedestrians"
    rule["why"] = "A vehicle you drove did not yield to pedestrians."
    rule["translations"] = {"zh-CN": {"name": "未礼让行人", "why": "您驾驶的车辆未礼让行人。"}}
    doc["metrics"][2]["translations"] = {"zh": {"name": "交通违法"}}  # a primary tag serves zh-CN
    c = parse_catalog(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    r, m = c.rule_by_id["TRF-YIELD"], c.metric_by_code["traffic_offence"]
    assert (r.text("name", "zh-CN"), r.text("name", "en"), r.text("why", "en")) == (
        "未礼让行人",
        "Not yielding to pedestrians",
        "A vehicle you drove did not yield to pedestrians.",
    )
    assert (m.text("name", "zh-CN"), m.text("name", "en")) == ("交通违法", "Traffic offence")
    untouched = parse_catalog((DATA / "mini.yaml").read_text()).rule_by_id["TRF-YIELD"]
    assert (untouched.name, untouched.why, untouched.text("why", "zh-CN")) == ("", "", "")

    doc["rules"][2]["translations"] = {"zh CN": {"name": "x"}, "en": {"nmae": "x"}}
    doc["metrics"][2]["translations"] = {"zh-CN": {"why": "x"}}
    doc["departments"][0]["translations"] = {"zh-CN": {"name": " "}}
    problems = refused(doc)
    assert any(
        p.startswith("rules[2] (TRF-YIELD).translations: 'zh CN' is not a language tag") for p in problems
    )
    assert any(
        p.startswith("metrics[2] (traffic_offence).translations: zh-CN.why cannot be translated")
        for p in problems
    )
    assert any("departments[0] (CIVIL).translations: zh-CN.name is empty" in p for p in problems)
    doc["rules"][2]["translations"] = {"en": {"nmae": "x"}}
    assert any(
        "en.nmae cannot be translated here (translate name, why, legal_basis, description)" in p
        for p in refused(doc)
    )


def test_the_default_catalog_names_every_rule_and_metric_in_both_languages() -> None:
    from guihua.schemes import load_default_catalog

    c = load_default_catalog()
    for rule in c.rules:
        for field in ("name", "why", "legal_basis"):
            assert rule.text(field, "en") and rule.text(field, "zh-CN") != rule.text(field, "en"), (
                rule.id,
                field,
            )
    for item in [*c.metrics, *c.categories, *c.departments, *c.perks, c.scheme]:
        assert item.text("name", "zh-CN") != item.text("name", "en"), item
