"""Subject ids (spec section 3): GB 11643-1999, checked against python-stdnum as an outside oracle."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from guihua.core.ids import PROVINCE_CODES, check_digit, is_valid_subject_id

TODAY = dt.date(2026, 6, 30)
births = st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY)
provinces = st.sampled_from(sorted(PROVINCE_CODES))
rest = st.from_regex(r"[0-9]{4}", fullmatch=True)
sequence = st.from_regex(r"[0-9]{3}", fullmatch=True)


def make(province: str, area: str, birth: dt.date, seq: str) -> str:
    first17 = f"{province}{area}{birth:%Y%m%d}{seq}"
    return first17 + check_digit(first17)


@given(provinces, rest, births, sequence)
def test_well_formed_ids_are_valid_and_check_digit_agrees_with_stdnum(p, area, birth, seq) -> None:
    sid = make(p, area, birth, seq)
    assert is_valid_subject_id(sid, TODAY)
    assert is_valid_subject_id(sid.lower(), TODAY)  # compared upper-cased
    assert ric.calc_check_digit(sid) == sid[17]  # stdnum takes the whole number


@given(provinces, rest, births, sequence, st.integers(0, 17), st.sampled_from("0123456789X"))
def test_any_single_character_change_is_refused(p, area, birth, seq, pos, char) -> None:
    sid = make(p, area, birth, seq)
    changed = sid[:pos] + char + sid[pos + 1 :]
    if changed != sid:
        assert not is_valid_subject_id(changed, TODAY)


def test_refusals() -> None:
    good = make("32", "0508", dt.date(1985, 3, 12), "123")
    assert is_valid_subject_id(good, TODAY)
    assert not is_valid_subject_id(good[:-1], TODAY)  # 17 characters
    assert not is_valid_subject_id(good + "1", TODAY)  # 19 characters
    assert not is_valid_subject_id(make("99", "0508", dt.date(1985, 3, 12), "123"), TODAY)  # no province 99
    assert not is_valid_subject_id(make("10", "0508", dt.date(1985, 3, 12), "123"), TODAY)
    future = make("32", "0508", dt.date(2026, 7, 1), "123")
    assert not is_valid_subject_id(future, TODAY)  # born after today
    first17 = "320508" + "19850230" + "123"  # 30 February
    assert not is_valid_subject_id(first17 + check_digit(first17), TODAY)
    assert not is_valid_subject_id("", TODAY)
    assert not is_valid_subject_id("32050819850312123" + "Y", TODAY)
    assert is_valid_subject_id(" " + good + " ", TODAY)  # surrounding blanks are trimmed


@given(
    st.one_of(
        st.text(max_size=20),
        st.from_regex(r"[0-9]{17}[0-9Xx]", fullmatch=True),
        provinces.flatmap(lambda p: st.builds(make, st.just(p), rest, births, sequence)),
    )
)
def test_scalar_and_columnar_forms_agree(value: str) -> None:
    import polars as pl

    from guihua.core.id_columns import valid_subject_id

    frame = pl.DataFrame({"id": [value]}, schema={"id": pl.String})
    columnar = bool(frame.select(valid_subject_id(pl.col("id"), TODAY)).item())
    assert is_valid_subject_id(value, TODAY) == columnar
