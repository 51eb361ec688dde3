"""A perk that requires the resident's consent (spec section 6): its provider learns nothing without it.

Consent codes are made by the resident on the portal (issue 15); until a check
carries one, the eligibility endpoint refuses such a perk (audited), while the
resident and the counter still see the resident's own eligibility.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from guihua.core.policy import Actor
from guihua.http.service import create_app
from guihua.store.database import Store
from guihua.usecases import accounts, audit, catalogs, scores
from tests.helpers import D, subject

A = subject(1)


def test_a_consent_perk_is_refused_to_its_provider_without_consent(
    store: Store, mini_catalog_text: str
) -> None:
    text = mini_catalog_text.replace(
        'benefit: "60-day loans"}', 'benefit: "60-day loans", consent_required: true}'
    )
    catalogs.load_catalog(store, text)
    admin = Actor("admin", "admin")
    library = accounts.create(store, admin, "provider", "lib", provider="SZLIB")
    bank = accounts.create(store, admin, "provider", "bank", provider="SZBANK")
    with TestClient(create_app(store)) as c:
        refused = c.get(
            f"/api/v1/perks/library_long_loan/eligibility/{A}", headers={"Authorization": f"Bearer {library}"}
        )
        allowed = c.get(
            f"/api/v1/perks/civilization_loan/eligibility/{A}", headers={"Authorization": f"Bearer {bank}"}
        )
    assert refused.status_code == 403 and "consent" in refused.json()["detail"]
    assert allowed.status_code == 200 and allowed.json()["eligible"] is True  # base 100, clean
    entries = [e for e in audit.entries(store, A) if e["action"] == "perk.eligibility"]
    assert [e["outcome"] for e in entries] == ["refused"]
    _, mine = scores.perks(store, A, D("2026-06-30"))  # eligibility itself does not change
    assert {p.perk: p.eligible for p in mine} == {"library_long_loan": False, "civilization_loan": True}
