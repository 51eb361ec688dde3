"""Days in the scheme's time zone (spec section 3): "today" is not the server's date."""

from __future__ import annotations

import datetime as dt

import pytest

from guihua.core.catalog_parsing import parse_catalog
from guihua.core.errors import CatalogRefused
from guihua.kit.clock import day_in, today

# 2026-06-30 17:30 UTC is already 2026-07-01 in Suzhou (UTC+8), still 2026-06-30 in Lisbon
EVENING_UTC = dt.datetime(2026, 6, 30, 17, 30, tzinfo=dt.UTC)


def test_today_is_the_day_in_the_scheme_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GUIHUA_TODAY")
    assert today("Asia/Shanghai", EVENING_UTC) == dt.date(2026, 7, 1)
    assert today("Europe/Lisbon", EVENING_UTC) == dt.date(2026, 6, 30)
    assert today(instant=EVENING_UTC) == dt.date(2026, 7, 1)  # the default zone is Asia/Shanghai
    assert day_in(EVENING_UTC.replace(tzinfo=None)) == dt.date(2026, 7, 1)  # a naive moment is UTC


def test_guihua_today_fixes_the_day_whatever_the_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUIHUA_TODAY", "2026-01-02")
    assert today("Pacific/Kiritimati", EVENING_UTC) == today("America/Adak") == dt.date(2026, 1, 2)


def test_the_catalog_names_a_known_zone(mini_catalog_text: str) -> None:
    assert parse_catalog(mini_catalog_text).scheme.timezone == "Asia/Shanghai"
    text = mini_catalog_text.replace(
        "max_points_per_record: 50}", "max_points_per_record: 50, timezone: Europe/Lisbon}"
    )
    assert parse_catalog(text).scheme.timezone == "Europe/Lisbon"
    with pytest.raises(CatalogRefused, match="timezone 'Mars/Olympus' is not a known time zone"):
        parse_catalog(
            mini_catalog_text.replace(
                "max_points_per_record: 50}", "max_points_per_record: 50, timezone: Mars/Olympus}"
            )
        )


def test_a_perk_may_require_consent(mini_catalog_text: str) -> None:
    text = mini_catalog_text.replace(
        'benefit: "60-day loans"}', 'benefit: "60-day loans", consent_required: true}'
    )
    perks = parse_catalog(text).perk_by_code
    assert perks["library_long_loan"].consent_required and not perks["civilization_loan"].consent_required
