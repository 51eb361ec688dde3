"""The demo: a synthetic city ingested into a fresh store, reported and explained."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.compute as pc

from guihua.core.results import Distribution
from guihua.kit.clock import today
from guihua.schemes import load_default_catalog
from guihua.store.database import Store, open_store, resolve_url
from guihua.usecases import manifests, scores


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


@dataclass(frozen=True)
class Example:
    """A resident the demo explains (above base, below base), or why the city has none."""

    label: str  # "above" or "below"
    subject_id: str | None
    note: str  # why there is none, when subject_id is None


@dataclass(frozen=True)
class Demo:
    """What the demo built: the store, the city's size, its distribution and two residents."""

    db: str
    people: int
    departments: int
    distribution: Distribution
    examples: list[Example]

    def as_dict(self) -> dict[str, Any]:
        return {
            "db": self.db,
            "people": self.people,
            "departments": self.departments,
            "distribution": self.distribution.as_dict(),
            "examples": [vars(e) for e in self.examples],
        }


def build_demo(
    people: int,
    seed: int,
    db: str,
    on_synth: Callable[[int], None] | None = None,
    on_file: Callable[[manifests.ManifestEntry, int, int], None] | None = None,
) -> Demo:
    """Build ``db`` afresh from a city of ``people`` and find what the scheme says about it."""
    url = resolve_url(db)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        city = path.parent / "city"
    else:
        city = Path("demo/city")
    manifest = synth_city(people, seed, city, None, on_synth)
    store = open_store(db)
    load = manifests.load_manifest(store, city / "manifest.json", on_file=on_file)
    if load.failed:  # a city just written always loads; if not, say what stopped it (of the same kind)
        failed = load.failed
        raise type(failed.exc)(f"the demo city did not load: {failed.entry.file}: {failed.error}")
    distribution = scores.distribution(store)
    return Demo(db, people, len(manifest), distribution, _examples(store, people, distribution.base))


def _examples(store: Store, people: int, base: int) -> list[Example]:
    """One resident above base and one below (a defaulter); if the city has none, why."""
    from guihua.synth.city import MIN_DEFAULTERS_CITY

    residents = f"{people:,} resident{'' if people == 1 else 's'}"
    few = f" (a synthetic city has defaulters from {MIN_DEFAULTERS_CITY:,} residents)"
    table = scores.all_scores(store, today())
    found = []
    for label, mask, none in (
        (
            "above",
            pc.greater(table.column("score"), base),
            f"No resident is above base in this city of {residents} (about one in eight is drawn there)",
        ),
        (
            "below",
            pc.less(table.column("score"), base),
            f"No resident is below base in this city of {residents}: no defaulter to explain"
            + (few if people < MIN_DEFAULTERS_CITY else ""),
        ),
    ):
        chosen = table.filter(mask)
        sid = chosen.column("subject_id")[0].as_py() if chosen.num_rows else None
        found.append(Example(label, sid, "" if sid else none))
    return found


@dataclass(frozen=True)
class DemoSignIn:
    """A ready sign-in to the portal on the demo store: who, as which role, and how."""

    role: str
    who: str
    token: str | None = None  # staff: the account's bearer token (the demo store's own, local)
    code: str | None = None  # residents: a code printed at the counter, valid for its minutes
    subject_id: str | None = None


DEMO_DEPARTMENT = "TRAFFIC"


def portal_sign_ins(store: Store, examples: list[Example]) -> list[DemoSignIn]:
    """Accounts for a service desk, a reviewer and a department clerk, and counter codes for the
    demo's residents, so that each role's pages can be tried at once (``make demo``)."""
    from guihua.usecases import accounts, audit, sign_in

    admin = audit.cli_actor()
    out = []
    for role, name, department in (
        ("service_desk", "demo-desk", None),
        ("reviewer", "demo-reviewer", None),
        ("department", "demo-traffic-clerk", DEMO_DEPARTMENT),
    ):
        token = accounts.create(store, admin, role, name, department=department, valid_days=30)
        out.append(DemoSignIn(role, name, token=token))
    desk = accounts.authenticate(store, out[0].token or "")
    assert desk is not None
    for e in examples:
        if e.subject_id is not None:
            printed = sign_in.counter_code(store, desk.actor, e.subject_id)
            out.append(
                DemoSignIn(
                    "resident", f"a resident {e.label} base", code=printed.code, subject_id=e.subject_id
                )
            )
    return out
