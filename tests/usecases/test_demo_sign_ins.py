"""`make demo` prints a ready sign-in to the portal for each role (issue 15, item 5), and they work."""

from __future__ import annotations

from pathlib import Path

from guihua.store.database import open_store
from guihua.usecases import accounts, sign_in
from guihua.usecases.demo import build_demo, portal_sign_ins


def test_each_role_can_sign_in_with_what_the_demo_prints(tmp_path: Path) -> None:
    demo = build_demo(1_200, 1, str(tmp_path / "demo.db"))
    store = open_store(str(tmp_path / "demo.db"), create=False)
    try:
        ready = portal_sign_ins(store, demo.examples)
        roles = {s.role for s in ready}
        assert roles == {"service_desk", "reviewer", "department", "resident"}
        for s in ready:
            if s.token:
                account = accounts.authenticate(store, s.token)
                assert account is not None and account.role == s.role
            else:
                assert s.subject_id and s.code
                actor = sign_in.redeem(store, s.subject_id, s.code)
                assert actor is not None and actor.subject_id == s.subject_id
        residents = [s for s in ready if s.role == "resident"]
        assert len(residents) == 2  # above base, and a defaulter below it
    finally:
        store.dispose()
