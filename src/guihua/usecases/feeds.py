"""Departments' feeds: submissions listed, feed status per department, quality warnings, alerts.

Everything here reads the submissions and their per-submission counts, never the
records (:mod:`guihua.store.submission_queries`), so it answers at once on any city.
The rules (overdue, failing, the warnings and their thresholds) are
:mod:`guihua.core.feeds`'s.

- At ingest, :func:`after_submission` keeps what a submission carried (rows per metric,
  rejects per reason) and its quality warnings, and makes the department's notice of them.
- :func:`check_alerts` opens an episode when a feed becomes overdue or failing (one alert
  notice to the department and the operators, through the outbox) and closes it when the
  feed has recovered; a new episode after that alerts again. ``guihua notices deliver``
  runs it before every run, ``guihua feeds --alert`` on its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from guihua.core import feeds as rules
from guihua.core.catalog import Catalog
from guihua.core.errors import InvalidInput, NotFound
from guihua.core.feeds import ALERT_KINDS, WINDOW_DAYS, Feed, FeedFigures
from guihua.core.policy import Actor
from guihua.kit.clock import now, today
from guihua.store import feed_alert_queries, submission_queries
from guihua.store.catalog_queries import active_catalog
from guihua.store.database import Store
from guihua.usecases import audit

if TYPE_CHECKING:
    from guihua.usecases.pipeline import IngestResult

MAX_LIMIT = 10_000


# --------------------------------------------------------------------------- at ingest


def after_submission(
    conn: Connection, catalog: Catalog, result: IngestResult, day: dt.date, due_process: bool
) -> None:
    """Keep what the submission carried; for a department's own submission, its quality warnings
    (in ``result.warnings``, on the submission, and in a notice to the department)."""
    sub, department = result.submission_id, result.department
    if due_process:  # a reviewer's correction is due process, not the department's feed
        submission_queries.put_counts(conn, sub, department, day, result.rows_by_metric, {})
        return
    submission_queries.put_counts(
        conn, sub, department, day, result.rows_by_metric, result.rejected_by_reason
    )
    carried = submission_queries.metrics_carried_lately(conn, department, sub, rules.VOLUME_MIN_HISTORY)
    metrics = sorted(set(result.rows_by_metric) | carried)
    history = submission_queries.volume_history(conn, department, sub, metrics, rules.VOLUME_LOOKBACK)
    first = submission_queries.earlier_submissions(conn, department, sub) == 0
    found = rules.quality_warnings(result.rows_by_metric, result.corrected, history, carried, first)
    if not found:
        return
    result.warnings = [w.as_dict() for w in found]
    submission_queries.set_warnings(conn, sub, result.warnings)
    title, body = rules.quality_text(catalog.department_by_code[department], sub, day, found)
    feed_alert_queries.create_notice(
        conn,
        department=department,
        kind="quality",
        submission_id=sub,
        to_operators=False,
        title=title,
        body=body,
        dedupe_key=f"quality:{sub}",
        created_at=now(),
    )


# --------------------------------------------------------------------------- reads


def list_submissions(store: Store, department: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Submissions, newest first (``department``: only its own), with rejects by reason and warnings."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit {limit} is out of range: give 1 to {MAX_LIMIT}")
    with store.begin() as conn:
        if department is not None:
            _known(active_catalog(conn).catalog, department)
        return submission_queries.list_submissions(conn, department, limit)


def _known(catalog: Catalog, department: str) -> None:
    if department not in catalog.department_by_code:
        known = ", ".join(sorted(catalog.department_by_code)) or "none"
        raise NotFound(f"unknown department {department!r}; the catalog has: {known}")


def feed_status(
    store: Store, at: dt.date | None = None, department: str | None = None
) -> tuple[dt.date, list[Feed]]:
    """Every department of the active catalog (or one) and its feed on ``at`` (default today)."""
    with store.begin() as conn:
        catalog = active_catalog(conn).catalog
        if department is not None:
            _known(catalog, department)
        day = at or today(catalog.scheme.timezone)
        found = _feeds(conn, catalog, day)
    return day, [f for f in found if department is None or f.department == department]


def _feeds(conn: Connection, catalog: Catalog, day: dt.date) -> list[Feed]:
    figures = submission_queries.feed_figures(conn, day, WINDOW_DAYS)
    opened = feed_alert_queries.open_episodes(conn)
    return [
        rules.feed(
            d,
            day,
            figures.get(d.code, FeedFigures()),
            [k for k in ALERT_KINDS if (d.code, k) in opened],
        )
        for d in catalog.departments
    ]


def feed_notices(store: Store, department: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """What departments (or one) were told about their feeds, newest first, with delivery states."""
    with store.begin() as conn:
        rows = feed_alert_queries.notices(conn, department, limit)
    for r in rows:
        r["created_at"] = str(r["created_at"])[:19]
    return rows


# --------------------------------------------------------------------------- alerts


@dataclass
class AlertCheck:
    """What one check did: episodes opened (each with its alert) and closed (the feed recovered)."""

    at: dt.date
    opened: list[dict[str, Any]] = field(default_factory=list)
    closed: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "opened": self.opened, "closed": self.closed}


def check_alerts(store: Store, at: dt.date | None = None, actor: Actor | None = None) -> AlertCheck:
    """Open an episode (and its alert) for each feed now overdue or failing that has none open; close
    the open episodes of feeds that recovered. Each change is audited; running it again changes nothing."""
    actor = actor or audit.cli_actor()
    with store.begin() as conn:
        catalog = active_catalog(conn).catalog
        day = at or today(catalog.scheme.timezone)
        check = AlertCheck(day)
        opened = feed_alert_queries.open_episodes(conn)
        moment = now()
        for f in _feeds(conn, catalog, day):
            dept = catalog.department_by_code[f.department]
            trouble = rules.troubles(f)
            for kind in ALERT_KINDS:
                episode = opened.get((f.department, kind))
                if kind in trouble and episode is None:
                    detail = trouble[kind]
                    eid = feed_alert_queries.open_episode(conn, f.department, kind, day, moment, detail)
                    if eid is None:
                        continue  # another check opened it meanwhile
                    title, body = rules.alert_text(kind, dept, detail, day)
                    notice = feed_alert_queries.create_notice(
                        conn,
                        department=f.department,
                        kind=kind,
                        episode_id=eid,
                        to_operators=True,
                        title=title,
                        body=body,
                        dedupe_key=f"episode:{eid}",
                        created_at=moment,
                    )
                    audit.append(conn, actor, "feed.alert", detail=f"episode {eid}: {kind}: {detail}")
                    check.opened.append(
                        {
                            "episode": eid,
                            "department": f.department,
                            "kind": kind,
                            "notice": notice,
                            "detail": detail,
                        }
                    )
                elif kind not in trouble and episode is not None:
                    _close(conn, actor, check, f.department, kind, int(episode.id), moment)
        for (department, kind), episode in opened.items():  # a department the catalog no longer has
            if department not in catalog.department_by_code:
                _close(conn, actor, check, department, kind, int(episode.id), moment)
    return check


def _close(
    conn: Connection, actor: Actor, check: AlertCheck, department: str, kind: str, eid: int, at: dt.datetime
) -> None:
    """The feed recovered: the episode ends (the next trouble is a new episode, with a new alert)."""
    if feed_alert_queries.close_episode(conn, eid, check.at, at):
        detail = f"episode {eid}: {department} no longer {kind} on {check.at}"
        audit.append(conn, actor, "feed.recovered", detail=detail)
        check.closed.append({"episode": eid, "department": department, "kind": kind})
