"""Signed checkpoints of the audit trail, as Certificate Transparency's signed tree heads.

A hash chain shows an entry edited, removed or reordered in its middle, but not the newest
entries cut off, nor a trail rewritten from some entry on and re-chained to the end: whoever
holds the database can do either. A checkpoint is the count of entries and the head hash,
signed with the centre's Ed25519 key and kept *outside* the store (a file, a directory the
service writes to on a schedule, anyone's copy of ``GET /api/v1/audit/checkpoint``). A trail
that does not extend a checkpoint (fewer entries, or a different hash at its count) has been
truncated, rewritten or forked, and :func:`verify_against` says which.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from guihua.core.errors import CannotWrite, InvalidInput
from guihua.kit import signing
from guihua.kit.clock import now
from guihua.store import audit_queries
from guihua.store.database import Store
from guihua.usecases import audit

FORMAT = "guihua-audit-checkpoint/1"


@dataclass(frozen=True)
class Checkpoint:
    """What the trail was at a moment: ``entries`` entries ending in ``head``, signed."""

    entries: int
    head: str
    head_at: str  # the time of entry ``entries``: what comes after it cannot be older
    at: str  # when it was signed
    key_id: str
    signature: str = ""  # base64 of the Ed25519 signature over :meth:`signed_bytes`

    def signed_bytes(self) -> bytes:
        return json.dumps(self._body(), sort_keys=True, separators=(",", ":")).encode()

    def _body(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "entries": self.entries,
            "head": self.head,
            "head_at": self.head_at,
            "at": self.at,
            "key_id": self.key_id,
        }

    def as_dict(self) -> dict[str, Any]:
        return {**self._body(), "signature": self.signature}


def make(store: Store, key: signing.SigningKey) -> Checkpoint:
    """Sign the trail as it is now (its whole chain is verified first: a broken trail is not signed)."""
    state = audit.verify(store)
    if not state.intact:
        raise InvalidInput(
            f"the audit trail is broken at entry {state.broken_at} ({state.reason}): not signed"
        )
    with store.begin() as conn:
        head_at = audit_queries.time_at(conn, state.entries) if state.entries else None
    at = now().isoformat(timespec="microseconds")
    unsigned = Checkpoint(state.entries, state.head, head_at or "", at, key.key_id)
    signature = base64.b64encode(key.sign(unsigned.signed_bytes())).decode()
    return Checkpoint(state.entries, state.head, unsigned.head_at, at, key.key_id, signature)


def write(checkpoint: Checkpoint, out: Path) -> None:
    """Write a checkpoint file whole (a temporary file renamed): it is public, for anyone to keep."""
    data = json.dumps(checkpoint.as_dict(), indent=2).encode() + b"\n"
    try:
        signing.write_private(out, data, 0o644)  # public: anyone may keep a copy
    except OSError as exc:
        raise CannotWrite(f"cannot write {out}: {exc.strerror or exc}") from None


def read(path: Path) -> Checkpoint:
    """A checkpoint file, or a one-line error saying what is wrong with it."""
    try:
        raw = json.loads(path.read_bytes()[:100_000])
    except OSError as exc:
        raise InvalidInput(f"cannot read checkpoint {path}: {exc.strerror or exc}") from None
    except ValueError:
        raise InvalidInput(f"{path} is not a checkpoint: not JSON") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise InvalidInput(f"{path} is not a checkpoint: expected format {FORMAT!r}")
    try:
        return Checkpoint(
            int(raw["entries"]),
            str(raw["head"]),
            str(raw["head_at"]),
            str(raw["at"]),
            str(raw["key_id"]),
            str(raw["signature"]),
        )
    except (KeyError, TypeError, ValueError):
        raise InvalidInput(
            f"{path} is not a checkpoint: entries, head, at, key_id or signature missing"
        ) from None


@dataclass(frozen=True)
class Extension:
    """Whether the trail extends a checkpoint; ``problem`` names what does not hold."""

    holds: bool
    entries: int  # entries in the trail now
    checkpoint: Checkpoint
    problem: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "extends_checkpoint": self.holds,
            "entries": self.entries,
            "checkpoint": {
                "entries": self.checkpoint.entries,
                "head": self.checkpoint.head,
                "at": self.checkpoint.at,
            },
            "problem": self.problem or None,
        }


def verify_against(store: Store, checkpoint: Checkpoint, trusted: Ed25519PublicKey) -> Extension:
    """Does the trail (intact, as :func:`audit.verify` says) extend ``checkpoint``, signed by ``trusted``?"""
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
    except ValueError:
        signature = b""
    if signing.key_id(trusted) != checkpoint.key_id or not signing.verifies(
        trusted, signature, checkpoint.signed_bytes()
    ):
        return Extension(
            False, 0, checkpoint, "forged: the checkpoint's signature does not verify with the trusted key"
        )
    state = audit.verify(store)
    if state.entries < checkpoint.entries and state.intact:
        missing = checkpoint.entries - state.entries
        return Extension(
            False,
            state.entries,
            checkpoint,
            f"truncated: the checkpoint of {checkpoint.at} holds {checkpoint.entries} entries, the trail "
            f"{state.entries}: entries {state.entries + 1} to {checkpoint.entries} ({missing}) are missing",
        )
    with store.begin() as conn:
        at_count = audit_queries.hash_at(conn, checkpoint.entries) if checkpoint.entries else audit.GENESIS
        earliest = audit_queries.earliest_after(conn, checkpoint.entries)
    if checkpoint.entries and at_count is None:
        return Extension(
            False, state.entries, checkpoint, f"entry {checkpoint.entries} of the checkpoint is missing"
        )
    if (at_count or audit.GENESIS) != checkpoint.head:
        return Extension(
            False,
            state.entries,
            checkpoint,
            f"rewritten or forked: entry {checkpoint.entries} is not the one the checkpoint of "
            f"{checkpoint.at} signed (the trail was changed at or before it and re-chained)",
        )
    if not state.intact:
        return Extension(
            False, state.entries, checkpoint, f"broken at entry {state.broken_at}: {state.reason}"
        )
    if earliest is not None and checkpoint.head_at and _older(earliest[1], checkpoint.head_at):
        return Extension(
            False,
            state.entries,
            checkpoint,
            f"backdated: entry {earliest[0]}, after the checkpoint, is dated {earliest[1][:19]}, before "
            f"entry {checkpoint.entries} it follows ({checkpoint.head_at[:19]}): appended since, dated back",
        )
    return Extension(True, state.entries, checkpoint)


_CLOCK_SLACK = dt.timedelta(seconds=60)  # a clock stepped back a little is not a forgery


def _older(later: str, earlier: str) -> bool:
    """Is ``later`` (an entry after the checkpoint) more than the clock's slack before ``earlier``?"""
    try:
        return dt.datetime.fromisoformat(later) < dt.datetime.fromisoformat(earlier) - _CLOCK_SLACK
    except ValueError:
        return True  # a time that does not even parse was not written by Guihua


def keep(store: Store, key: signing.SigningKey, folder: Path) -> Path:
    """Sign the trail and keep it in ``folder`` (outside the store): one file per checkpoint and
    ``latest.json``; the service calls this on a schedule."""
    folder.mkdir(parents=True, exist_ok=True)
    signed = make(store, key)
    stamp = signed.at[:19].replace(":", "").replace("-", "")
    path = folder / f"checkpoint-{stamp}-{signed.entries}.json"
    write(signed, path)
    write(signed, folder / "latest.json")
    return path
