"""Resident ids never whole in a log line or an error: one masking rule for every output.

An id is masked wherever it appears, in any form the service would accept: with whitespace
around it, a lower-case check letter, percent-encoded (``%20330106...``, ``%C2%A0``, even
twice), or full-width digits. Masking errs on the side of hiding: any run of 17 or more digits
(with a check letter or not) is masked, whatever else it might have been.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

# 17 or more digits (any script's digits: \\d is Unicode-aware), then perhaps the check letter
_RUN = re.compile(r"\d{17,}[Xx]?")
_ENCODED = re.compile(r"%[0-9A-Fa-f]{2}")


def mask_id(subject_id: str | None) -> str | None:
    """A resident id as logs show it: the first 6 and the last 2 characters, the rest starred."""
    if not subject_id:
        return subject_id
    return subject_id[:6] + "*" * max(0, len(subject_id) - 8) + subject_id[-2:]


def mask_text(text: str) -> str:
    """``text`` with every resident id in it masked, percent-encoded forms decoded first."""
    decoded = text
    for _ in range(3):  # %2520 is %20 encoded again; three rounds undo what a client may stack
        if not _ENCODED.search(decoded):
            break
        decoded = unquote(decoded, errors="replace")
    return _RUN.sub(lambda m: mask_id(m.group()) or "", decoded)
