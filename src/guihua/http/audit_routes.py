"""The audit trail's signed checkpoint, for anyone to keep copies of (no token).

A checkpoint names no resident: the count of entries, the head hash, two times and the key id.
Copies kept by others are what makes truncating or rewriting the trail visible later
(``guihua audit verify --checkpoint FILE``).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from fastapi import APIRouter, Request

from guihua.http.auth import store_of
from guihua.kit import signing
from guihua.usecases import checkpoints

router = APIRouter(prefix="/api/v1", tags=["public"])


FRESH_FOR = 60.0  # seconds: signing walks the whole trail, so anonymous callers share one signature


@router.get("/audit/checkpoint")
def checkpoint(request: Request) -> dict[str, Any]:
    """The trail signed with the centre's Ed25519 key (``signing.pub`` verifies it), at most a
    minute old: the chain is walked whole before it is signed, once a minute however many ask."""
    state = request.app.state
    with _LOCK:
        made, signed = getattr(state, "checkpoint", (0.0, None))
        if signed is None or time.monotonic() - made > FRESH_FOR:
            signed = checkpoints.make(store_of(request), signing.load_or_create(state.key_dir)).as_dict()
            state.checkpoint = (time.monotonic(), signed)
    return dict(signed)


_LOCK = threading.Lock()
