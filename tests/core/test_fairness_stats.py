"""The fairness audit's statistics: Wilson intervals, the reference group, the four-fifths flag, suppression."""

from __future__ import annotations

import pytest

from guihua.core.fairness_stats import (
    flagged,
    perk_disparities,
    ratio_interval,
    reference_group,
    suppress,
    wilson,
)


def test_wilson_interval_known_values() -> None:
    assert wilson(0, 0) is None
    low, high = wilson(5, 10)  # type: ignore[misc]
    assert (round(low, 4), round(high, 4)) == (0.2366, 0.7634)
    low, high = wilson(0, 10)  # type: ignore[misc]
    assert low == 0.0 and round(high, 4) == 0.2775
    low, high = wilson(10, 10)  # type: ignore[misc]
    assert round(low, 4) == 0.7225 and high == pytest.approx(1.0)


def test_the_reference_is_the_best_rate_among_groups_large_enough() -> None:
    groups = [(30, 60), (5, 5), (10, 40)]  # the 5-resident group's 100% does not set the bar
    assert reference_group(groups) == 0
    assert reference_group([(1, 2), (2, 3)]) == 1  # no group of 30: all count
    assert reference_group([(0, 0)]) is None
    assert reference_group([(30, 60), (60, 120)]) == 1  # a tie: the larger group


def test_a_flag_needs_30_residents_a_ratio_under_four_fifths_and_its_whole_interval() -> None:
    ref = (90, 100)
    ratio, interval = ratio_interval((20, 100), ref)  # 0.2 / 0.9
    assert ratio == pytest.approx(0.2222, abs=1e-4) and interval is not None and interval[1] < 0.8
    assert flagged(100, ratio, interval)
    assert not flagged(29, ratio, interval)  # too few residents, whatever the ratio
    ratio, interval = ratio_interval((21, 30), (80, 100))  # 0.7 / 0.8 = 0.875: not below 0.8
    assert not flagged(30, ratio, interval)
    ratio, interval = ratio_interval((20, 30), (90, 100))  # 0.74, but 30 residents: the interval reaches 0.8
    assert ratio is not None and ratio < 0.8 and interval is not None and interval[1] >= 0.8
    assert not flagged(30, ratio, interval)
    assert ratio_interval((0, 50), (0, 50)) == (None, None)  # nobody eligible anywhere: no disparity


def test_perk_disparities_fill_rate_interval_ratio_and_flag() -> None:
    rows = [
        {"dimension": "sex", "group": "female", "subjects": 100, "perks": {"p": {"eligible": 20}}},
        {"dimension": "sex", "group": "male", "subjects": 100, "perks": {"p": {"eligible": 90}}},
    ]
    perk_disparities(rows, ["p"])
    female, male = rows[0]["perks"]["p"], rows[1]["perks"]["p"]
    assert (female["rate"], female["ratio"], female["flagged"], female["reference"]) == (
        0.2,
        0.2222,
        True,
        False,
    )
    assert (male["ratio"], male["flagged"], male["reference"]) == (1.0, False, True)
    assert female["interval"][0] < 0.2 < female["interval"][1]


def test_small_cells_are_suppressed_with_their_complement() -> None:
    rows = [
        {"dimension": "district", "group": "a", "subjects": 500, "mean_score": 101.0},
        {"dimension": "district", "group": "b", "subjects": 4, "mean_score": 90.0},
        {"dimension": "district", "group": "c", "subjects": 60, "mean_score": 100.0},
        {"dimension": "sex", "group": "male", "subjects": 282},
        {"dimension": "sex", "group": "female", "subjects": 282},
        {"dimension": "age", "group": "x", "subjects": 3},
        {"dimension": "age", "group": "y", "subjects": 2},
        {"dimension": "age", "group": "z", "subjects": 559},
    ]
    out = suppress(rows)
    withheld = {(r["dimension"], r["group"]) for r in out if r["suppressed"]}
    # b alone would be revealed by the total: c (the next smallest) goes too; two small age cells protect each other
    assert withheld == {("district", "b"), ("district", "c"), ("age", "x"), ("age", "y")}
    assert out[1] == {"dimension": "district", "group": "b", "suppressed": True}
    assert out[0]["mean_score"] == 101.0 and not out[0]["suppressed"]
