"""Work the service does on its own, on a schedule, while it runs (checkpoints, feed alerts).

Each job runs once at start and then every ``every`` seconds in a thread of its own, so a slow
one never holds a request; a failure is logged and the service keeps serving.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from guihua.core.errors import GuihuaError


@dataclass(frozen=True)
class Job:
    name: str  # the logger's name and what the log lines say
    every: float  # seconds between runs
    run: Callable[[], str]  # does the work; says in words what it did


def lifespan(jobs: list[Job]) -> Any:
    """A FastAPI lifespan that runs ``jobs`` on their schedules until the service stops."""

    @asynccontextmanager
    async def running(app: Any) -> AsyncIterator[None]:
        stop = threading.Event()
        workers = [threading.Thread(target=_loop, args=(job, stop), daemon=True) for job in jobs]
        for w in workers:
            w.start()
        try:
            yield
        finally:
            stop.set()
            for w in workers:
                w.join(10)

    return running


def _loop(job: Job, stop: threading.Event) -> None:
    log = logging.getLogger(job.name)
    while True:
        try:
            log.info("%s", job.run())
        except (GuihuaError, OSError) as exc:  # e.g. a broken trail is not signed: say so, keep serving
            log.error("not done: %s", getattr(exc, "message", exc))
        if stop.wait(job.every):
            return
