"""Consent codes for perk checks (spec section 6) on both stores: one check, one provider, a few
minutes, a few wrong tries; only the resident makes one; making and spending are audited."""

from __future__ import annotations

import datetime as dt

import pytest

from guihua.core.catalog import Perk
from guihua.core.errors import Forbidden, InvalidInput, NotFound
from guihua.core.policy import Actor
from guihua.store import schema
from guihua.store.database import Store
from guihua.usecases import audit, catalogs, consents
from tests.helpers import subject

A, B = subject(1), subject(2)
ME = Actor("portal", "resident", subject_id=A)
LIBRARY = Actor("lib", "provider", provider="SZLIB")
BANK = Actor("bank", "provider", provider="SZBANK")


@pytest.fixture
def perk(store: Store, mini_catalog_text: str) -> Perk:
    text = mini_catalog_text.replace(
        'benefit: "60-day loans"}', 'benefit: "60-day loans", consent_required: true}'
    )
    catalogs.load_catalog(store, text)
    _, catalog = catalogs.active(store)
    return catalog.perk_by_code["library_long_loan"]


def test_a_code_serves_one_check_by_the_perks_provider(store: Store, perk: Perk) -> None:
    made = consents.give(store, ME, A, "library_long_loan")
    assert made.provider == "SZLIB" and made.minutes == consents.CONSENT_MINUTES
    assert made.check_url.endswith(f"/api/v1/perks/library_long_loan/eligibility/{A}?consent={made.code}")
    assert not consents.redeem(store, BANK, A, perk, made.code)  # not its provider: untouched
    assert not consents.redeem(store, LIBRARY, B, perk, made.code)  # not for another resident
    assert consents.redeem(store, LIBRARY, A, perk, made.code.lower())
    assert not consents.redeem(store, LIBRARY, A, perk, made.code)  # spent
    with store.begin() as conn:
        row = conn.execute(schema.consent_codes.select()).one()
    assert row.used_by == "lib" and made.code.replace("-", "") not in row.code_hash
    trail = [(e["account"], e["action"]) for e in reversed(audit.entries(store, A))]
    assert trail[-2:] == [("portal", "consent.give"), ("lib", "consent.use")]


def test_wrong_tries_and_time_end_a_code(store: Store, perk: Perk, monkeypatch: pytest.MonkeyPatch) -> None:
    made = consents.give(store, ME, A, "library_long_loan")
    for _ in range(consents.MAX_ATTEMPTS):
        assert not consents.redeem(store, LIBRARY, A, perk, "ZZZZ-ZZZZ")
    assert not consents.redeem(store, LIBRARY, A, perk, made.code)
    late = consents.give(store, ME, A, "library_long_loan")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=consents.CONSENT_MINUTES, seconds=1)
    monkeypatch.setattr(consents, "now", lambda: later)
    assert not consents.redeem(store, LIBRARY, A, perk, late.code)


def test_only_the_resident_gives_consent_and_only_where_it_is_needed(store: Store, perk: Perk) -> None:
    with pytest.raises(Forbidden):
        consents.give(store, Actor("desk", "service_desk"), A, "library_long_loan")
    with pytest.raises(Forbidden):
        consents.give(store, Actor("portal", "resident", subject_id=B), A, "library_long_loan")
    assert [e["outcome"] for e in audit.entries(store, A) if e["action"] == "consent.give"] == [
        "refused",
        "refused",
    ]
    with pytest.raises(InvalidInput):
        consents.give(store, ME, A, "civilization_loan")
    with pytest.raises(NotFound):
        consents.give(store, ME, A, "no_such_perk")
    assert [p.code for p in consents.consent_perks(store)] == ["library_long_loan"]
