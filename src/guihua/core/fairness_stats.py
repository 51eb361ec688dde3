"""The statistics of a fairness audit, pure: Wilson intervals, disparity ratios, flags, suppression.

A perk's *rate* in a group is the share of the group's residents eligible for it. Its *ratio*
is that rate divided by the rate of the most favoured group of the same dimension (the
reference: the highest rate among the groups of at least :data:`MIN_FLAG_SUBJECTS` residents,
or among all groups when none is that large), as AIF360's disparate impact and Aequitas'
disparity against the best-off group.

A ratio is **flagged** (the four-fifths rule) only when all of these hold:

- the group has at least :data:`MIN_FLAG_SUBJECTS` (30) residents;
- the ratio is below :data:`FOUR_FIFTHS` (0.8);
- its interval lies below 0.8: the interval of the ratio is the group's Wilson 95% interval
  divided by the reference's, bound by bound in the direction that widens it
  (``[low_g / high_ref, high_g / low_ref]``), and its upper end is below 0.8. That is, even
  the reading of both rates most favourable to the group (its rate at the top of its interval,
  the reference's at the bottom of its own) leaves it under four fifths: a conservative bound
  that allows for the uncertainty of both rates, so a flag is never a small-sample accident.

Disclosure control: a cell of fewer than :data:`guihua.core.policy.SUPPRESS_BELOW` residents is
*small*. The operator's reports show small cells, marked; anything meant for publication is
suppressed with :func:`suppress`: every figure of a small cell is withheld, and so is the next
smallest cell of the same dimension when exactly one would otherwise be withheld, because the
groups of a dimension add up to the population, which is published (complementary
suppression).

Nothing here does I/O or reads the store.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from guihua.core.policy import SUPPRESS_BELOW

FOUR_FIFTHS = 0.8
MIN_FLAG_SUBJECTS = 30
Z_95 = 1.959963984540054  # the 97.5th percentile of the standard normal distribution


def wilson(successes: int, trials: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (``None`` when there are no trials)."""
    if trials <= 0:
        return None
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = (z / (1 + z2 / trials)) * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return max(0.0, centre - half), min(1.0, centre + half)


def reference_group(groups: Sequence[tuple[int, int]]) -> int | None:
    """Which of ``groups`` (eligible, residents) is the most favoured (see the module); the larger
    wins a tie. ``None`` when no group has residents."""
    sized = [i for i, g in enumerate(groups) if g[1] >= MIN_FLAG_SUBJECTS]
    sized = sized or [i for i, g in enumerate(groups) if g[1] > 0]
    if not sized:
        return None
    return max(sized, key=lambda i: (groups[i][0] / groups[i][1], groups[i][1]))


def ratio_interval(
    group: tuple[int, int], reference: tuple[int, int]
) -> tuple[float | None, tuple[float, float] | None]:
    """The ratio of the group's rate to the reference's, and its conservative interval.

    ``None`` for the ratio when the reference rate is 0 (nobody is eligible anywhere: there is
    no disparity to measure); ``None`` for an interval bound divided by zero.
    """
    (k, n), (kr, nr) = group, reference
    if n <= 0 or nr <= 0 or kr == 0:
        return None, None
    ratio = (k / n) / (kr / nr)
    wg, wr = wilson(k, n), wilson(kr, nr)
    assert wg is not None and wr is not None
    if wr[0] <= 0.0:
        return ratio, None
    return ratio, (wg[0] / wr[1], wg[1] / wr[0])


def flagged(subjects: int, ratio: float | None, interval: tuple[float, float] | None) -> bool:
    """The four-fifths flag: enough residents, the ratio below 0.8 and its whole interval too."""
    return (
        subjects >= MIN_FLAG_SUBJECTS
        and ratio is not None
        and ratio < FOUR_FIFTHS
        and interval is not None
        and interval[1] < FOUR_FIFTHS
    )


def perk_disparities(rows: list[dict[str, Any]], perks: Sequence[str]) -> None:
    """Fill each row's ``perks[code]`` with rate, Wilson interval, ratio, its interval and flag.

    ``rows`` are the groups of one dimension, each with ``subjects`` and ``perks[code]["eligible"]``.
    """
    for code in perks:
        counts = [(int(r["perks"][code]["eligible"]), int(r["subjects"])) for r in rows]
        best = reference_group(counts)
        ref = counts[best] if best is not None else None
        for i, (r, (k, n)) in enumerate(zip(rows, counts, strict=True)):
            cell = r["perks"][code]
            interval = wilson(k, n)
            ratio, ratio_ci = ratio_interval((k, n), ref) if ref is not None else (None, None)
            cell.update(
                rate=_round(k / n) if n else None,
                interval=[_round(interval[0]), _round(interval[1])] if interval else None,
                ratio=_round(ratio),
                ratio_interval=[_round(ratio_ci[0]), _round(ratio_ci[1])] if ratio_ci else None,
                reference=i == best,
                flagged=flagged(n, ratio, ratio_ci),
            )


def small(subjects: int) -> bool:
    """A cell too small to publish (fewer than :data:`SUPPRESS_BELOW` residents)."""
    return subjects < SUPPRESS_BELOW


def suppress(
    rows: list[dict[str, Any]], keep: Sequence[str] = ("dimension", "group")
) -> list[dict[str, Any]]:
    """``rows`` fit for publication: small cells withheld, with complementary suppression.

    Rows are grouped by ``dimension``; in each, every small cell is withheld, and when exactly one
    is, the next smallest cell too (otherwise the population total would reveal it). A withheld
    row keeps only ``keep`` and ``suppressed: true``.
    """
    by_dimension: dict[Any, list[int]] = {}
    for i, r in enumerate(rows):
        by_dimension.setdefault(r["dimension"], []).append(i)
    withheld: set[int] = set()
    for members in by_dimension.values():
        cut = [i for i in members if small(int(rows[i]["subjects"]))]
        if len(cut) == 1 and len(members) > 1:
            rest = sorted((i for i in members if i not in cut), key=lambda i: int(rows[i]["subjects"]))
            cut.append(rest[0])
        withheld.update(cut)
    out = []
    for i, r in enumerate(rows):
        if i in withheld:
            out.append({**{k: r[k] for k in keep if k in r}, "suppressed": True})
        else:
            out.append({**r, "suppressed": False})
    return out


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)
