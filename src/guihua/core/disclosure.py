"""Statistical disclosure control for published counts: small cells withheld so they stay withheld.

Withholding a cell of 8 means little if the other cells and their total are shown: the 8 is a
subtraction away. Published figures come with the sums they obey (above + at base + below =
residents; the histogram's bins add up to the residents, those under base to ``below``), and
:func:`withhold` withholds, beside every small cell (fewer than
:data:`~guihua.core.policy.SUPPRESS_BELOW`, and more than none), as few further cells as it
takes for no withheld cell to follow from the shown ones through any combination of those
sums (complementary suppression, as statistical offices do for tables with margins). A
withheld cell is exactly recoverable when its unit vector lies in the row space of the sums
restricted to the withheld cells; while one is, the smallest shown cell of a sum that holds it
is withheld too. Zero cells are shown (they disclose no one); a withheld cell's bounds (zero
to its total) are not considered secret.

Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from guihua.core.policy import SUPPRESS_BELOW

Sum = tuple[str, Sequence[str]]  # a total and the cells that add up to it


def withhold(cells: Mapping[str, int], sums: Sequence[Sum]) -> set[str]:
    """The names of the cells to withhold from ``cells`` given the ``sums`` they obey."""
    small = {name for name, value in cells.items() if 0 < value < SUPPRESS_BELOW}
    withheld = set(small)
    equations = [[total, *parts] for total, parts in sums]
    while found := _recoverable(withheld, equations):
        extra = next((e for e in (_complement(n, withheld, equations, cells) for n in found) if e), None)
        if extra is None:
            # nothing left to withhold beside them: what the sums give away anyway (a zero an empty
            # sum pins, say) is shown, as withholding it protects nothing
            withheld -= {n for n in found if n not in small}
            break
        withheld.add(extra)
    return withheld


def _recoverable(withheld: set[str], equations: list[list[str]]) -> list[str]:
    """The withheld cells that the shown cells and the sums give away."""
    import numpy as np

    hidden = sorted(withheld)
    if not hidden:
        return []
    index = {name: i for i, name in enumerate(hidden)}
    rows = []
    for total, *parts in equations:
        row = np.zeros(len(hidden))
        if total in index:
            row[index[total]] += 1
        for p in parts:
            if p in index:
                row[index[p]] -= 1
        if row.any():
            rows.append(row)
    if not rows:
        return []
    a = np.array(rows)
    rank = np.linalg.matrix_rank(a)
    found = []
    for name in hidden:
        unit = np.zeros(len(hidden))
        unit[index[name]] = 1
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            found.append(name)
    return found


def _complement(
    name: str, withheld: set[str], equations: list[list[str]], cells: Mapping[str, int]
) -> str | None:
    """The smallest shown cell in a sum with ``name`` (the least information lost)."""
    candidates = {
        other
        for equation in equations
        if name in equation
        for other in equation
        if other not in withheld and other in cells
    }
    return min(candidates, key=lambda c: (cells[c], c)) if candidates else None
