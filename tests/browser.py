"""Debian's Chromium driven by Playwright, one per test session (per xdist worker), for every test.

The portal's journeys (tests/e2e) and the documents' layout checks (tests/documents) share it:
Playwright's sync API allows one instance per thread, so a second ``sync_playwright()`` while the
session's is open fails ("Sync API inside the asyncio loop"). The fixtures are registered in
tests/conftest.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

CHROMIUM = Path(os.environ.get("GUIHUA_CHROMIUM", "/usr/bin/chromium"))

# What this machine's Chromium needs: headless, no sandbox (root), and none of its own traffic
# (updates, sync, field trials), which the closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def unavailable(reason: str) -> NoReturn:
    """Skip with ``reason``; under CI=true fail instead (a test that needs a component runs there)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser tests must run; `make test` sets them up)")
    pytest.skip(f"{reason}; `make test` sets it up")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed in .venv")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"Chromium is not at {CHROMIUM} (Debian's package chromium)")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Any) -> Iterator[Any]:
    """One Chromium for the session (Debian's, never a downloaded one)."""
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
