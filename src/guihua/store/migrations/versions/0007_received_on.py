"""Spec version 2: the day each record version was received, the day of a retraction, superseded rows.

A penalty now starts at ``max(occurred_at, received_on) + notice_days``
(spec section 4), so every version needs the day it was accepted. Older rows
get the day of their submission's ``received_at`` and their stored penalty
dates move by the days the record arrived late; ``retracted_on`` is the day of
``retracted_at``. Both are days in Asia/Shanghai, the default ``scheme.timezone``
(a migration cannot read the catalog; a store on another zone re-derives the
penalty dates when its catalog is next loaded, the days received stay).
Submissions count the rows they superseded themselves (a key sent twice).

Revision ID: 0007_received_on
Revises: 0006_lean_notices
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_received_on"
down_revision = "0006_lean_notices"
branch_labels = None
depends_on = None

_SQLITE = {
    "received": "(SELECT date(s.received_at, '+8 hours') FROM submissions s "
    "WHERE s.id = records.submission_id)",
    "retracted": "date(retracted_at, '+8 hours')",
    "late": "CAST(julianday(received_on) - julianday(occurred_at) AS INTEGER)",
    "shift": "date({col}, '+' || {late} || ' days')",
    "year": "CAST(strftime('%Y', start_date) AS INTEGER)",
}
_POSTGRESQL = {
    "received": "(SELECT (s.received_at AT TIME ZONE 'Asia/Shanghai')::date FROM submissions s "
    "WHERE s.id = records.submission_id)",
    "retracted": "(retracted_at AT TIME ZONE 'Asia/Shanghai')::date",
    "late": "(received_on - occurred_at)",
    "shift": "({col} + {late})",
    "year": "CAST(EXTRACT(YEAR FROM start_date) AS INTEGER)",
}


def upgrade() -> None:
    op.add_column("records", sa.Column("received_on", sa.Date, nullable=True))
    op.add_column("records", sa.Column("retracted_on", sa.Date, nullable=True))
    op.add_column("submissions", sa.Column("superseded", sa.BigInteger, nullable=False, server_default="0"))
    sql = _POSTGRESQL if op.get_bind().dialect.name == "postgresql" else _SQLITE
    op.execute(f"UPDATE records SET received_on = {sql['received']}")
    op.execute(f"UPDATE records SET retracted_on = {sql['retracted']} WHERE retracted_at IS NOT NULL")
    late = sql["late"]
    start, end = (sql["shift"].format(col=c, late=late) for c in ("start_date", "end_date"))
    op.execute(
        f"UPDATE records SET start_date = {start}, end_date = {end} "
        f"WHERE points < 0 AND received_on > occurred_at"
    )
    op.execute(f"UPDATE records SET start_year = {sql['year']} WHERE points < 0 AND start_date IS NOT NULL")


def downgrade() -> None:
    # plain DROP COLUMN (SQLite 3.35+): rebuilding a table would break the keys that point to it
    for table, column in (
        ("records", "received_on"),
        ("records", "retracted_on"),
        ("submissions", "superseded"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
