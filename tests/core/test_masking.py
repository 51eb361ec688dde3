"""One masking rule: no resident id survives whole, however it is dressed."""

from __future__ import annotations

import urllib.parse

from hypothesis import given
from hypothesis import strategies as st

from guihua.core.ids import check_digit
from guihua.core.masking import mask_id, mask_text

SEVENTEEN = st.text("0123456789", min_size=17, max_size=17)
DRESS = st.sampled_from(
    ["", " ", "\t", "\n", "\u00a0", "%20", "%09", "%0A", "%C2%A0", "%2520", "x", "/", "="]
)


def _id(first17: str, lower: bool) -> str:
    sid = first17 + check_digit(first17)
    return sid.lower() if lower else sid


@given(SEVENTEEN, st.booleans(), DRESS, DRESS, st.text(max_size=20), st.text(max_size=20), st.booleans())
def test_no_id_survives_in_any_dress(
    first17: str, lower: bool, before: str, after: str, head: str, tail: str, encode: bool
) -> None:
    sid = _id(first17, lower)
    inner = urllib.parse.quote(sid) if encode else sid
    masked = mask_text(f"{head}{before}{inner}{after}{tail}")
    assert sid not in masked and sid.upper() not in masked


def test_masked_form_keeps_six_and_two() -> None:
    assert mask_id("330106198501136069") == "330106**********69"
    assert mask_text("GET /api/v1/subjects/%20330106198501136069/score") == (
        "GET /api/v1/subjects/ 330106**********69/score"
    )
    assert mask_text("no ids here: 12345") == "no ids here: 12345"
