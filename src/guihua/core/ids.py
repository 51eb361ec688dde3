"""PRC resident identity numbers (GB 11643-1999), the subject ids of the scheme.

The bulk validator works on whole Arrow columns (ingestion validates hundreds of
thousands of ids at a time); the single-id helpers call the same code on a
one-element column, so there is one implementation of the rule.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

# GB/T 2260 province-level codes (first two digits), including Taiwan (71),
# Hong Kong (81) and Macao (82).
PROVINCE_CODES: frozenset[str] = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)
_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = "10X98765432"


def check_digit(first17: str) -> str:
    """The check character for 17 leading digits (ISO 7064 MOD 11-2)."""
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def valid_subject_ids(ids: pa.Array | pa.ChunkedArray, today: dt.date) -> pa.Array:
    """Boolean mask: which ids are valid resident identity numbers (nulls are invalid).

    Valid means 18 characters, 17 digits and a matching check character (0-9 or
    X, any case), a real birth date not after ``today``, and an existing province.
    """
    up = pc.utf8_upper(pc.utf8_trim_whitespace(ids))
    shape_ok = pc.match_substring_regex(up, r"^[0-9]{17}[0-9X]$")
    up = pc.if_else(shape_ok, up, pa.scalar("110101190001010000"))  # neutral filler
    total = None
    for i, weight in enumerate(_WEIGHTS):
        digit = pc.cast(pc.utf8_slice_codeunits(up, i, i + 1), pa.int32())
        term = pc.multiply(digit, weight)
        total = term if total is None else pc.add(total, term)
    remainder = pc.subtract(total, pc.multiply(pc.divide(total, 11), 11))  # integer division
    expected = pc.take(pa.array(list(_CHECK)), remainder)
    check_ok = pc.equal(expected, pc.utf8_slice_codeunits(up, 17, 18))
    birth = pc.strptime(pc.utf8_slice_codeunits(up, 6, 14), format="%Y%m%d", unit="s", error_is_null=True)
    birth_day = pc.cast(birth, pa.date32())
    birth_ok = pc.and_(pc.is_valid(birth), pc.less_equal(birth_day, pa.scalar(today, pa.date32())))
    provinces = pa.array(sorted(PROVINCE_CODES))
    province_ok = pc.is_in(pc.utf8_slice_codeunits(up, 0, 2), value_set=provinces)
    ok = pc.and_(pc.and_(shape_ok, check_ok), pc.and_(birth_ok, province_ok))
    return pc.fill_null(ok, False)


def normalize_subject_id(subject_id: str) -> str:
    """Ids are compared upper-cased and without surrounding blanks."""
    return subject_id.strip().upper()


def is_valid_subject_id(subject_id: str, today: dt.date | None = None) -> bool:
    """Single-id form of :func:`valid_subject_ids`."""
    mask = valid_subject_ids(pa.array([subject_id]), today or dt.date.today())
    return bool(mask[0].as_py())
