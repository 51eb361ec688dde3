"""The demo: a synthetic city ingested into a fresh store, reported and explained."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.compute as pc

from guihua.kit.clock import today
from guihua.schemes import load_default_catalog
from guihua.store.database import open_store, resolve_url
from guihua.usecases import scores, submissions


def synth_city(
    people: int,
    seed: int,
    out: Path,
    as_of: dt.date | None,
    on_progress: Callable[[int], None] | None = None,
) -> list[dict[str, str]]:
    from guihua.synth.city import generate_city

    out.mkdir(parents=True, exist_ok=True)
    manifest: list[dict[str, str]] = generate_city(
        load_default_catalog(), people, seed, out, as_of or today(), on_progress
    )
    return manifest


def run_demo(people: int, seed: int, db: str, progress: Callable[[], Any], render: Any) -> None:
    """Build ``db`` afresh from a city of ``people`` and show what the scheme says about it."""
    url = resolve_url(db)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        city = path.parent / "city"
    else:
        city = Path("demo/city")
    with progress() as bar:
        task = bar.add_task("synthesising residents", total=people)
        manifest = synth_city(people, seed, city, None, lambda n: bar.advance(task, n))
    store = open_store(db)
    with progress() as bar:
        task = bar.add_task("ingesting department files", total=len(manifest))
        for entry in manifest:
            bar.update(task, description=f"ingesting {entry['department']}")
            submissions.ingest_file(store, city / entry["file"], entry["department"])
            bar.advance(task)
    render.console.print(f"Demo store {db}: {people:,} residents from {len(manifest)} departments\n")
    render.distribution(scores.distribution(store))
    table = scores.all_scores(store, today())
    base = 100
    for label, mask in (
        ("above", pc.greater(table.column("score"), base)),
        ("below", pc.less(table.column("score"), base)),
    ):
        chosen = table.filter(mask)
        if chosen.num_rows:
            sid = chosen.column("subject_id")[0].as_py()
            render.console.print(f"\n[bold]A resident {label} base[/]: guihua explain {sid} --db {db}")
            render.explanation(scores.explain(store, sid))
