"""Departments' feeds: what each submission carried, its quality warnings, alerts and their outbox.

Submissions get the day they were received (``received_on``, in the scheme's zone;
older rows the day of ``received_at`` in Asia/Shanghai, the default zone, as 0007
did for records), whether they were a reviewer's correction (``due_process``;
older ones are told by their origin, ``objection N``) and their quality warnings
(JSON). ``submission_metrics`` counts per submission and metric the valid rows and
those dated long before the submission (older submissions have none: their
volumes were never counted); ``submission_rejects`` counts rows refused per reason, with the
submission's department and day (older submissions get theirs from the quarantine's links, 0009). An index by
(department, received_on) lets the feed status read only submissions.
``department_contacts``, ``feed_episodes``, ``feed_notices`` and ``feed_deliveries``
hold the alerts and the department's notices and their delivery.

Revision ID: 0010_feeds
Revises: 0009_submission_identity
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_feeds"
down_revision = "0009_submission_identity"
branch_labels = None
depends_on = None

_RECEIVED_ON = {
    "sqlite": "date(received_at, '+8 hours')",
    "postgresql": "(received_at AT TIME ZONE 'Asia/Shanghai')::date",
}


def upgrade() -> None:
    op.add_column("submissions", sa.Column("received_on", sa.Date, nullable=True))
    op.add_column(
        "submissions", sa.Column("due_process", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.add_column("submissions", sa.Column("warnings", sa.Text, nullable=True))
    dialect = op.get_bind().dialect.name
    op.execute(f"UPDATE submissions SET received_on = {_RECEIVED_ON[dialect]}")
    op.execute(
        sa.text("UPDATE submissions SET due_process = :yes WHERE origin LIKE 'objection %'").bindparams(
            sa.bindparam("yes", True, type_=sa.Boolean)
        )
    )
    op.create_index("ix_submissions_department", "submissions", ["department", "received_on"])
    op.create_table(
        "submission_metrics",
        sa.Column(
            "submission_id",
            sa.BigInteger,
            sa.ForeignKey("submissions.id"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("metric", sa.String(100), primary_key=True),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("old_rows", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "submission_rejects",
        sa.Column(
            "submission_id",
            sa.BigInteger,
            sa.ForeignKey("submissions.id"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("reason", sa.String(40), primary_key=True),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("received_on", sa.Date, nullable=False),
    )
    op.execute(
        "INSERT INTO submission_rejects (submission_id, reason, rows, department, received_on) "
        "SELECT l.submission_id, q.reason, COUNT(*), s.department, s.received_on FROM quarantine_refusals l "
        "JOIN quarantine q ON q.id = l.quarantine_id JOIN submissions s ON s.id = l.submission_id "
        "GROUP BY l.submission_id, q.reason, s.department, s.received_on"
    )
    op.create_table(
        "department_contacts",
        sa.Column("department", sa.String(64), primary_key=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "feed_episodes",
        sa.Column("id", _big_id(), primary_key=True, autoincrement=True),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("started_on", sa.Date, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("ended_on", sa.Date, nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ux_feed_episodes_open",
        "feed_episodes",
        ["department", "kind"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_table(
        "feed_notices",
        sa.Column("id", _big_id(), primary_key=True, autoincrement=True),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("episode_id", sa.BigInteger, sa.ForeignKey("feed_episodes.id"), nullable=True),
        sa.Column("submission_id", sa.BigInteger, sa.ForeignKey("submissions.id"), nullable=True),
        sa.Column("to_operators", sa.Boolean, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ux_feed_notices_dedupe", "feed_notices", ["dedupe_key"], unique=True)
    op.create_index("ix_feed_notices_department", "feed_notices", ["department"])
    op.create_table(
        "feed_deliveries",
        sa.Column("id", _big_id(), primary_key=True, autoincrement=True),
        sa.Column(
            "feed_notice_id",
            sa.BigInteger,
            sa.ForeignKey("feed_notices.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recipient", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ux_feed_deliveries_notice",
        "feed_deliveries",
        ["feed_notice_id", "channel", "recipient"],
        unique=True,
    )
    op.create_index("ix_feed_deliveries_due", "feed_deliveries", ["status", "next_attempt_at"])


def _big_id() -> sa.types.TypeEngine[int]:
    """As the schema's ids: INTEGER on SQLite (so it autoincrements), BIGINT on PostgreSQL."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def downgrade() -> None:
    for table in (
        "feed_deliveries",
        "feed_notices",
        "feed_episodes",
        "department_contacts",
        "submission_rejects",
        "submission_metrics",
    ):
        op.drop_table(table)
    op.drop_index("ix_submissions_department", "submissions")
    # plain DROP COLUMN (SQLite 3.35+): rebuilding a table would break the keys that point to it
    for column in ("received_on", "due_process", "warnings"):
        op.execute(f"ALTER TABLE submissions DROP COLUMN {column}")
