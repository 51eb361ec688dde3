"""Withheld cells stay withheld: no withheld count follows from the shown ones and the sums (issue 16).

The check is independent of the linear algebra in ``core/disclosure``: every assignment of
whole numbers to the withheld cells that agrees with the shown cells and every sum is listed by
brute force, and each withheld cell must take at least two values among them.
"""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from guihua.core import disclosure
from guihua.core.policy import SUPPRESS_BELOW


def distribution_like(
    bins: list[int], under: int, at_base: int
) -> tuple[dict[str, int], list[disclosure.Sum]]:
    """Cells and sums shaped like the public distribution: bins, below / at / above base, total."""
    names = [f"bin:{i}" for i in range(len(bins))]
    cells = dict(zip(names, bins, strict=True))
    below = sum(bins[:under])
    rest = sum(bins[under:])
    at = min(at_base, rest)
    cells |= {"subjects": below + rest, "below": below, "at_base": at, "above": rest - at}
    sums: list[disclosure.Sum] = [
        ("subjects", ["above", "at_base", "below"]),
        ("subjects", names),
        ("below", names[:under]),
    ]
    return cells, sums


def consistent_values(
    cells: dict[str, int], sums: list[disclosure.Sum], hidden: list[str]
) -> list[dict[str, int]]:
    top = cells["subjects"] + SUPPRESS_BELOW  # an attacker does not know a withheld total either
    found = []
    for values in itertools.product(range(top + 1), repeat=len(hidden)):
        guess = {**cells, **dict(zip(hidden, values, strict=True))}
        if all(guess[total] == sum(guess[p] for p in parts) for total, parts in sums):
            found.append(guess)
    return found


@settings(max_examples=400, deadline=None)
@given(
    bins=st.lists(st.integers(0, 14), min_size=2, max_size=4),
    under=st.integers(0, 4),
    at_base=st.integers(0, 14),
)
def test_no_withheld_cell_is_a_subtraction_away(bins: list[int], under: int, at_base: int) -> None:
    cells, sums = distribution_like(bins, min(under, len(bins)), at_base)
    withheld = disclosure.withhold(cells, sums)
    assert {n for n, v in cells.items() if 0 < v < SUPPRESS_BELOW} <= withheld
    hidden = sorted(withheld)
    if not hidden or len(hidden) > 3:
        return  # nothing to recover, or too many to enumerate here (the small cases are the risky ones)
    options = consistent_values({k: v for k, v in cells.items()}, sums, hidden)
    assert options, "the true values must be among the consistent ones"
    for name in hidden:
        assert len({o[name] for o in options}) >= 2, (name, cells, withheld)


def test_the_reported_case_a_hidden_8_beside_its_total_is_protected() -> None:
    # issue 16: a bin of 8 was hidden while below = 20 and the other bins under base were shown
    cells, sums = distribution_like([12, 8, 30, 40], under=2, at_base=15)
    withheld = disclosure.withhold(cells, sums)
    assert "bin:1" in withheld and len(withheld) >= 2
    shown_under = [n for n in ("bin:0", "below") if n not in withheld]
    assert len(shown_under) < 2  # the 12 and the 20 are not both shown


def test_nothing_small_nothing_withheld() -> None:
    cells, sums = distribution_like([12, 0, 30, 40], under=2, at_base=15)
    assert disclosure.withhold(cells, sums) == set()  # a zero discloses no one
