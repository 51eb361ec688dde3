"""PRC resident identity numbers (GB 11643-1999), the subject ids of the scheme: the rule, for one id.

The same rule over columns of ids (ingestion: hundreds of thousands at a time)
is :mod:`guihua.core.id_columns`, on the same constants; a property test keeps
the two in agreement. This form needs no NumPy or Polars, so a lookup imports
neither.
"""

from __future__ import annotations

import datetime as dt
import re

# GB/T 2260 province-level codes (first two digits), including Taiwan (71),
# Hong Kong (81) and Macao (82).
PROVINCE_CODES: frozenset[str] = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42"}
    | {"43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82"}
)
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"  # weighted sum mod 11 -> check character


def check_digit(first17: str) -> str:
    """The check character for 17 leading digits (ISO 7064 MOD 11-2)."""
    total = sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHECK[total % 11]


def normalize_subject_id(subject_id: str) -> str:
    return subject_id.strip().upper()


_SHAPE = re.compile(r"[0-9]{17}[0-9X]")


def is_valid_subject_id(subject_id: str, today: dt.date | None = None) -> bool:
    """Single-id form of :func:`valid_subject_id`."""
    up = normalize_subject_id(subject_id)
    if not _SHAPE.fullmatch(up) or up[:2] not in PROVINCE_CODES or check_digit(up[:17]) != up[17]:
        return False
    try:
        birth = dt.date(int(up[6:10]), int(up[10:12]), int(up[12:14]))
    except ValueError:
        return False
    return birth <= (today or dt.date.today())
