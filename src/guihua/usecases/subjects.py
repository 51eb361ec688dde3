"""Subject ids as every use case accepts them."""

from __future__ import annotations

from guihua.core.errors import InvalidInput
from guihua.core.ids import is_valid_subject_id, normalize_subject_id
from guihua.kit.clock import today


def check_subject(subject_id: str) -> str:
    """A normalised subject id, or an error saying what a valid one looks like."""
    sid = normalize_subject_id(subject_id)
    if not is_valid_subject_id(sid, today()):
        raise InvalidInput(
            f"invalid subject id {subject_id!r}: expected an 18-character resident identity number "
            "(17 digits and a matching check digit 0-9 or X, a real birth date, a known province code)"
        )
    return sid
