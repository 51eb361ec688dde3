"""Resident ids for the synthetic city: valid 18-character ids, mostly of Suzhou districts.

The ids pass the same checks as real ones (area code, birth date, check digit), so the city can
be ingested through the ordinary validation rather than a test-only path.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from guihua.core.id_columns import check_characters

SUZHOU_AREAS = [
    "320505",
    "320506",
    "320507",
    "320508",
    "320509",
    "320571",
    "320581",
    "320582",
    "320583",
    "320585",
]
OTHER_AREAS = ["110105", "310115", "340104", "410105", "510107", "420106", "330106", "370102"]


def resident_ids(rng: np.random.Generator, n: int, as_of: dt.date) -> np.ndarray:
    """``n`` unique, valid 18-character ids: real area codes, real birth dates, check digits."""
    ids: np.ndarray = np.array([], dtype="<U18")
    while len(ids) < n:
        need = int((n - len(ids)) * 1.05) + 10
        local = rng.random(need) < 0.85
        areas = np.where(local, rng.choice(SUZHOU_AREAS, need), rng.choice(OTHER_AREAS, need))
        age_days = rng.integers(18 * 365 + 5, 85 * 365, need)
        births = np.datetime64(as_of) - age_days.astype("timedelta64[D]")
        birth_txt = np.char.replace(np.datetime_as_string(births, unit="D"), "-", "")
        seq = np.char.zfill(rng.integers(0, 1000, need).astype(str), 3)
        first17 = np.char.add(np.char.add(areas, birth_txt), seq)
        digits = np.frombuffer("".join(first17.tolist()).encode(), dtype=np.uint8).reshape(need, 17) - 48
        check = check_characters(digits)
        ids = np.unique(np.concatenate([ids, np.char.add(first17, check)]))
    return rng.permutation(ids)[:n]
