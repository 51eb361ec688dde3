"""Which record keys a submission has stored so far: a one-hash Bloom filter over Polars hashes.

When a department has no stored records, a key of a later chunk can only
have a stored version if an earlier chunk of the same submission stored it.
Asking the store about every key of every chunk (an index probe each) costs
more than the rest of classification; this filter, built and queried in
columns, leaves the store only the keys it may have seen (the ones it did see
and a few false positives), so the answer is exact and no slower to get.
"""

from __future__ import annotations

import numpy as np
import polars as pl

_MIN_BITS = 1 << 16
_MAX_BITS = 1 << 28  # 32 MiB: ~16M keys at ~6% false positives


class SeenKeys:
    """A set of keys that may answer "maybe" for a key it never saw, never "no" for one it did."""

    def __init__(self, expected: int) -> None:
        wanted = max(expected, 1) * 16  # 16 bits a key: about 6% false positives with one hash
        self._mask = np.uint64(min(max(1 << (wanted - 1).bit_length(), _MIN_BITS), _MAX_BITS) - 1)
        self._bits = np.zeros((int(self._mask) + 1) >> 3, dtype=np.uint8)

    def _slots(self, keys: pl.Series) -> tuple[np.ndarray, np.ndarray]:
        h = keys.hash(seed=0).to_numpy() & self._mask
        return (h >> np.uint64(3)).astype(np.intp), np.left_shift(1, h & np.uint64(7)).astype(np.uint8)

    def add(self, keys: pl.Series) -> None:
        byte, bit = self._slots(keys)
        np.bitwise_or.at(self._bits, byte, bit)

    def maybe(self, keys: pl.Series) -> pl.Series:
        """True where ``keys`` may have been added (always true where it was)."""
        byte, bit = self._slots(keys)
        return pl.Series(keys.name, (self._bits[byte] & bit) != 0)
