"""The tamper suite: every way of changing the audit trail fails against a signed checkpoint.

A trail is written, a checkpoint signed, then the trail is changed as an insider with the
database would change it (SQL straight on the table, re-chaining hashes where that hides the
change from the chain alone). Each case must fail ``verify_against``, naming what it found,
on SQLite and PostgreSQL; untouched trails and honest appends must pass.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from guihua.core.policy import Actor
from guihua.kit import signing
from guihua.store.database import Store
from guihua.usecases import audit, checkpoints
from tests.helpers import run, subject

CLERK = Actor("desk-3", "service_desk")
N = 150


def _rechain(store: Store, start: int) -> None:
    """Recompute every hash from entry ``start`` on, as a forger hiding an edit would."""
    with store.begin() as conn:
        rows = conn.execute(
            text("SELECT * FROM audit_log WHERE seq >= :s ORDER BY seq"), {"s": start}
        ).mappings()
        rows = [dict(r) for r in rows]
        prev = conn.execute(text("SELECT hash FROM audit_log WHERE seq = :p"), {"p": start - 1}).scalar()
        prev = prev or audit.GENESIS
        for row in rows:
            fields = {f: row[f] for f in audit.FIELDS}
            new = audit.entry_hash(prev, fields)
            conn.execute(
                text("UPDATE audit_log SET prev_hash = :p, hash = :h WHERE seq = :s"),
                {"p": prev, "h": new, "s": row["seq"]},
            )
            prev = new


def _sql(statement: str, **params: object) -> Callable[[Store], None]:
    def change(store: Store) -> None:
        with store.begin() as conn:
            conn.execute(text(statement), params)

    return change


def _edit_and_rechain(store: Store) -> None:
    _sql("UPDATE audit_log SET purpose = 'routine' WHERE seq = 40")(store)
    _rechain(store, 40)


def _truncate_and_regrow(store: Store) -> None:
    """Cut off the last 10 entries, then append 10 honest-looking ones: same count, new head."""
    _sql(f"DELETE FROM audit_log WHERE seq > {N - 10}")(store)
    for _ in range(10):
        audit.record(store, CLERK, "subject.score", subject_id=subject(2))


def _append_backdated(store: Store) -> None:
    with store.begin() as conn:
        head = conn.execute(text("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")).one()
        fields = {
            "seq": head.seq + 1,
            "at": "2020-01-01T00:00:00.000000+00:00",
            "account": "desk-3",
            "role": "service_desk",
            "action": "subject.score",
            "subject_id": subject(1),
            "purpose": "backdated",
            "outcome": "ok",
            "detail": None,
        }
        row = {**fields, "prev_hash": head.hash, "hash": audit.entry_hash(head.hash, fields)}
        conn.execute(
            text(
                "INSERT INTO audit_log (seq, at, account, role, action, subject_id, purpose, outcome, detail, "
                "prev_hash, hash) VALUES (:seq, :at, :account, :role, :action, :subject_id, :purpose, :outcome, "
                ":detail, :prev_hash, :hash)"
            ),
            row,
        )


def _swap(store: Store) -> None:
    """Entries 40 and 41 change places (their numbers swapped through a spare one)."""
    for a, b in ((40, -1), (41, 40), (-1, 41)):
        _sql("UPDATE audit_log SET seq = :b WHERE seq = :a", a=a, b=b)(store)


TAMPERING: dict[str, tuple[Callable[[Store], None], str]] = {
    "edit": (_sql("UPDATE audit_log SET purpose = 'routine' WHERE seq = 40"), "changed"),
    "delete one": (_sql("DELETE FROM audit_log WHERE seq = 40"), "missing"),
    "reorder": (_swap, "follow"),
    "truncate 1": (_sql(f"DELETE FROM audit_log WHERE seq > {N - 1}"), "truncated"),
    "truncate 10": (_sql(f"DELETE FROM audit_log WHERE seq > {N - 10}"), "truncated"),
    "truncate 100": (_sql(f"DELETE FROM audit_log WHERE seq > {N - 100}"), "truncated"),
    "empty": (_sql("DELETE FROM audit_log"), "truncated"),
    "edit re-chained": (_edit_and_rechain, "rewritten or forked"),
    "truncate and regrow": (_truncate_and_regrow, "rewritten or forked"),
    "append backdated": (_append_backdated, "backdated"),
}


@pytest.fixture
def signed(store: Store, tmp_path: Path) -> tuple[Store, signing.SigningKey, checkpoints.Checkpoint]:
    for i in range(N):
        audit.record(store, CLERK, "subject.score", subject_id=subject(i % 7 + 1), purpose=f"enquiry {i}")
    key = signing.load_or_create(tmp_path / "keys")
    return store, key, checkpoints.make(store, key)


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_every_tampering_fails_against_a_checkpoint(signed, case: str) -> None:
    store, key, checkpoint = signed
    change, words = TAMPERING[case]
    change(store)
    found = checkpoints.verify_against(store, checkpoint, key.public)
    assert not found.holds, case
    assert words in found.problem, found.problem


def test_an_untouched_trail_and_honest_appends_extend_it(signed) -> None:
    store, key, checkpoint = signed
    assert checkpoints.verify_against(store, checkpoint, key.public).holds
    audit.record(store, CLERK, "subject.explain", subject_id=subject(3), purpose="later")
    later = checkpoints.verify_against(store, checkpoint, key.public)
    assert later.holds and later.entries == N + 1


def test_a_checkpoint_signed_by_another_key_is_refused(signed, tmp_path: Path) -> None:
    store, _, checkpoint = signed
    other = signing.load_or_create(tmp_path / "other")
    forged = checkpoints.make(store, other)
    found = checkpoints.verify_against(store, forged, signing.load_or_create(tmp_path / "keys").public)
    assert not found.holds and "forged" in found.problem
    altered = checkpoints.Checkpoint(
        N - 5, checkpoint.head, checkpoint.head_at, checkpoint.at, checkpoint.key_id, checkpoint.signature
    )
    assert "forged" in checkpoints.verify_against(store, altered, other.public).problem


def test_the_cli_signs_and_checks_a_checkpoint(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "g.db"
    assert run("init", db=db).returncode == 0
    for i in range(3):
        assert run("score", subject(i + 1), "--purpose", "counter", db=db).returncode == 0
    out = tmp_path / "cp.json"
    made = run("audit", "checkpoint", "--out", str(out), "--json", db=db)
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["entries"] == json.loads(out.read_text())["entries"] >= 3
    ok = run("audit", "verify", "--checkpoint", str(out), "--json", db=db)
    assert ok.returncode == 0 and json.loads(ok.stdout)["extends_checkpoint"] is True
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)")
    cut = run("audit", "verify", "--checkpoint", str(out), db=db)
    assert cut.returncode == 1
    assert "does not extend the checkpoint: truncated" in cut.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    refused = run("audit", "verify", "--checkpoint", str(bad), db=db)
    assert refused.returncode == 2 and "is not a checkpoint" in refused.stderr
    _ = dt  # the module's datetime is for readers of the backdated case
