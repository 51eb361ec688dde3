"""Prohibited attributes (spec section 2): data no catalog or department may collect."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable

PROHIBITED: frozenset[str] = frozenset(
    [
        "religion",
        "religious_belief",
        "ethnicity",
        "genetic",
        "genetics",
        "dna",
        "biometric",
        "fingerprint",
        "face",
        "facial",
        "iris",
        "voiceprint",
        "blood_type",
        "medical",
        "medical_history",
        "health",
        "diagnosis",
        "sexual_orientation",
        "political",
        "political_opinion",
    ]
)

_SPLIT = re.compile(r"[_\- ]+")


def name_terms(name: str) -> set[str]:
    """The whole name, each token and each two adjacent tokens joined by ``_``."""
    lowered = name.lower()
    tokens = [t for t in _SPLIT.split(lowered) if t]
    terms = {lowered, *tokens}
    terms.update(f"{a}_{b}" for a, b in itertools.pairwise(tokens))
    return terms


def is_prohibited(name: str, extra: Iterable[str] = ()) -> bool:
    """True when ``name`` is a prohibited attribute under the spec's tokenisation.

    ``extra`` holds a catalog's additional terms; it can add, never remove.
    """
    terms = PROHIBITED | {e.lower() for e in extra}
    return not name_terms(name).isdisjoint(terms)
